-- plan_diff_assumptions: assumptions whose value changed between the two runs (added or removed too).
with
a as (select key, value, unit from assumptions where run_id = $from_run),

b as (select key, value, unit from assumptions where run_id = $to_run)

select
    coalesce(b.key, a.key) as key,
    a.value as "from",
    b.value as "to",
    coalesce(b.unit, a.unit) as unit
from a
full outer join b on a.key = b.key
where a.value is distinct from b.value
order by 1
