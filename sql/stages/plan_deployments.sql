-- plan_deployments: one row per shared fleet with every wave live at today's volume, and the volume
-- multiple at which the fleet alone (with the platform's fixed costs) starts to beat the API bill it replaces.
insert into plan_deployments
with
full_plan as (
    select *
    from plan_scenarios
    where deployment_id is not null
      and multiplier = 1
      and waves_live = (select max(waves_live) from plan_scenarios)
),

per_replica as (
    -- load replicas L at today's volume; cost of a fleet with n load replicas (n + spare in all)
    select
        d.deployment_id,
        d.load_replicas,
        d.api_cost_replaced_usd,
        unnest(range(1, cast(ceil(d.load_replicas * $crossover_max_multiplier) as bigint) + 2)) as n,
        d.spare_replicas,
        d.gpus_per_replica,
        d.gpu_month_usd,
        d.labor_cost_usd
    from full_plan as d
    where d.load_replicas > 0 and d.api_cost_replaced_usd > 0
),

candidates as (
    select
        deployment_id,
        n,
        cast(load_replicas as double) as l,
        cast(api_cost_replaced_usd as double) as a,
        cast((n + spare_replicas) * gpus_per_replica * gpu_month_usd + labor_cost_usd
             + ((n + spare_replicas) * gpus_per_replica + $gpus_per_node - 1) // $gpus_per_node
               * cast($observability_per_node_usd as decimal(38, 10))
             + cast($observability_fixed_usd as decimal(38, 10)) as double) as c
    from per_replica
),

crossover as (
    -- within (n-1)/L < k <= n/L the fleet costs c; it wins from k = c / a if that lies in the interval
    select deployment_id, min(greatest((n - 1) / l, c / a)) as k
    from candidates
    where c / a <= n / l
    group by all
),

final as (
    select
        $run_id as run_id,
        d.deployment_id,
        d.model,
        d.gpu,
        d.gpus_per_replica,
        d.load_replicas,
        d.spare_replicas,
        d.replicas,
        d.gpus,
        d.nodes,
        d.gpu_month_usd,
        d.gpu_cost_usd,
        d.labor_cost_usd,
        d.observability_cost_usd,
        d.monthly_cost_usd,
        d.api_cost_replaced_usd,
        d.api_cost_replaced_usd - d.monthly_cost_usd as monthly_savings_usd,
        case when c.k <= $crossover_max_multiplier then cast(round(c.k, 4) as decimal(18, 4)) end as crossover_volume,
        (select max(i.max_model_len) from plan_input as i where list_contains(d.segment_ids, i.segment_id))
            as max_model_len,
        d.first_wave,
        d.segments,
        d.segment_ids
    from full_plan as d
    left join crossover as c using (deployment_id)
)

select * from final
