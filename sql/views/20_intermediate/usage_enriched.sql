-- usage_enriched: one row per usage row (request or bucket) with what it cost and where it went.
-- context_band is decided per request from that request's input; for buckets from the mean per request.
-- cost_usd: the row's tokens at the unit prices of the one `prices` row matching its key (provider,
-- model_ref, batch, service_tier), whose period holds ts and whose long-context tier holds the request's
-- own input size (bucket rows have no per-request size: base tier). NULL when the row cannot be priced.
with
usage_rows as (
    select
        *,
        case when grain = 'request' then coalesce(input_tokens, 0) else 0 end as tier_input_tokens
    from usage
),

priced as (
    select
        u.*,
        p.price_key,
        p.failed_billing,
        p.output_mtok,
        p.request_kusd,
        -- token x USD-per-million sums, scaled once below: exact DECIMAL, no per-term rounding
        (u.input_tokens - coalesce(u.cached_input_tokens, 0) - coalesce(u.cache_write_tokens, 0)) * p.input_mtok
        + coalesce(u.cached_input_tokens, 0) * coalesce(p.cached_input_mtok, p.input_mtok)
        + coalesce(u.cache_write_tokens, 0) * coalesce(p.cache_write_mtok, p.input_mtok)
            as input_token_usd_mtok,
        coalesce(u.output_tokens, 0) * coalesce(p.output_mtok, 0) as output_token_usd_mtok
    from usage_rows as u
    left join prices as p
        on p.model_ref = u.model_ref
        and p.provider is not distinct from u.provider
        and p.batch is not distinct from u.batch
        and p.service_tier is not distinct from u.service_tier
        and u.ts >= p.valid_from
        and u.ts < p.valid_to
        and (p.daily_from is null or (cast(u.ts as time) >= p.daily_from and cast(u.ts as time) <= p.daily_to))
        and u.tier_input_tokens > p.input_above
        and u.tier_input_tokens <= p.input_up_to
),

costed as (
    select
        *,
        -- DECIMAL(38,16) USD: tokens x USD per million x 0.000001 (never `/`, which yields DOUBLE)
        case
            when price_key is null then null
            when status = 'error' and failed_billing = 'input_only' then input_token_usd_mtok * 0.000001
            when status = 'error' then cast(0 as decimal(38, 16))
            when output_tokens is null and output_mtok is not null then null
            else (input_token_usd_mtok + output_token_usd_mtok) * 0.000001
                + coalesce(requests, 1) * coalesce(request_kusd, 0) * 0.001
        end as row_cost_usd
    from priced
),

final as (
    select
        c.* exclude (tier_input_tokens, price_key, failed_billing, output_mtok, request_kusd, input_token_usd_mtok,
                     output_token_usd_mtok, row_cost_usd),
        c.price_key,
        c.row_cost_usd as cost_usd,
        c.row_cost_usd is not null as priced,
        case
            when c.input_tokens is null then null
            when c.grain = 'bucket' and c.requests is null then null  -- no request count: no per-request size
            when c.input_tokens / greatest(coalesce(c.requests, 1), 1) <= 8192 then '<=8K'
            when c.input_tokens / greatest(coalesce(c.requests, 1), 1) <= 32768 then '8K-32K'
            when c.input_tokens / greatest(coalesce(c.requests, 1), 1) <= 131072 then '32K-128K'
            else '>128K'
        end as context_band,
        case when c.batch then 'batch' else 'interactive' end as mode
    from costed as c
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

select
    * exclude (wl),
    1 as usage_rows  -- request rows behind the row (usage_rollup rows stand for many)
from segmented

-- rows the Spark engine rolled up (planner run --engine spark; empty otherwise)
union all by name
select * from usage_rollup
