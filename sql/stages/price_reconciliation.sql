-- price_reconciliation: the v_reconciliation rows whose variance is over the threshold ($max_ratio of billed
-- cost, and at least $min_abs dollars), days first, biggest gaps first.
select *
from v_reconciliation
where priced_cost_usd is not null
    and billed_cost_usd is not null
    and abs(priced_cost_usd - billed_cost_usd) >= $min_abs
    and (billed_cost_usd = 0 or abs(variance_ratio) > $max_ratio)
order by grain, abs(variance_usd) desc, provider, period_start
