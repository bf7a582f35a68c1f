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

keyed as (
    select
        *,
        case when wl.name is null then project end as c_project,
        case when wl.name is null then api_key_id end as c_key,
        case when wl.name is null then model end as c_model
    from resolved
),

final as (
    select
        -- the segment key as one integer: the rollups group on it (wide keys make wide hash tables)
        hash(wl.source, wl.name, wl.basis, c_project, c_key, c_model, sensitivity, context_band, wl.mode) as k,
        wl.source as workload_source,
        wl.name as wl_name,
        wl.basis as fingerprint_basis,
        -- a caller-named workload keeps its parts; the name is built once per segment, not per row
        c_project,
        c_key,
        c_model,
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
        -- tags are looked into only when a row has any (most sources carry none)
        case
            when cardinality(tags) = 0 then false
            else coalesce(array_length(list_filter(map_entries(tags),
                lambda e: regexp_matches(lower(e.key), 'tool|function_call|mcp')
                and lower(e.value) not in ('', '0', '[]', '{}', 'false', 'null', 'none'))) > 0, false)
        end as is_tool,
        coalesce(lower(kind) in ('image', 'images', 'vision'), false)
        or case
            when cardinality(tags) = 0 then false
            else coalesce(array_length(list_filter(map_entries(tags),
                lambda e: regexp_matches(lower(e.key), 'image|vision')
                and lower(e.value) not in ('', '0', '[]', '{}', 'false', 'null', 'none'))) > 0, false)
        end as is_image
    from keyed
)

select * from final
