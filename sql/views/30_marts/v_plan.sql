-- v_plan: one row per segment of the latest plan (of a run that neither failed nor was interrupted):
-- what moves where, in which wave, for how much.
with
latest as (
    select max(p.run_id) as run_id
    from plan as p
    left join runs as r using (run_id)
    where coalesce(r.status, 'ok') not in ('failed', 'interrupted') and r.scenario is null   -- not what-ifs
),

final as (
    select
        p.run_id,
        p.segment_id,
        p.workload,
        p.workload_kind,
        p.sensitivity,
        p.mode,
        p.action,
        p.wave,
        p.deployment_id,
        p.risk,
        p.current_monthly_cost_usd,
        p.chosen_monthly_cost_usd,
        p.monthly_savings_usd,
        p.one_time_cost_usd,
        p.stay_reasons
    from plan_segments as p
    join latest as l on l.run_id = p.run_id
)

select * from final
order by wave nulls last, current_monthly_cost_usd desc nulls last, segment_id
