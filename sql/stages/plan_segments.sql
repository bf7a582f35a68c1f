-- plan_segments: one row per segment: what the plan does with it (action), its risk, wave and fleet.
-- Risk = sensitivity + workload kind + mode + 1 for a new model (API-side optimisations: 0); waves: the pilot (lowest risk, highest volume
-- self-hosted segment) and API-side optimisations first, then low, medium and high risk.
insert into plan_segments
with
acted as (
    select
        *,
        case
            when scored and decision in ('migrate', 'pilot', 'optimize_api')
                 and chosen_option in ('self_host', 'hybrid', 'open_model_api', 'api_optimized')
                 and current_cost_usd is not null and chosen_cost_usd is not null
                then chosen_option
            else 'stay'
        end as action
    from plan_input
),

risked as (
    select
        *,
        case when action = 'api_optimized' then 0 else
            case sensitivity when 'public' then 0 when 'internal' then 0 when 'confidential' then 1
                             when 'regulated' then 2 else 1 end
            + case when list_contains($simple_kinds, kind_key) then 0
                   when list_contains($medium_kinds, kind_key) then 1 else 2 end
            + case when mode = 'batch' then 0 else 1 end
            + 1
        end as risk_score,
        case when action = 'api_optimized' then ['same provider and model: a client-side change (batch API, caching)']
        else list_filter([
            case sensitivity when 'confidential' then 'confidential data'
                             when 'regulated' then 'regulated data' end,
            case when sensitivity is null then 'sensitivity unknown' end,
            case when kind_key is null then 'workload kind unknown'
                 when not list_contains($simple_kinds, kind_key) and not list_contains($medium_kinds, kind_key)
                     then 'complex workload kind (' || kind_key || ')'
                 when list_contains($medium_kinds, kind_key) then 'conversational or retrieval workload' end,
            case when mode <> 'batch' then 'interactive traffic' end,
            case when action = 'self_host' then 'new self-hosted deployment'
                 when action = 'hybrid' then 'new self-hosted deployment (its overflow stays on today''s API)'
                 when action = 'open_model_api' then 'model change on a new provider' end
        ], lambda r: r is not null) end as risk_reasons
    from acted
),

pilot as (
    select segment_id
    from risked
    where action in ('self_host', 'hybrid')
    order by risk_score, requests desc, segment_id
    limit 1
),

keyed as (
    select
        r.*,
        case when r.risk_score <= 1 then 'low' when r.risk_score <= 3 then 'medium' else 'high' end as risk,
        case
            when r.action = 'stay' then null
            when r.segment_id in (select segment_id from pilot) or r.action = 'api_optimized' then 1
            when r.risk_score <= 1 then 2
            when r.risk_score <= 3 then 3
            else 4
        end as wave_key
    from risked as r
),

final as (
    select
        $run_id as run_id,
        segment_id,
        workload,
        workload_kind,
        sensitivity,
        mode,
        action,
        case when wave_key is not null then dense_rank() over (order by wave_key) end as wave,
        case when action in ('self_host', 'hybrid')
            then sh_model || '@' || sh_gpu || 'x' || gpus_per_replica end as deployment_id,
        risk_score,
        risk,
        risk_reasons,
        current_cost_usd,
        case when action = 'stay' then current_cost_usd else chosen_cost_usd end as chosen_monthly_cost_usd,
        case when action = 'stay' then cast(0 as decimal(38, 10)) else scored_savings_usd end as monthly_savings_usd,
        case when action = 'stay' then cast(0 as decimal(38, 10)) else coalesce(one_time_cost_usd, 0) end
            as one_time_cost_usd,
        case when action = 'stay' then
            case when not scored then ['not scored: no options were computed for this segment']
                 when current_cost_usd is null then ['current API cost unknown (unpriced model)']
                 else score_reasons end
        end as stay_reasons
    from keyed
)

select * from final
