-- plan_inputs: one row per segment of the run with its score and the option figures the plan needs
-- (the fleet figures come from the hybrid option when the score chose it, else from self_host).
-- The ONLY place the plan reads the upstream tables (segments, segment_options, segment_scores,
-- assumptions); every later plan statement reads plan_input. details keys are documented in
-- docs/reports.md ("What the plan reads").
create or replace temp table plan_input as
with
seg as (
    select * from segments where run_id = $run_id
),

score as (
    select * from segment_scores where run_id = $run_id
),

opt as (
    select * from segment_options where run_id = $run_id
),

assumed as (
    select key, value from assumptions where run_id = $run_id
),

cur as (
    select segment_id, monthly_cost_usd from opt where option = 'api_current'
),

sh as (
    -- the fleet the segment would run on: its hybrid option's when the score chose hybrid, else self_host's
    select
        segment_id,
        option,
        model,
        gpu,
        gpus,
        replicas,
        monthly_cost_usd,
        feasible,
        -- the flat keys the score stage writes for the plan (docs/reports.md, "What the plan reads")
        coalesce(try_cast(details ->> '$.gpus_per_replica' as integer), gpus // nullif(replicas, 0), 1) as gpus_per_replica,
        try_cast(details ->> '$.spare_replicas' as integer) as spare_given,
        try_cast(details ->> '$.load_replicas' as decimal(18, 6)) as load_given,
        try_cast(details ->> '$.gpu_usd_per_hour' as decimal(38, 10)) as gpu_usd_per_hour,
        try_cast(details ->> '$.hours_per_month' as decimal(38, 10)) as hours_per_month,
        try_cast(details ->> '$.gpu_cost_usd' as decimal(38, 10)) as gpu_cost_usd,
        try_cast(details ->> '$.labor_cost_usd' as decimal(38, 10)) as labor_cost_usd,
        try_cast(details ->> '$.max_model_len' as bigint) as max_model_len,
        provider as overflow_provider,
        details ->> '$.overflow.model' as overflow_model,
        try_cast(details ->> '$.cost.overflow_api_cost_usd' as decimal(38, 10)) as overflow_cost_usd,
        try_cast(details ->> '$.cost.failover_api_cost_usd' as decimal(38, 10)) as failover_cost_usd,
        try_cast(details ->> '$.overflow.requests_per_month' as double) as overflow_requests,
        try_cast(details ->> '$.overflow.input_tokens_per_month' as double) as overflow_input_tokens,
        try_cast(details ->> '$.overflow.output_tokens_per_month' as double) as overflow_output_tokens,
        try_cast(details ->> '$.overflow.peak_overflow_per_minute' as double) as peak_overflow_per_minute
    from opt
    where option in ('self_host', 'hybrid')
),

final as (
    select
        s.segment_id,
        s.workload,
        s.workload_kind,
        regexp_replace(lower(trim(s.workload_kind)), '[^a-z0-9]+', '_', 'g') as kind_key,
        s.sensitivity,
        s.mode,
        s.requests,
        sc.segment_id is not null as scored,
        sc.decision,
        sc.chosen_option,
        sc.monthly_savings_usd as scored_savings_usd,
        sc.one_time_cost_usd,
        coalesce(sc.reasons, []) as score_reasons,
        cur.monthly_cost_usd as current_cost_usd,
        ch.monthly_cost_usd as chosen_cost_usd,
        sh.model as sh_model,
        sh.gpu as sh_gpu,
        coalesce(sh.feasible, false) as sh_feasible,
        sh.gpus_per_replica,
        coalesce(sh.spare_given, case when s.mode = 'interactive' and sh.replicas >= 2 then 1 else 0 end) as spare_replicas,
        coalesce(sh.load_given,
                 sh.replicas - coalesce(sh.spare_given, case when s.mode = 'interactive' and sh.replicas >= 2 then 1 else 0 end))
            as load_replicas,
        coalesce(
            sh.gpu_usd_per_hour * coalesce(sh.hours_per_month,
                                           try_cast((select value from assumed where key = 'operations.hours_per_month')
                                                    as decimal(38, 10))),
            try_cast((select value from assumed where key = 'gpus.' || sh.gpu || '.price_per_hour') as decimal(38, 10))
                * try_cast((select value from assumed where key = 'operations.hours_per_month') as decimal(38, 10)),
            cast(round(sh.gpu_cost_usd / nullif(sh.gpus, 0), 10) as decimal(38, 10))
        ) as gpu_month_usd,
        sh.labor_cost_usd is null as labor_fallback,
        coalesce(sh.labor_cost_usd, cast($fallback_labor_usd as decimal(38, 10))) as labor_cost_usd,
        sh.max_model_len,
        case when sh.option = 'hybrid' then sh.overflow_provider end as overflow_provider,
        case when sh.option = 'hybrid' then sh.overflow_model end as overflow_model,
        case when sh.option = 'hybrid' then coalesce(sh.overflow_cost_usd, 0) + coalesce(sh.failover_cost_usd, 0)
             else cast(0 as decimal(38, 10)) end as overflow_cost_usd,
        case when sh.option = 'hybrid' then sh.overflow_cost_usd end as overflow_only_cost_usd,
        case when sh.option = 'hybrid' then sh.failover_cost_usd end as failover_cost_usd,
        case when sh.option = 'hybrid' then sh.overflow_requests end as overflow_requests,
        case when sh.option = 'hybrid' then sh.overflow_input_tokens end as overflow_input_tokens,
        case when sh.option = 'hybrid' then sh.overflow_output_tokens end as overflow_output_tokens,
        case when sh.option = 'hybrid' then sh.peak_overflow_per_minute end as peak_overflow_per_minute
    from seg as s
    left join score as sc on sc.segment_id = s.segment_id
    left join cur on cur.segment_id = s.segment_id
    left join opt as ch on ch.segment_id = s.segment_id and ch.option = sc.chosen_option
    left join sh on sh.segment_id = s.segment_id
                and sh.option = case when sc.chosen_option = 'hybrid' then 'hybrid' else 'self_host' end
)

select * from final
