-- report_segments: one row per segment of the run with its score and what the plan does with it,
-- ordered by today's monthly cost (largest first).
select
    s.*,
    sc.decision,
    sc.chosen_option,
    sc.monthly_savings_usd,
    sc.breakeven_months,
    sc.one_time_cost_usd,
    cast(sc.flips as varchar) as flips_json,
    cast(sc.breakeven_map as varchar) as breakeven_map_json,
    sc.reasons,
    p.action,
    p.wave,
    p.deployment_id,
    p.risk,
    p.risk_score,
    p.risk_reasons,
    p.stay_reasons,
    p.current_monthly_cost_usd
from segments as s
left join segment_scores as sc on sc.run_id = s.run_id and sc.segment_id = s.segment_id
left join plan_segments as p on p.run_id = s.run_id and p.segment_id = s.segment_id
where s.run_id = $run_id
order by p.current_monthly_cost_usd desc nulls last, s.segment_id
