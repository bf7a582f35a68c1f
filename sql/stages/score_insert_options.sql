-- score_insert_options: rows computed by planner.score, registered as score_options_new.
insert into segment_options by name
select
    run_id,
    segment_id,
    option,
    provider,
    model,
    gpu,
    gpus,
    replicas,
    cast(monthly_cost_usd as decimal(38, 10)) as monthly_cost_usd,
    feasible,
    reasons,
    overflow_share,
    cast(details as json) as details
from score_options_new
