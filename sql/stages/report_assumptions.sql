-- report_assumptions: every assumption in effect for the run, with unit and source.
select key, value, unit, source, origin
from assumptions
where run_id = $run_id
order by key
