-- segment_token_buckets: per segment definition x day, requests per log2 bucket (16 per doubling) of
-- input and of output tokens per request (temp table). Failed requests are left out (their output is
-- not a shape). Bucket rows count with their mean per request, weighted by their request count.
create or replace temp table _seg_tok as
with
per_request as (
    select
        workload,
        workload_source,
        fingerprint_basis,
        sensitivity,
        context_band,
        mode,
        day,
        requests,
        input_tokens / nullif(requests, 0) as input_per_request,
        output_tokens / nullif(requests, 0) as output_per_request
    from _seg_rows
    where coalesce(status, 'ok') <> 'error' and requests > 0
),

bucketed as (
    select
        *,
        case
            when input_per_request is null then null
            when input_per_request < 1 then -1
            else cast(floor(log2(input_per_request) * 16) as bigint)
        end as input_bucket,
        case
            when output_per_request is null then null
            when output_per_request < 1 then -1
            else cast(floor(log2(output_per_request) * 16) as bigint)
        end as output_bucket
    from per_request
)

select
    workload,
    workload_source,
    fingerprint_basis,
    sensitivity,
    context_band,
    mode,
    day,
    input_bucket,
    output_bucket,
    grouping(output_bucket) = 1 as is_input,
    sum(requests) as n
from bucketed
group by grouping sets (
    (workload, workload_source, fingerprint_basis, sensitivity, context_band, mode, day, input_bucket),
    (workload, workload_source, fingerprint_basis, sensitivity, context_band, mode, day, output_bucket)
)
