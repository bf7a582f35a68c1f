-- segment_days_insert: one row per segment x day rebuilt, from the hour rollup (sums, first and last
-- arrival), the minute grid (active minutes) and the session counts. max_gap_s is the longest step
-- between consecutive active minutes inside the day, in whole minutes (the true gap is within 60 s
-- of it); gaps across midnight are measured exactly when the days merge.
insert into segment_days by name
with
sums as (
    select
        k,
        day,
        max(rule_kind) as rule_kind,
        sum(usage_rows) as usage_rows,
        sum(bucket_rows) as bucket_rows,
        sum(requests) as requests,
        sum(failed_requests) as failed_requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        sum(output_tokens) as output_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cached_known_input_tokens) as cached_known_input_tokens,
        sum(cost_usd) as cost_usd,
        sum(priced_requests) as priced_requests,
        sum(unpriced_requests) as unpriced_requests,
        sum(billed_cost_usd) as billed_cost_usd,
        sum(arrival_requests) as arrival_requests,
        min(first_ts) as first_ts,
        max(last_ts) as last_ts,
        sum(subsecond_rows) as subsecond_rows,
        sum(subminute_rows) as subminute_rows,
        sum(arrival_rows) as arrival_rows,
        sum(interactive_requests) as interactive_requests,
        sum(session_requests) as session_requests,
        sum(tool_requests) as tool_requests,
        sum(image_requests) as image_requests,
        sum(embedding_requests) as embedding_requests,
        sum(text_requests) as text_requests,
        sum(pii_requests) as pii_requests,
        sum(third_party_allowed) as third_party_allowed,
        sum(third_party_denied) as third_party_denied
    from _seg_hour
    group by k, day
),

minutes as (
    select
        k,
        day,
        minute,
        lag(minute) over (partition by k, day order by minute) as prev_minute
    from _seg_min
),

arrivals as (
    select
        k,
        day,
        60.0 * max(date_diff('minute', prev_minute, minute)) as max_gap_s,
        count(*) as active_minutes
    from minutes
    group by k, day
),

-- burstiness inside each hour: variance/mean of the hour's 60 per-minute counts is s2/s1 - s1/60
-- (s1, s2: sum of k and of k^2 over the hour); weighted by s1 it adds up across hours and days.
-- Summed as integers (60 s2 - s1^2), divided once: the same double on every engine and in any order
hour_dispersion as (
    select
        k,
        day,
        cast(sum(60 * s2 - s1 * s1) as double) / 60.0 as burst_weighted,
        sum(s1) as burst_weight
    from (
        select
            k,
            day,
            hour(minute) as hr,
            sum(arrival_requests) as s1,
            sum(arrival_requests * arrival_requests) as s2
        from _seg_min
        group by k, day, hour(minute)
    ) as h
    group by k, day
),

final as (
    select
        key.segment_id,
        key.workload,
        key.workload_source,
        key.fingerprint_basis,
        key.sensitivity,
        key.context_band,
        key.mode,
        s.* exclude (k),
        a.max_gap_s,
        coalesce(a.active_minutes, 0) as active_minutes,
        coalesce(x.sessions, 0) as sessions,
        d.burst_weighted,
        d.burst_weight
    from sums as s
    inner join _seg_keys as key on key.k = s.k
    left join arrivals as a on a.k = s.k and a.day = s.day
    left join _seg_sess as x on x.k = s.k and x.day = s.day
    left join hour_dispersion as d on d.k = s.k and d.day = s.day
)

select * from final
