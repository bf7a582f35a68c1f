-- v_unpriced: one row per provider x model whose rows could not be priced (cost NULL, never 0).
select
    provider,
    model,
    sum(requests) as requests,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    min(ts) as first_ts,
    max(ts) as last_ts
from usage_enriched
where not coalesce(priced, false)
group by all
order by requests desc nulls last
