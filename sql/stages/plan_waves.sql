-- plan_waves: one row per wave; monthly_savings_usd is the portfolio's saving once waves 1..wave are
-- live (shared fleets and fixed costs included), incremental_savings_usd what this wave adds.
insert into plan_waves
with
portfolio as (
    select
        waves_live,
        sum(api_cost_replaced_usd) - sum(monthly_cost_usd)
            - case when count(deployment_id) > 0 then cast($observability_fixed_usd as decimal(38, 10)) else 0 end
            as monthly_savings_usd
    from plan_scenarios
    where multiplier = 1
    group by all
),

members as (
    select
        wave,
        count(*) as segments,
        list(segment_id order by monthly_savings_usd desc, segment_id) as segment_ids,
        sum(current_monthly_cost_usd) as moved_api_cost_usd,
        sum(one_time_cost_usd) as one_time_cost_usd,
        max(risk_score) as max_risk,
        bool_or(action = 'self_host') as has_self_host,
        bool_or(action = 'api_optimized') as has_api_optimized,
        bool_or(action = 'open_model_api') as has_open_api,
        string_agg(distinct deployment_id, ', ' order by deployment_id) as deployments
    from plan_segments
    where run_id = $run_id and action <> 'stay'
    group by all
),

final as (
    select
        $run_id as run_id,
        m.wave,
        case
            when m.wave = 1 and m.has_self_host and m.has_api_optimized then 'Pilot and API quick wins'
            when m.wave = 1 and m.has_self_host then 'Pilot'
            when m.wave = 1 and m.segments = (select count(*) from plan_segments
                                              where run_id = $run_id and action = 'api_optimized') then 'API quick wins'
            when m.max_risk <= 1 then 'Low-risk segments'
            when m.max_risk <= 3 then 'Medium-risk segments'
            else 'High-risk segments'
        end as name,
        case when m.max_risk <= 1 then 'low' when m.max_risk <= 3 then 'medium' else 'high' end as risk,
        (m.wave - 1) * $wave_interval_months as start_month,
        m.segments,
        m.segment_ids,
        m.moved_api_cost_usd,
        m.one_time_cost_usd,
        p.monthly_savings_usd,
        p.monthly_savings_usd - coalesce(lag(p.monthly_savings_usd) over (order by m.wave), 0) as incremental_savings_usd,
        concat_ws('; ',
            case when m.wave = 1 and m.has_self_host
                then 'the lowest-risk, highest-volume self-hosted segment proves the deployment first' end,
            case when m.has_api_optimized then 'API-side optimisations need no new infrastructure' end,
            case when m.has_open_api then 'open-weight models on API providers need an evaluation, no fleet' end,
            case when m.deployments is not null then 'fleets: ' || m.deployments end
        ) as rationale
    from members as m
    join portfolio as p on p.waves_live = m.wave
)

select * from final
