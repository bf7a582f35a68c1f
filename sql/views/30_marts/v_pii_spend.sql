-- v_pii_spend: requests, tokens and spend that carry personal data or secrets, by segment, provider,
-- model and entity type (types only: values are never stored). A request with two entity types counts
-- under both; `(none)` = scanned and clean; `(not scanned)` = no prompt text in the source.
with
rows_with_entities as (
    select
        u.segment_id,
        u.sensitivity,
        u.provider,
        u.model,
        u.requests,
        u.input_tokens,
        u.output_tokens,
        u.cost_usd,
        u.priced,
        unnest(
            case
                when u.pii_types is null then ['(not scanned)']
                when len(u.pii_types) = 0 then ['(none)']
                else u.pii_types
            end
        ) as entity
    from usage_enriched as u
),

latest_segments as (
    select s.segment_id, s.workload
    from segments as s
    where s.run_id = coalesce(
        (
            select max(x.run_id)
            from segments as x
            inner join runs as r on r.run_id = x.run_id
            where r.status in ('ok', 'findings')
        ),
        (select max(x.run_id) from segments as x)
    )
),

final as (
    select
        r.segment_id,
        s.workload,
        r.sensitivity,
        r.provider,
        r.model,
        r.entity,
        sum(r.requests) as requests,
        sum(r.input_tokens) as input_tokens,
        sum(r.output_tokens) as output_tokens,
        sum(r.cost_usd) as cost_usd,
        coalesce(sum(r.requests) filter (where not coalesce(r.priced, false)), 0) as unpriced_requests
    from rows_with_entities as r
    left join latest_segments as s on s.segment_id = r.segment_id
    group by all
)

select * from final
order by entity in ('(none)', '(not scanned)'), cost_usd desc nulls last, requests desc
