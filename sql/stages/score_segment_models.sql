-- score_segment_models: grain = segment x provider x model. The API traffic behind each segment of
-- the run, largest cost first, so the scoring stage knows what "today" is made of (and, for hybrid
-- overflow, the latency its requests saw: approximate quantiles over successful request rows).
with
run_segments as (
    select segment_id from segments where run_id = $run_id
),

rows as (
    select
        u.segment_id,
        u.provider,
        coalesce(u.model_ref, u.model) as model_ref,
        u.model,
        coalesce(u.requests, 1) as requests,
        u.batch,
        u.cost_usd,
        coalesce(u.priced, u.cost_usd is not null) as priced,
        case when u.grain = 'request' and u.status = 'ok' then u.latency_ms end as latency_ms,
        case when u.grain = 'request' and u.status = 'ok' then u.ttft_ms end as ttft_ms
    from usage_enriched as u
    where u.segment_id in (select segment_id from run_segments)
),

final as (
    select
        segment_id,
        provider,
        model_ref,
        min(model) as model,
        sum(requests) as requests,
        sum(case when batch then requests else 0 end) as batch_requests,
        sum(cost_usd) as cost_usd,
        sum(case when priced then 0 else requests end) as unpriced_requests,
        count(latency_ms) as latency_requests,
        approx_quantile(latency_ms, 0.5) as p50_latency_ms,
        approx_quantile(latency_ms, 0.95) as p95_latency_ms,
        approx_quantile(ttft_ms, 0.5) as p50_ttft_ms,
        approx_quantile(ttft_ms, 0.95) as p95_ttft_ms
    from rows
    group by segment_id, provider, model_ref
)

select * from final
order by segment_id, cost_usd desc nulls last, requests desc, provider, model_ref
