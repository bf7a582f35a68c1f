-- segment_rows: one row per usage row of the days being rebuilt, with its segment definition and the
-- per-row flags the rollups count. Raw-row scan: portable subset (distributed.md §4).
-- $full: every day; else only days listed in _seg_days. planner_workload is the rule macro the stage
-- regenerates from planner.toml (migration 0004 holds the no-rule version).
with
enriched as (
    select *
    from usage_enriched
    where
        $full
        or cast(ts as date) in (select d.day from _seg_days as d)
),

resolved as (
    select
        e.*,
        planner_workload(
            e.event_id, e.source_id, e.source_row, e.grain, e.ts, e.ts_end, e.provider, e.model, e.model_ref,
            e.project, e.api_key_id, e.user_id, e.session_id, e.request_id, e.workload, e.tags, e.requests,
            e.input_tokens, e.cached_input_tokens, e.cache_write_tokens, e.output_tokens, e.reasoning_tokens,
            e.batch, e.service_tier, e.status, e.latency_ms, e.ttft_ms, e.billed_cost_usd, e.prompt_chars,
            e.prompt_sha256, e.prompt_fingerprint, e.pii_types, e.sensitivity, e.kind, e.context_band, e.mode
        ) as wl
    from enriched as e
),

final as (
    select
        wl.name as workload,
        wl.source as workload_source,
        wl.basis as fingerprint_basis,
        wl.kind as rule_kind,
        wl.mode as mode,
        sensitivity,
        context_band,
        ts,
        cast(ts as date) as day,
        date_trunc('minute', ts) as minute,
        grain,
        requests,
        status,
        input_tokens,
        cached_input_tokens,
        cache_write_tokens,
        output_tokens,
        reasoning_tokens,
        cost_usd,
        priced,
        billed_cost_usd,
        session_id,
        pii_types,
        allow_third_party,
        -- requests placed on the minute grid: request rows, and buckets no wider than a minute
        case
            when grain = 'request' or ts_end <= ts + interval 60 second then requests
        end as arrivals,
        coalesce(lower(kind) in ('embedding', 'embeddings'), false) as is_embedding,
        coalesce(len(list_filter(map_entries(tags), lambda e: regexp_matches(lower(e.key), 'tool|function_call|mcp')
            and lower(e.value) not in ('', '0', '[]', '{}', 'false', 'null', 'none'))) > 0, false) as is_tool,
        coalesce(lower(kind) in ('image', 'images', 'vision')
            or len(list_filter(map_entries(tags), lambda e: regexp_matches(lower(e.key), 'image|vision')
                and lower(e.value) not in ('', '0', '[]', '{}', 'false', 'null', 'none'))) > 0, false) as is_image
    from resolved
)

select * from final
