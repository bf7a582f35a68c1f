-- plan_runs: runs with a plan, oldest first, leaving out runs that failed or were interrupted afterwards
-- (a run still running is the one being reported by the nightly job); scenario runs (`analyze --scenario`,
-- `--set-assumption`, ...) are marked so the defaults ("the latest plan") can skip them.
select p.run_id, r.scenario
from plan as p
left join runs as r using (run_id)
where coalesce(r.status, 'ok') not in ('failed', 'interrupted')
order by p.run_id
