-- plan_diff_headline: the two runs' plan rows side by side, with their price snapshot dates.
select
    case when p.run_id = $from_run then 'from' else 'to' end as side,
    p.*,
    r.price_snapshot_date,
    r.config_hash
from plan as p
left join runs as r using (run_id)
where p.run_id in ($from_run, $to_run)
order by side
