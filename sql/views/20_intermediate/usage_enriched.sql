-- usage_enriched: one row per usage row (request or bucket) with what it cost and where it went.
-- context_band is decided per request from that request's input; for buckets from the mean per request.
with
usage_rows as (
    select * from usage
),

final as (
    select
        u.*,
        cast(null as varchar) as price_key,
        cast(null as decimal(38, 10)) as cost_usd,
        cast(null as boolean) as priced,
        case
            when u.input_tokens is null then null
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 8192 then '<=8K'
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 32768 then '8K-32K'
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 131072 then '32K-128K'
            else '>128K'
        end as context_band,
        case when u.batch then 'batch' else 'interactive' end as mode
    from usage_rows as u
),

-- segment_id: the segment the row belongs to (planner_workload applies the [[workloads.rules]] of the
-- last segment run; planner_segment_id hashes the definition, as the segments table does)
segmented as (
    select
        f.*,
        planner_segment_id(
            f.wl.source, coalesce(f.wl.name, planner_caller_name(f.project, f.api_key_id, f.model)),
            f.sensitivity, f.context_band, f.wl.mode
        ) as segment_id
    from (
        select
            b.*,
            planner_workload(
                b.event_id, b.source_id, b.source_row, b.grain, b.ts, b.ts_end, b.provider, b.model, b.model_ref,
                b.project, b.api_key_id, b.user_id, b.session_id, b.request_id, b.workload, b.tags, b.requests,
                b.input_tokens, b.cached_input_tokens, b.cache_write_tokens, b.output_tokens, b.reasoning_tokens,
                b.batch, b.service_tier, b.status, b.latency_ms, b.ttft_ms, b.billed_cost_usd, b.prompt_chars,
                b.prompt_sha256, b.prompt_fingerprint, b.pii_types, b.sensitivity, b.kind, b.context_band, b.mode
            ) as wl
        from final as b
    ) as f
)

select * exclude (wl) from segmented
