-- v_segment_options: grain = segment x option, for the latest finished run that scored segments.
-- What each segment would cost four ways, which option was chosen, and the difference to today.
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
        o.run_id,
        o.segment_id,
        o.option,
        o.provider,
        o.model,
        o.gpu,
        o.gpus,
        o.replicas,
        o.monthly_cost_usd,
        o.feasible,
        o.reasons,
        s.decision,
        s.chosen_option = o.option as chosen,
        s.current_monthly_cost_usd,
        o.monthly_cost_usd - s.current_monthly_cost_usd as monthly_change_usd
    from segment_options as o
    inner join latest on o.run_id = latest.run_id
    left join segment_scores as s on s.run_id = o.run_id and s.segment_id = o.segment_id
)

select * from final
