-- report_run: the run's row (version, price snapshot, config hash).
select run_id, command, started_at, finished_at, status, planner_version, price_snapshot_date, config_hash
from runs
where run_id = $run_id
