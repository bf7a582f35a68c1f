-- segment_hours: one row per segment key x UTC hour of the days being rebuilt (temp table).
-- Everything additive about a day comes from here, and the day's first and last arrival. Groups on
-- the key's columns (few groups: cheap even if wide) and names the key by its hash k, as the grid does.
-- Conditional sums are CASE sums: cheaper than FILTER clauses here.
create or replace temp table _seg_hour as
select
    workload_source,
    wl_name,
    fingerprint_basis,
    c_project,
    c_key,
    c_model,
    sensitivity,
    context_band,
    mode,
    hash(workload_source, wl_name, fingerprint_basis, c_project, c_key, c_model, sensitivity, context_band, mode) as k,
    day,
    hour(ts) as hr,
    max(rule_kind) as rule_kind,
    count(*) as usage_rows,
    sum(case when grain = 'bucket' then 1 else 0 end) as bucket_rows,
    sum(requests) as requests,
    sum(case when status = 'error' then requests else 0 end) as failed_requests,
    sum(input_tokens) as input_tokens,
    sum(cached_input_tokens) as cached_input_tokens,
    sum(cache_write_tokens) as cache_write_tokens,
    sum(output_tokens) as output_tokens,
    sum(reasoning_tokens) as reasoning_tokens,
    sum(input_tokens) filter (where cached_input_tokens is not null) as cached_known_input_tokens,
    sum(cost_usd) as cost_usd,
    sum(case when priced then requests else 0 end) as priced_requests,
    sum(case when not coalesce(priced, false) then requests else 0 end) as unpriced_requests,
    sum(billed_cost_usd) as billed_cost_usd,
    sum(arrivals) as arrival_requests,
    min(ts) filter (where arrivals is not null) as first_ts,
    max(ts) filter (where arrivals is not null) as last_ts,
    sum(case when arrivals is not null and date_trunc('second', ts) <> ts then 1 else 0 end) as subsecond_rows,
    sum(
        case when arrivals is not null and date_trunc('minute', ts) <> date_trunc('second', ts) then 1 else 0 end
    ) as subminute_rows,
    sum(case when arrivals is not null then 1 else 0 end) as arrival_rows,
    sum(case when mode = 'interactive' then requests else 0 end) as interactive_requests,
    sum(case when session_id is not null then requests else 0 end) as session_requests,
    sum(case when is_tool then requests else 0 end) as tool_requests,
    sum(case when is_image then requests else 0 end) as image_requests,
    sum(case when is_embedding then requests else 0 end) as embedding_requests,
    sum(case when pii_types is not null then requests else 0 end) as text_requests,
    sum(case when array_length(pii_types) > 0 then requests else 0 end) as pii_requests,
    sum(case when allow_third_party then requests else 0 end) as third_party_allowed,
    sum(case when not allow_third_party then requests else 0 end) as third_party_denied
from _seg_rows
group by
    workload_source, wl_name, fingerprint_basis, c_project, c_key, c_model, sensitivity, context_band, mode, day,
    hour(ts)
