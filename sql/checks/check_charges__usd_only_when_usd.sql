-- check_charges__usd_only_when_usd: billed_cost_usd is the billed cost of USD lines only; no other currency
-- is ever converted with an assumed rate.
select charge_id, source_id, source_row, currency, billed_cost, billed_cost_usd
from charges
where (currency = 'USD' and billed_cost_usd is distinct from billed_cost)
    or (currency is distinct from 'USD' and billed_cost_usd is not null)
