-- charges_grouping_overlap: stored lines of the same provider, over the same periods, cut by another
-- group_by than the staged file (line items, project, API key). Their keys differ, so both load, and
-- both bill the same money: totals would count it twice. One row per provider at risk.
with
staged as (
    select
        provider,
        period_start,
        period_end,
        list_filter(
            [
                case when description is not null then 'description' end,
                case when project is not null then 'project' end,
                case when api_key_id is not null then 'api_key_id' end
            ],
            lambda d: d is not null
        ) as dims
    from _charges_stage
    where _err_reason is null
),

incoming as (
    select
        provider,
        min(period_start) as first_ts,
        max(period_end) as last_ts,
        list_sort(list_distinct(flatten(list(dims)))) as grouping
    from staged
    group by all
),

stored as (
    select
        c.source_id,
        c.provider,
        list_sort(list_distinct(flatten(list(list_filter(
            [
                case when c.description is not null then 'description' end,
                case when c.project is not null then 'project' end,
                case when c.api_key_id is not null then 'api_key_id' end
            ],
            lambda d: d is not null
        ))))) as grouping
    from charges as c
    inner join incoming as i
        on c.provider = i.provider
        and c.period_start < i.last_ts
        and c.period_end > i.first_ts
    where
        c.source_id <> $source_id
        -- a constant window first, so row groups outside the file's days are skipped (periods are <= 31 days)
        and c.period_start between (select min(first_ts) from incoming) - interval 31 day
            and (select max(last_ts) from incoming)
    group by all
),

final as (
    select
        s.provider,
        null as kind,
        i.grouping as file_grouping,
        s.grouping as stored_grouping,
        null as file_width,
        null as stored_width,
        count(distinct s.source_id) as files,
        min(src.path) as first_path
    from stored as s
    inner join incoming as i on s.provider = i.provider
    inner join sources as src on src.source_id = s.source_id
    where s.grouping <> i.grouping
    group by all
)

select * from final
order by provider, first_path
