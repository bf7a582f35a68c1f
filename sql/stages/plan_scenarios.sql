-- plan_scenarios: the portfolio's costs for every (waves live, volume multiplier): segments moving to
-- self-hosting share one fleet per deployment (model x GPU x GPUs per replica): their design-peak loads
-- add up, the HA spare and the labour are counted once per deployment, observability per node. Hybrid
-- segments add their base fleet (whole replicas, no spare) to the deployment and their overflow to one
-- line per API provider and model (priced once there, as k x the segments' overflow cost: at k x volume
-- with k x the fleet the overflow share is the same).
-- Grain: one row per waves-live cutoff x multiplier x (deployment | other-API movers | overflow provider);
-- kind = 'fleet', 'api' or 'overflow'.
create or replace temp table plan_scenarios as
with
movers as (
    select p.*, i.gpus_per_replica, i.load_replicas, i.spare_replicas, i.gpu_month_usd, i.labor_cost_usd,
           i.sh_model, i.sh_gpu, i.overflow_provider, i.overflow_model, i.overflow_cost_usd
    from plan_segments as p
    join plan_input as i using (segment_id)
    where p.run_id = $run_id and p.action <> 'stay'
),

cutoffs as (
    select distinct wave as waves_live from movers
),

multipliers as (
    select distinct unnest(cast($multipliers as decimal(18, 4)[])) as multiplier
),

live as (
    select c.waves_live, m.multiplier, v.*
    from cutoffs as c
    cross join multipliers as m
    join movers as v on v.wave <= c.waves_live
),

fleet as (
    select
        waves_live,
        multiplier,
        deployment_id,
        any_value(sh_model) as model,
        any_value(sh_gpu) as gpu,
        max(gpus_per_replica) as gpus_per_replica,
        multiplier * sum(load_replicas) as load_replicas,
        max(spare_replicas) as spare_replicas,
        max(gpu_month_usd) as gpu_month_usd,
        max(labor_cost_usd) as labor_cost_usd,
        -- a hybrid segment's fleet replaces its bill less what still overflows to the API
        cast(multiplier * sum(current_monthly_cost_usd - coalesce(overflow_cost_usd, 0)) as decimal(38, 10))
            as api_cost_replaced_usd,
        count(*) as segments,
        list(segment_id order by segment_id) as segment_ids,
        min(wave) as first_wave
    from live
    where action in ('self_host', 'hybrid')
    group by waves_live, multiplier, deployment_id
),

sized as (
    select
        *,
        greatest(cast(ceil(load_replicas) as integer), 1) + spare_replicas as replicas
    from fleet
),

costed as (
    select
        *,
        replicas * gpus_per_replica as gpus,
        (replicas * gpus_per_replica + $gpus_per_node - 1) // $gpus_per_node as nodes
    from sized
),

deployments as (
    select
        waves_live,
        multiplier,
        deployment_id,
        model,
        gpu,
        gpus_per_replica,
        load_replicas,
        spare_replicas,
        replicas,
        gpus,
        nodes,
        gpu_month_usd,
        cast(gpus * gpu_month_usd as decimal(38, 10)) as gpu_cost_usd,
        labor_cost_usd,
        cast(nodes * cast($observability_per_node_usd as decimal(38, 10)) as decimal(38, 10)) as observability_cost_usd,
        api_cost_replaced_usd,
        segments,
        segment_ids,
        first_wave
    from costed
),

other_api as (
    select
        waves_live,
        multiplier,
        cast(null as varchar) as deployment_id,
        cast(multiplier * sum(chosen_monthly_cost_usd) as decimal(38, 10)) as monthly_cost_usd,
        cast(multiplier * sum(current_monthly_cost_usd) as decimal(38, 10)) as api_cost_replaced_usd,
        count(*) as segments,
        list(segment_id order by segment_id) as segment_ids
    from live
    where action not in ('self_host', 'hybrid')
    group by waves_live, multiplier
),

overflow as (
    select
        waves_live,
        multiplier,
        cast(null as varchar) as deployment_id,
        overflow_provider,
        overflow_model,
        cast(multiplier * sum(overflow_cost_usd) as decimal(38, 10)) as monthly_cost_usd,
        cast(multiplier * sum(overflow_cost_usd) as decimal(38, 10)) as api_cost_replaced_usd,
        count(*) as segments,
        list(segment_id order by segment_id) as segment_ids
    from live
    where action = 'hybrid'
    group by waves_live, multiplier, overflow_provider, overflow_model
),

final as (
    select
        'fleet' as kind,
        waves_live, multiplier, deployment_id, model, gpu, gpus_per_replica, load_replicas, spare_replicas,
        replicas, gpus, nodes, gpu_month_usd, gpu_cost_usd, labor_cost_usd, observability_cost_usd,
        gpu_cost_usd + labor_cost_usd + observability_cost_usd as monthly_cost_usd,
        api_cost_replaced_usd, segments, segment_ids, first_wave
    from deployments
    union all by name
    select 'api' as kind, * from other_api
    union all by name
    select 'overflow' as kind, * from overflow
)

select * from final
