-- Stand-in scoring: four options per segment with a cost breakdown in details, shaped like the scoring
-- stage's output (docs/contracts.md). Simple rules, not the capacity model: enough to exercise the plan.
insert into segment_options (run_id, segment_id, option, provider, model, gpu, gpus, replicas, monthly_cost_usd, feasible, reasons, overflow_share, details)
with
period as (
    select greatest(date_diff('second', min(ts), max(ts)) / 86400.0, 1.0) as days from usage
),

seg as (
    select
        s.*,
        cast(s.cost_usd * cast(30.4375 * $volume / p.days as decimal(18, 6)) as decimal(38, 10)) as monthly_api,
        case
            when s.workload_kind in ('extraction', 'classification') then 'llama-3.1-8b'
            when s.workload_kind = 'summarization' then 'llama-3.3-70b'
            else 'qwen3-32b'
        end as sh_model,
        case when s.workload_kind in ('extraction', 'classification') then 'l40s' else 'h100' end as sh_gpu,
        case when s.workload_kind = 'summarization' then 2 else 1 end as gpr,
        case
            when s.workload_kind in ('extraction', 'classification') then 3.0
            when s.workload_kind = 'summarization' then 0.4
            else 3.6
        end as cap_rps,
        s.requests * 30.4375 * $volume / p.days as monthly_requests
    from segments as s, period as p
    where s.run_id = $run_id
),

sized as (
    select
        *,
        case when mode = 'batch'
            then monthly_requests / (cap_rps * 3600 * 730)
            else peak_per_minute * $volume / 60.0 / (cap_rps * 0.7)
        end as load_replicas,
        case when mode = 'batch' then 0 else 1 end as spare,
        case sh_gpu when 'l40s' then 1.00 else 2.50 end as price_h
    from seg
),

sh as (
    select
        *,
        greatest(cast(ceil(load_replicas) as integer) + spare, case when mode = 'batch' then 1 else 2 end) as replicas
    from sized
),

costed as (
    select
        *,
        replicas * gpr as gpus,
        cast(replicas * gpr * price_h * 730 as decimal(38, 10)) as gpu_cost,
        cast(5208.33 as decimal(38, 10)) as labor_cost,
        cast(100 * ceil(replicas * gpr / 8.0) + 300 as decimal(38, 10)) as obs_cost
    from sh
),

final as (
    select $run_id, segment_id, 'api_current', null, null, null, null, null, monthly_api, true, [],
           null, '{}'::json
    from costed
    union all
    select $run_id, segment_id, 'api_optimized', null, null, null, null, null,
           cast(monthly_api * 0.85 as decimal(38, 10)), mode <> 'batch',
           case when mode = 'batch' then ['already on the batch API'] else ['prompt caching of the repeated prefix'] end,
           null, '{}'::json
    from costed
    union all
    select $run_id, segment_id, 'open_model_api', 'together', sh_model, null, null, null,
           cast(monthly_api * 0.3 as decimal(38, 10)),
           sensitivity is distinct from 'regulated' and context_band <> '>128K' and workload_kind <> 'chat',
           list_filter([
               case when sensitivity = 'regulated' then 'regulated data may not go to a third-party API' end,
               case when context_band = '>128K' then 'p99 input exceeds the hosted context window' end,
               case when workload_kind = 'chat' then 'capability tier below the current model for open-ended chat' end
           ], lambda r: r is not null),
           null, '{}'::json
    from costed
    union all
    select $run_id, segment_id, 'self_host', null, sh_model, sh_gpu, gpus, replicas,
           gpu_cost + labor_cost + obs_cost, context_band <> '>128K',
           case when context_band = '>128K' then ['p99 input exceeds every candidate model''s context window'] else [] end,
           null,
           json_object('gpu_cost_usd', gpu_cost, 'labor_cost_usd', labor_cost, 'observability_cost_usd', obs_cost,
                       'gpus_per_replica', gpr, 'load_replicas', round(load_replicas, 6), 'spare_replicas', spare,
                       'gpu_usd_per_hour', price_h, 'hours_per_month', 730,
                       'max_model_len', case when sh_model = 'llama-3.3-70b' then 131072 else 32768 end,
                       'capacity_rps_per_replica', cap_rps)
    from costed
)

select * from final
