-- export_serve: one row per deployment of the run's plan with what `vllm serve` needs: parallelism,
-- replicas and a context length covering the p99 input + p99 output of its segments.
select
    d.deployment_id,
    d.model,
    d.gpu,
    d.gpus_per_replica,
    d.replicas,
    d.spare_replicas,
    d.first_wave,
    d.segment_ids,
    coalesce(d.max_model_len,
             cast(ceil((select max(coalesce(s.p99_input, 0) + coalesce(s.p99_output, 0))
                        from segments as s
                        where s.run_id = d.run_id and list_contains(d.segment_ids, s.segment_id)) / 1024.0) * 1024
                  as bigint)) as max_model_len
from plan_deployments as d
where d.run_id = $run_id
order by d.first_wave, d.deployment_id
