-- price_shapes: every shape of `shape_input` x every api_price_book row: what the shape would cost there.
-- Shape columns: shape_id, requests, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens
-- (means per request; input includes cache reads and writes), p95_input_tokens, batch. The long-context
-- tier applies when the shape's p95 input (else its mean input) is above the offer's tier start.
with
shapes as (
    select
        shape_id,
        cast(requests as decimal(38, 4)) as requests,
        cast(input_tokens as decimal(38, 4)) as input_tokens,
        cast(coalesce(cached_input_tokens, 0) as decimal(38, 4)) as cached_input_tokens,
        cast(coalesce(cache_write_tokens, 0) as decimal(38, 4)) as cache_write_tokens,
        cast(output_tokens as decimal(38, 4)) as output_tokens,
        coalesce(p95_input_tokens, input_tokens) as tier_input_tokens,
        coalesce(batch, false) as batch
    from shape_input
),

offers as (
    select
        *,
        coalesce(long_context_start, 9223372036854775807) as tier_start
    from api_price_book
),

priced as (
    select
        s.shape_id,
        o.provider,
        o.model_ref,
        o.catalog_model,
        o.variant,
        o.offer_kind,
        o.open_weights,
        s.tier_input_tokens > o.tier_start as long_context,
        case when s.tier_input_tokens > o.tier_start then o.long_context_input_mtok else o.input_mtok end as in_p,
        case when s.tier_input_tokens > o.tier_start then o.long_context_cached_input_mtok else o.cached_input_mtok end
            as cached_p,
        case when s.tier_input_tokens > o.tier_start then o.long_context_cache_write_mtok else o.cache_write_mtok end
            as write_p,
        case when s.tier_input_tokens > o.tier_start then o.long_context_output_mtok else o.output_mtok end as out_p,
        o.request_kusd,
        s.requests,
        s.input_tokens,
        s.cached_input_tokens,
        s.cache_write_tokens,
        s.output_tokens,
        (o.variant = 'batch') = s.batch or o.variant in ('flex', 'priority') as variant_fits
    from shapes as s
    cross join offers as o
),

final as (
    select
        shape_id,
        provider,
        model_ref,
        catalog_model,
        variant,
        offer_kind,
        open_weights,
        long_context,
        variant_fits,
        cast(
            requests * cast(
                (input_tokens - cached_input_tokens - cache_write_tokens) * in_p * 0.000001
                + cached_input_tokens * coalesce(cached_p, in_p) * 0.000001
                + cache_write_tokens * coalesce(write_p, in_p) * 0.000001
                + output_tokens * coalesce(out_p, 0) * 0.000001
                + coalesce(request_kusd, 0) * 0.001
                as decimal(38, 16))
            as decimal(38, 10)
        ) as cost_usd
    from priced
)

select * from final
order by shape_id, cost_usd, provider, model_ref, variant
