-- plan_opportunities: staying segments whose feasible self-hosted option uses the model x GPU of a planned
-- deployment, priced at the marginal cost of the replicas (and GPU nodes) they would add to it.
insert into plan_opportunities
with
stays as (
    select i.*, i.sh_model || '@' || i.sh_gpu || 'x' || i.gpus_per_replica as deployment_id
    from plan_input as i
    join plan_segments as p on p.segment_id = i.segment_id and p.run_id = $run_id
    where p.action = 'stay' and i.scored and i.sh_feasible and i.current_cost_usd is not null
      and i.load_replicas is not null
),

joined as (
    select
        s.segment_id,
        d.deployment_id,
        s.current_cost_usd,
        d.replicas,
        d.nodes,
        d.gpus_per_replica,
        d.gpu_month_usd,
        greatest(cast(ceil(d.load_replicas + s.load_replicas) as integer), 1)
            + greatest(d.spare_replicas, s.spare_replicas) as new_replicas
    from stays as s
    join plan_deployments as d on d.run_id = $run_id and d.deployment_id = s.deployment_id
),

costed as (
    select
        *,
        new_replicas - replicas as replicas_added,
        cast((new_replicas - replicas) * gpus_per_replica * gpu_month_usd
             + ((new_replicas * gpus_per_replica + $gpus_per_node - 1) // $gpus_per_node - nodes)
               * cast($observability_per_node_usd as decimal(38, 10)) as decimal(38, 10)) as marginal_cost_usd
    from joined
),

final as (
    select
        $run_id as run_id,
        segment_id,
        deployment_id,
        current_cost_usd,
        marginal_cost_usd,
        current_cost_usd - marginal_cost_usd as monthly_savings_usd,
        replicas_added
    from costed
    where current_cost_usd > marginal_cost_usd
)

select * from final
