-- plan_headline: the plan's one row. Break-even month: the first month from which the cumulative net
-- stays >= 0; past the horizon it is extrapolated at the full plan's monthly saving; NULL when never.
insert into plan
with
segs as (
    select * from plan_segments where run_id = $run_id
),

full_plan as (
    select * from plan_scenarios
    where multiplier = 1 and waves_live = (select max(waves_live) from plan_scenarios)
),

money as (
    select
        coalesce(sum(api_cost_replaced_usd), 0) as moved_api_cost_usd,
        coalesce(sum(monthly_cost_usd) filter (where deployment_id is not null), 0) as self_host_cost_usd,
        coalesce(sum(monthly_cost_usd) filter (where kind = 'api'), 0) as other_api_cost_usd,
        coalesce(sum(monthly_cost_usd) filter (where kind = 'overflow'), 0) as overflow_api_cost_usd,
        case when count(deployment_id) > 0 then cast($observability_fixed_usd as decimal(38, 10))
             else cast(0 as decimal(38, 10)) end as fixed_cost_usd,
        count(deployment_id) as deployments,
        coalesce(sum(gpus), 0) as gpus
    from full_plan
),

cash as (
    select
        max(month) filter (where cumulative_usd < 0) as last_negative,
        max(month) as horizon,
        arg_max(cumulative_usd, month) as final_cumulative
    from plan_cashflow
    where run_id = $run_id
),

volume as (
    select multiplier, savings_usd from plan_volume where run_id = $run_id and scope = 'portfolio'
),

final as (
    select
        $run_id as run_id,
        (select count(*) from segs) as segments_total,
        (select count(*) from segs where action <> 'stay') as segments_moving,
        (select count(*) from segs where action = 'stay') as segments_staying,
        (select sum(current_monthly_cost_usd) from segs) as current_monthly_cost_usd,
        m.moved_api_cost_usd,
        m.self_host_cost_usd,
        m.other_api_cost_usd,
        m.fixed_cost_usd,
        m.self_host_cost_usd + m.other_api_cost_usd + m.overflow_api_cost_usd + m.fixed_cost_usd
            as plan_monthly_cost_usd,
        m.moved_api_cost_usd
            - (m.self_host_cost_usd + m.other_api_cost_usd + m.overflow_api_cost_usd + m.fixed_cost_usd)
            as monthly_savings_usd,
        (select coalesce(sum(monthly_savings_usd), 0) from segs where action <> 'stay') as standalone_savings_usd,
        (select coalesce(sum(one_time_cost_usd), 0) from segs where action <> 'stay') as one_time_cost_usd,
        case
            when (select count(*) from segs where action <> 'stay') = 0 then null
            when c.final_cumulative >= 0 then coalesce(c.last_negative, 0) + 1
            when m.moved_api_cost_usd
                 - (m.self_host_cost_usd + m.other_api_cost_usd + m.overflow_api_cost_usd + m.fixed_cost_usd) > 0
                then c.horizon + cast(ceil(-c.final_cumulative
                     / (m.moved_api_cost_usd
                        - (m.self_host_cost_usd + m.other_api_cost_usd + m.overflow_api_cost_usd + m.fixed_cost_usd)))
                     as integer)
        end as breakeven_month,
        $horizon_months as horizon_months,
        (select savings_usd from volume where multiplier = 1) as savings_1x_usd,
        (select savings_usd from volume where multiplier = 3) as savings_3x_usd,
        (select savings_usd from volume where multiplier = 5) as savings_5x_usd,
        m.deployments,
        m.gpus,
        m.overflow_api_cost_usd
    from money as m, cash as c
)

select * from final
