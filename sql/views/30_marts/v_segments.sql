-- v_segments: one row per segment of the latest analyze run that wrote segments (a finished run when
-- there is one): workload x sensitivity x context band x mode, with volume, cost and token shape.
with
latest as (
    select
        coalesce(
            (
                select max(s.run_id)
                from segments as s
                inner join runs as r on r.run_id = s.run_id
                where r.status in ('ok', 'findings') and r.scenario is null   -- not what-if runs
            ),
            (select max(s.run_id) from segments as s)
        ) as run_id
),

final as (
    select
        s.*,
        s.requests / nullif(sum(s.requests) over (), 0) as request_share,
        s.cost_usd / nullif(sum(s.cost_usd) over (), 0) as cost_share
    from segments as s
    inner join latest as l on l.run_id = s.run_id
)

select * from final
order by cost_usd desc nulls last, requests desc, segment_id
