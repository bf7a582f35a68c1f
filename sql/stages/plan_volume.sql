-- plan_volume: what-if volumes with every wave live: the API bill the moved segments would run up at
-- k x today's volume against the plan's cost at k x (fleets resized, fixed costs once). One row per
-- scope ('portfolio', or a deployment alone with the platform's fixed costs) x multiplier.
insert into plan_volume
with
full_plan as (
    select * from plan_scenarios where waves_live = (select max(waves_live) from plan_scenarios)
),

portfolio as (
    select
        'portfolio' as scope,
        multiplier,
        sum(api_cost_replaced_usd) as api_cost_usd,
        sum(monthly_cost_usd)
            + case when count(deployment_id) > 0 then cast($observability_fixed_usd as decimal(38, 10)) else 0 end
            as plan_cost_usd
    from full_plan
    group by all
),

deployments as (
    select
        deployment_id as scope,
        multiplier,
        api_cost_replaced_usd as api_cost_usd,
        monthly_cost_usd + cast($observability_fixed_usd as decimal(38, 10)) as plan_cost_usd
    from full_plan
    where deployment_id is not null
),

final as (
    select $run_id as run_id, scope, multiplier, api_cost_usd, plan_cost_usd, api_cost_usd - plan_cost_usd as savings_usd
    from (select * from portfolio union all select * from deployments)
)

select * from final
