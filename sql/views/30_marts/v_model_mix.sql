-- v_model_mix: one row per provider x model over everything ingested: share of requests, tokens and cost.
with
per_model as (
    select
        provider,
        model,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cost_usd) as cost_usd,
        min(ts) as first_ts,
        max(ts) as last_ts
    from usage_enriched
    group by all
),

final as (
    select
        *,
        requests / nullif(sum(requests) over (), 0) as request_share,
        (coalesce(input_tokens, 0) + coalesce(output_tokens, 0))
            / nullif(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) over (), 0) as token_share,
        cost_usd / nullif(sum(cost_usd) over (), 0) as cost_share
    from per_model
)

select * from final
order by cost_usd desc nulls last, requests desc
