-- segment_hours: one row per segment key (k) x UTC hour of the days being rebuilt (temp table).
-- Everything additive about a day comes from here, and the day's first and last arrival.
create or replace temp table _seg_hour as
select
    k,
    day,
    hour(ts) as hr,
    max(rule_kind) as rule_kind,
    count(*) as usage_rows,
    count(*) filter (where grain = 'bucket') as bucket_rows,
    sum(requests) as requests,
    coalesce(sum(requests) filter (where status = 'error'), 0) as failed_requests,
    sum(input_tokens) as input_tokens,
    sum(cached_input_tokens) as cached_input_tokens,
    sum(cache_write_tokens) as cache_write_tokens,
    sum(output_tokens) as output_tokens,
    sum(reasoning_tokens) as reasoning_tokens,
    sum(input_tokens) filter (where cached_input_tokens is not null) as cached_known_input_tokens,
    sum(cost_usd) as cost_usd,
    coalesce(sum(requests) filter (where priced), 0) as priced_requests,
    coalesce(sum(requests) filter (where not coalesce(priced, false)), 0) as unpriced_requests,
    sum(billed_cost_usd) as billed_cost_usd,
    sum(arrivals) as arrival_requests,
    min(ts) filter (where arrivals is not null) as first_ts,
    max(ts) filter (where arrivals is not null) as last_ts,
    count(*) filter (where arrivals is not null and date_trunc('second', ts) <> ts) as subsecond_rows,
    count(*) filter (where arrivals is not null and date_trunc('minute', ts) <> date_trunc('second', ts)) as subminute_rows,
    count(*) filter (where arrivals is not null) as arrival_rows,
    coalesce(sum(requests) filter (where mode = 'interactive'), 0) as interactive_requests,
    coalesce(sum(requests) filter (where session_id is not null), 0) as session_requests,
    coalesce(sum(requests) filter (where is_tool), 0) as tool_requests,
    coalesce(sum(requests) filter (where is_image), 0) as image_requests,
    coalesce(sum(requests) filter (where is_embedding), 0) as embedding_requests,
    coalesce(sum(requests) filter (where pii_types is not null), 0) as text_requests,
    coalesce(sum(requests) filter (where len(pii_types) > 0), 0) as pii_requests,
    coalesce(sum(requests) filter (where allow_third_party), 0) as third_party_allowed,
    coalesce(sum(requests) filter (where not allow_third_party), 0) as third_party_denied
from _seg_rows
group by k, day, hour(ts)
