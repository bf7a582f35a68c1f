-- check_charges__unique_charge: a billed line counts once, however often its period is re-exported.
select charge_id, count(*) as copies
from charges
group by charge_id
having count(*) > 1
