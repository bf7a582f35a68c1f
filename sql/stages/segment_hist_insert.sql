-- segment_hist_insert: the day histograms of the days rebuilt: token buckets, minutes by arrivals
-- (active minutes only; the empty ones are added when days merge), requests by UTC hour.
insert into segment_day_hist by name
with
tokens as (
    select
        planner_segment_id(workload_source, workload, sensitivity, context_band, mode) as segment_id,
        day,
        case when is_input then 'input' else 'output' end as histogram,
        case when is_input then input_bucket else output_bucket end as bucket,
        n
    from _seg_tok
    where case when is_input then input_bucket else output_bucket end is not null
),

arrivals as (
    select
        planner_segment_id(workload_source, workload, sensitivity, context_band, mode) as segment_id,
        day,
        'arrivals' as histogram,
        arrival_requests as bucket,
        count(*) as n
    from _seg_min
    where arrival_requests > 0
    group by all
),

hours as (
    select
        planner_segment_id(workload_source, workload, sensitivity, context_band, mode) as segment_id,
        day,
        'hour' as histogram,
        hour(minute) as bucket,
        sum(requests) as n
    from _seg_min
    where requests > 0
    group by all
)

select segment_id, day, histogram, bucket, n from tokens
union all
select segment_id, day, histogram, bucket, n from arrivals
union all
select segment_id, day, histogram, bucket, n from hours
