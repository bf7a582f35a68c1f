-- usage_grouping_overlap: stored bucket rows of the same provider and kind, over the same hours, that were
-- exported with another group_by or another bucket width than the staged file. Their bucket keys differ,
-- so both load, and both cut the same traffic: totals would count it twice. One row per (provider, kind)
-- at risk. The width compared is each file's most common one (a last bucket may be cut short).
-- $dim_tags: tag keys that are group-by dimensions for the staged format.
with
staged as (
    select
        provider,
        kind,
        ts,
        ts_end,
        list_filter(
            [
                case when model is not null then 'model' end,
                case when project is not null then 'project' end,
                case when api_key_id is not null then 'api_key_id' end,
                case when user_id is not null then 'user_id' end,
                case when batch is not null then 'batch' end,
                case when service_tier is not null then 'service_tier' end
            ] || list_filter(map_keys(tags), lambda k: list_contains(cast($dim_tags as varchar[]), k)),
            lambda d: d is not null
        ) as dims
    from _stage
    where _err_reason is null and grain = 'bucket'
),

incoming as (
    select
        provider,
        kind,
        min(ts) as first_ts,
        max(ts_end) as last_ts,
        list_sort(list_distinct(flatten(list(dims)))) as grouping,
        mode(ts_end - ts) as width
    from staged
    group by all
),

stored as (
    select
        u.source_id,
        u.provider,
        u.kind,
        list_sort(list_distinct(flatten(list(list_filter(
            [
                case when u.model is not null then 'model' end,
                case when u.project is not null then 'project' end,
                case when u.api_key_id is not null then 'api_key_id' end,
                case when u.user_id is not null then 'user_id' end,
                case when u.batch is not null then 'batch' end,
                case when u.service_tier is not null then 'service_tier' end
            ] || list_filter(map_keys(u.tags), lambda k: list_contains(cast($dim_tags as varchar[]), k)),
            lambda d: d is not null
        ))))) as grouping,
        mode(u.ts_end - u.ts) as width
    from usage as u
    inner join incoming as i
        on u.provider = i.provider
        and u.kind is not distinct from i.kind
        and u.ts < i.last_ts
        and u.ts_end > i.first_ts
    where
        u.grain = 'bucket'
        and u.source_id <> $source_id
        -- a constant window first, so row groups outside the file's hours are skipped (buckets are <= 1 day)
        and u.ts between (select min(first_ts) from incoming) - interval 1 day and (select max(last_ts) from incoming)
    group by all
),

final as (
    select
        s.provider,
        s.kind,
        i.grouping as file_grouping,
        s.grouping as stored_grouping,
        cast(i.width as varchar) as file_width,
        cast(s.width as varchar) as stored_width,
        count(distinct s.source_id) as files,
        min(src.path) as first_path
    from stored as s
    inner join incoming as i on s.provider = i.provider and s.kind is not distinct from i.kind
    inner join sources as src on src.source_id = s.source_id
    where s.grouping <> i.grouping or s.width is distinct from i.width
    group by all
)

select * from final
order by provider, kind, first_path
