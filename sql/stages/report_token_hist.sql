-- report_token_hist: requests per power-of-two bucket of input and of output tokens per request, per
-- segment (chart: token-shape distributions). Bucket b holds 2^b <= tokens < 2^(b+1); 0 tokens in b = 0.
with
per_request as (
    select
        segment_id,
        requests,
        input_tokens // greatest(requests, 1) as input_per_request,
        output_tokens // greatest(requests, 1) as output_per_request
    from usage_enriched
    where segment_id is not null and requests is not null   -- buckets without a request count have no sizes
),

buckets as (
    select segment_id, 'input' as side,
           cast(floor(log2(greatest(input_per_request, 1))) as integer) as bucket, sum(requests) as requests
    from per_request where input_per_request is not null
    group by all
    union all
    select segment_id, 'output', cast(floor(log2(greatest(output_per_request, 1))) as integer), sum(requests)
    from per_request where output_per_request is not null
    group by all
)

select * from buckets order by segment_id, side, bucket
