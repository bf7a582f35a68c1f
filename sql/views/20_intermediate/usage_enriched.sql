-- usage_enriched: one row per usage row (request or bucket) with what it cost and where it went.
-- context_band is decided per request from that request's input; for buckets from the mean per request.
with
usage_rows as (
    select * from usage
),

final as (
    select
        u.*,
        cast(null as varchar) as price_key,
        cast(null as decimal(38, 10)) as cost_usd,
        cast(null as boolean) as priced,
        case
            when u.input_tokens is null then null
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 8192 then '<=8K'
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 32768 then '8K-32K'
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 131072 then '32K-128K'
            else '>128K'
        end as context_band,
        case when u.batch then 'batch' else 'interactive' end as mode,
        cast(null as varchar) as segment_id
    from usage_rows as u
)

select * from final
