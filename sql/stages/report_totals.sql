-- report_totals: one row: the period covered and the volume and cost of everything ingested.
select
    min(ts) as period_start,
    max(coalesce(ts_end, ts)) as period_end,
    sum(requests) as requests,
    sum(requests) filter (where status = 'error') as failed_requests,
    sum(input_tokens) as input_tokens,
    sum(cached_input_tokens) as cached_input_tokens,
    sum(cache_write_tokens) as cache_write_tokens,
    sum(output_tokens) as output_tokens,
    sum(reasoning_tokens) as reasoning_tokens,
    sum(cost_usd) as api_cost_usd,
    sum(billed_cost_usd) as billed_cost_usd,
    coalesce(sum(requests) filter (where not coalesce(priced, false)), 0) as unpriced_requests
from usage_enriched
