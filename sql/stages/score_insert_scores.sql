-- score_insert_scores: rows computed by planner.score, registered as score_scores_new.
insert into segment_scores by name
select
    run_id,
    segment_id,
    decision,
    chosen_option,
    cast(monthly_savings_usd as decimal(38, 10)) as monthly_savings_usd,
    breakeven_months,
    cast(one_time_cost_usd as decimal(38, 10)) as one_time_cost_usd,
    cast(flips as json) as flips,
    reasons,
    cast(current_monthly_cost_usd as decimal(38, 10)) as current_monthly_cost_usd,
    cast(chosen_monthly_cost_usd as decimal(38, 10)) as chosen_monthly_cost_usd,
    decision_gpu_only,
    cast(monthly_savings_gpu_only_usd as decimal(38, 10)) as monthly_savings_gpu_only_usd,
    confidence,
    cast(breakeven_map as json) as breakeven_map
from score_scores_new
