-- Stand-in usage_enriched: the real view's columns, with cost from standin_prices and a segment_id
-- of workload x sensitivity x context band x mode (what the segments stage will do, simplified).
create or replace view usage_enriched as
with
base as (
    select
        u.*,
        case
            when u.input_tokens is null then null
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 8192 then '<=8K'
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 32768 then '8K-32K'
            when u.input_tokens / greatest(coalesce(u.requests, 1), 1) <= 131072 then '32K-128K'
            else '>128K'
        end as context_band,
        case when u.batch then 'batch' else 'interactive' end as mode
    from usage as u
),

final as (
    select
        b.*,
        case when p.model is null then null else b.provider || ':' || b.model end as price_key,
        cast(
            ((coalesce(b.input_tokens, 0) - coalesce(b.cached_input_tokens, 0)) * p.input_mtok
             + coalesce(b.cached_input_tokens, 0) * p.cached_input_mtok
             + case when b.status = 'error' then 0 else coalesce(b.output_tokens, 0) end * p.output_mtok)
            * case when b.batch then p.batch_factor else 1 end * 0.000001
            as decimal(38, 10)) as cost_usd,
        p.model is not null as priced,
        'seg_' || substr(md5(concat_ws('|', coalesce(b.workload, b.project, '?'), coalesce(b.sensitivity, '?'),
                                         b.context_band, b.mode)), 1, 10) as segment_id
    from base as b
    left join standin_prices as p on p.provider = b.provider and p.model = b.model
)

select * from final
