-- price_totals: the pricing part of plan.json totals over everything ingested.
select
    sum(requests) as requests,
    sum(cost_usd) as api_cost_usd,
    sum(billed_cost_usd) as billed_cost_usd,
    coalesce(sum(requests) filter (where not priced), 0) as unpriced_requests,
    coalesce(sum(requests) filter (where not priced), 0) / nullif(sum(requests), 0) as unpriced_request_share,
    count(*) filter (where grain = 'bucket') as bucket_rows
from usage_enriched
