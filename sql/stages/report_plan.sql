-- report_plan: the plan's headline row plus the fixed costs counted once across the portfolio.
select
    p.*,
    (select coalesce(sum(labor_cost_usd), 0) from plan_deployments where run_id = $run_id) as labor_cost_usd,
    (select coalesce(sum(observability_cost_usd), 0) from plan_deployments where run_id = $run_id)
        as node_observability_cost_usd,
    (select coalesce(sum(spare_replicas * gpus_per_replica * gpu_month_usd), 0)
     from plan_deployments where run_id = $run_id) as ha_spare_cost_usd,
    (select coalesce(sum(spare_replicas), 0) from plan_deployments where run_id = $run_id) as spare_replicas
from plan as p
where p.run_id = $run_id
