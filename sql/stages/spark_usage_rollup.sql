-- spark_usage_rollup: usage_enriched of the days being rebuilt, rolled up per UTC day and every column a
-- local query groups or filters on (grain: day x key). Runs on Spark; lands in usage_rollup, which
-- usage_enriched reads back. The hidden group keys keep the local queries exact: whether the source
-- billed the row (v_reconciliation) and the power-of-two size class of input and output tokens per
-- request (report_token_hist).
select
    'spark' as source_id,
    grain,
    min(ts) as ts,
    max(coalesce(ts_end, ts)) as ts_end,
    provider,
    model,
    model_ref,
    project,
    workload,
    sum(requests) as requests,
    sum(input_tokens) as input_tokens,
    sum(cached_input_tokens) as cached_input_tokens,
    sum(cache_write_tokens) as cache_write_tokens,
    sum(output_tokens) as output_tokens,
    sum(reasoning_tokens) as reasoning_tokens,
    batch,
    service_tier,
    status,
    sum(billed_cost_usd) as billed_cost_usd,
    sum(prompt_chars) as prompt_chars,
    pii_types,
    sensitivity,
    kind,
    sensitivity_source,
    allow_third_party,
    price_key,
    sum(cost_usd) as cost_usd,
    priced,
    context_band,
    mode,
    segment_id,
    count(*) as usage_rows
from usage_enriched
group by
    cast(ts as date), grain, provider, model, model_ref, project, workload, batch, service_tier, status, pii_types,
    sensitivity, kind, sensitivity_source, allow_third_party, price_key, priced, context_band, mode, segment_id,
    billed_cost_usd is null,
    floor(log2(greatest(input_tokens // greatest(requests, 1), 1))),
    floor(log2(greatest(output_tokens // greatest(requests, 1), 1)))
