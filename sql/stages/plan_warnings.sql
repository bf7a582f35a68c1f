-- plan_warnings: one line per thing the plan's reader must know (printed on stderr, listed in plan.json).
insert into plan_warnings
with
lines as (
    select 0 as ord, 'missing' as k,
           'nothing to plan yet: no segments in this run (nothing ingested, or nothing segmented)' as line
    where not exists (select 1 from segments where run_id = $run_id)
    union all
    select 1, deployment_id,
           'deployment ' || deployment_id || ' costs more per month than the API bill it replaces ('
           || cast(round(-monthly_savings_usd, 2) as varchar) || ' USD); its segments only pay off together with the rest of the plan' as line
    from plan_deployments
    where run_id = $run_id and monthly_savings_usd < 0
    union all
    select 2, 'labor', cast(count(*) as varchar) || ' self-hosted segment(s) had no labour cost in segment_options.details; '
           || 'plan.fallback_labor_usd was used'
    from plan_input as i
    join plan_segments as p on p.segment_id = i.segment_id and p.run_id = $run_id
    where p.action in ('self_host', 'hybrid') and i.labor_fallback
    having count(*) > 0
    union all
    select 3, 'unscored', cast(count(*) as varchar) || ' segment(s) were not scored and stay on their current API'
    from plan_input
    where not scored
    having count(*) > 0
    union all
    select 5, p.segment_id, 'segment ' || p.segment_id || ' carries regulated data but is planned onto a third-party API'
    from plan_segments as p
    where p.run_id = $run_id and p.action = 'open_model_api' and p.sensitivity = 'regulated'
    union all
    select 5, p.segment_id, 'segment ' || p.segment_id || ' carries regulated data and overflows to '
           || coalesce(i.overflow_provider, 'its current API') || ' (a sensitivity rule allows third-party use)'
    from plan_segments as p
    join plan_input as i using (segment_id)
    where p.run_id = $run_id and p.action = 'hybrid' and p.sensitivity = 'regulated'
    union all
    select 6, segment_id, 'segment ' || segment_id || ' stays on its API but would save '
           || cast(round(monthly_savings_usd, 2) as varchar) || ' USD a month on deployment ' || deployment_id
           || ', which the plan builds anyway (see portfolio.opportunities)'
    from plan_opportunities
    where run_id = $run_id
    union all
    select 4, 'sensitivity', cast(count(*) as varchar) || ' moving segment(s) have unknown sensitivity; they are planned as confidential'
    from plan_segments as p
    join plan_input as i using (segment_id)
    where p.run_id = $run_id and p.action <> 'stay' and i.sensitivity is null
    having count(*) > 0
)

select $run_id as run_id, row_number() over (order by ord, k) as ord, line from lines
