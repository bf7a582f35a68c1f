-- v_daily_spend: one row per UTC day x provider x model: volume, priced cost and what the source billed.
select
    cast(ts as date) as day,
    provider,
    model,
    sum(requests) as requests,
    sum(input_tokens) as input_tokens,
    sum(cached_input_tokens) as cached_input_tokens,
    sum(output_tokens) as output_tokens,
    sum(cost_usd) as cost_usd,
    count(*) filter (where not coalesce(priced, false)) as unpriced_rows,
    sum(billed_cost_usd) as billed_cost_usd,
    sum(requests) filter (where not coalesce(priced, false)) as unpriced_requests,
    sum(cache_write_tokens) as cache_write_tokens
from usage_enriched
group by all
order by day, provider, model
