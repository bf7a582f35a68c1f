-- report_scenarios: the base plan ($run_id) and up to $max_scenarios scenario runs made on it (scenario runs
-- after it and before the next base plan, latest first), side by side: headline figures, the decisions and
-- the assumptions each scenario changed (origin scenario or flag). A scenario run reported itself compares
-- with its base plan. Grain: one row per run.
with
runs_ok as (
    select p.run_id, r.scenario
    from plan as p
    left join runs as r using (run_id)
    where coalesce(r.status, 'ok') not in ('failed', 'interrupted')
),

base as (
    -- the reported run if it is a base plan, else the base plan before it
    select coalesce(
        (select run_id from runs_ok where run_id = $run_id and scenario is null),
        (select max(run_id) from runs_ok where run_id < $run_id and scenario is null)
    ) as run_id
),

next_base as (
    select min(o.run_id) as run_id from runs_ok as o, base as b where o.scenario is null and o.run_id > b.run_id
),

picked as (
    select o.run_id, o.scenario, 0 as position
    from runs_ok as o join base as b using (run_id)
    union all
    select run_id, scenario, position from (
        select o.run_id, o.scenario, row_number() over (order by o.run_id desc) as position
        from runs_ok as o, base as b, next_base as n
        where o.scenario is not null and o.run_id > b.run_id and (n.run_id is null or o.run_id < n.run_id)
    )
    where position <= $max_scenarios
),

changed as (
    select run_id, list({'key': key, 'value': value, 'origin': origin} order by key) as changes
    from assumptions
    where run_id in (select run_id from picked) and origin in ('scenario', 'flag')
    group by run_id
),

decisions as (
    select run_id, list({'segment_id': segment_id, 'action': action} order by segment_id) as actions
    from plan_segments
    where run_id in (select run_id from picked)
    group by run_id
),

final as (
    select
        k.position,
        k.run_id,
        k.scenario,
        p.current_monthly_cost_usd,
        p.plan_monthly_cost_usd,
        p.monthly_savings_usd,
        p.one_time_cost_usd,
        p.breakeven_month,
        p.segments_moving,
        p.segments_staying,
        p.deployments,
        p.gpus,
        p.overflow_api_cost_usd,
        c.changes,
        d.actions
    from picked as k
    join plan as p using (run_id)
    left join changed as c using (run_id)
    left join decisions as d using (run_id)
)

select * from final order by position
