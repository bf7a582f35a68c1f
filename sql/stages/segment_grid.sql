-- segment_grid: one pass over the rows of the days being rebuilt (temp table), three groupings:
-- - key x minute: arrivals (requests placed on the minute grid);
-- - key x day x input bucket and key x day x output bucket: requests per log2 bucket (16 per doubling)
--   of tokens per request. Failed requests are left out of the token shape (their output is not one);
--   a bucket row counts with its mean per request, weighted by its request count; bucket -1 holds zero.
create or replace temp table _seg_grid as
with
per_row as (
    select
        k,
        day,
        minute,
        arrivals,
        case when coalesce(status, 'ok') <> 'error' and requests > 0 then requests end as ok_requests,
        case
            when coalesce(status, 'ok') = 'error' or not requests > 0 or input_tokens is null then null
            when input_tokens < requests then -1
            else cast(floor(log2(input_tokens / nullif(requests, 0)) * 16) as bigint)
        end as input_bucket,
        case
            when coalesce(status, 'ok') = 'error' or not requests > 0 or output_tokens is null then null
            when output_tokens < requests then -1
            else cast(floor(log2(output_tokens / nullif(requests, 0)) * 16) as bigint)
        end as output_bucket
    from _seg_rows
)

select
    k,
    day,
    minute,
    input_bucket,
    output_bucket,
    grouping(minute) = 0 as is_minute,
    grouping(input_bucket) = 0 as is_input,
    sum(arrivals) as arrival_requests,
    sum(ok_requests) as n
from per_row
group by grouping sets ((k, day, minute), (k, day, input_bucket), (k, day, output_bucket))
