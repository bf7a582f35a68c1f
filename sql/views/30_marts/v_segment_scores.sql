-- v_segment_scores: grain = segment, for the latest finished run that scored segments.
-- The decision, what it saves, when it pays back, and what would flip it.
with
finished as (
    select s.run_id
    from segment_scores as s
    inner join runs as r on r.run_id = s.run_id
    where r.status in ('ok', 'findings') and r.scenario is null     -- scenario runs are what-ifs, not the latest
),

latest as (
    select max(run_id) as run_id from finished
),

final as (
    select
        s.run_id,
        s.segment_id,
        s.decision,
        s.chosen_option,
        s.current_monthly_cost_usd,
        s.chosen_monthly_cost_usd,
        s.monthly_savings_usd,
        s.one_time_cost_usd,
        s.breakeven_months,
        s.decision_gpu_only,
        s.monthly_savings_gpu_only_usd,
        s.confidence,
        s.reasons,
        s.flips
    from segment_scores as s
    inner join latest on s.run_id = latest.run_id
)

select * from final
