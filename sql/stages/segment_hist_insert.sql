-- segment_hist_insert: the day histograms of the days rebuilt: token buckets, minutes by arrivals
-- (active minutes only; the empty ones are added when days merge), requests by UTC hour, and arrivals
-- on the minute grid by UTC hour (arrivals_hour: the first and last hour of a segment's span are clipped
-- to the span when days merge, so burst_index needs their arrival counts).
insert into segment_day_hist by name
with
tokens as (
    select
        k,
        day,
        case when is_input then 'input' else 'output' end as histogram,
        case when is_input then input_bucket else output_bucket end as bucket,
        sum(n) as n
    from _seg_tok
    where case when is_input then input_bucket else output_bucket end is not null
    group by all
),

arrivals as (
    select
        k,
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
        k,
        day,
        'hour' as histogram,
        hr as bucket,
        sum(requests) as n
    from _seg_hour
    where requests > 0
    group by all
),

arrival_hours as (
    select
        k,
        day,
        'arrivals_hour' as histogram,
        hour(minute) as bucket,
        sum(arrival_requests) as n
    from _seg_min
    where arrival_requests > 0
    group by all
),

all_hist as (
    select k, day, histogram, bucket, n from tokens
    union all
    select k, day, histogram, bucket, n from arrivals
    union all
    select k, day, histogram, bucket, n from hours
    union all
    select k, day, histogram, bucket, n from arrival_hours
)

select
    key.segment_id,
    h.day,
    h.histogram,
    h.bucket,
    h.n
from all_hist as h
inner join _seg_keys as key on key.k = h.k
