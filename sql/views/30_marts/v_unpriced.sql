-- v_unpriced: one row per provider x model whose rows could not be priced (cost NULL, never 0), with why.
with
unpriced_rows as (
    select provider, model, model_ref, price_key, requests, input_tokens, output_tokens, ts
    from usage_enriched
    where not coalesce(priced, false)
),

resolved as (
    select provider, model, status, reason
    from price_models
),

final as (
    select
        u.provider,
        u.model,
        sum(u.requests) as requests,
        sum(u.input_tokens) as input_tokens,
        sum(u.output_tokens) as output_tokens,
        min(u.ts) as first_ts,
        max(u.ts) as last_ts,
        case
            when any_value(r.status) is null then 'not priced yet: run planner analyze'
            when any_value(r.status) not in ('priced', 'override') then any_value(r.reason)
            when bool_or(u.price_key is null) then 'rows loaded since the last price run: run planner analyze'
            else 'input or output token count missing'
        end as reason
    from unpriced_rows as u
    left join resolved as r
        on r.provider is not distinct from u.provider
        and r.model is not distinct from u.model
    group by u.provider, u.model
)

select * from final
order by requests desc nulls last
