-- segment_days_insert: one row per segment x day rebuilt, from the minute rollup and the session counts.
-- max_gap_s is the longest gap between consecutive active minutes inside the day (first arrival of a
-- minute minus last arrival of the previous active one); gaps inside a single minute are below 60 s.
insert into segment_days by name
with
minutes as (
    select
        *,
        lag(last_ts) over (
            partition by workload, workload_source, fingerprint_basis, sensitivity, context_band, mode, day
            order by minute
        ) as prev_last_ts
    from _seg_min
),

per_day as (
    select
        planner_segment_id(workload_source, workload, sensitivity, context_band, mode) as segment_id,
        day,
        workload,
        workload_source,
        fingerprint_basis,
        max(rule_kind) as rule_kind,
        sensitivity,
        context_band,
        mode,
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
        max(epoch(first_ts) - epoch(prev_last_ts)) as max_gap_s,
        count(*) filter (where arrival_requests > 0) as active_minutes,
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
    from minutes
    group by workload, workload_source, fingerprint_basis, sensitivity, context_band, mode, day
),

final as (
    select
        p.*,
        coalesce(s.sessions, 0) as sessions
    from per_day as p
    left join _seg_sess as s
        on
            s.day = p.day
            and s.workload is not distinct from p.workload
            and s.workload_source is not distinct from p.workload_source
            and s.fingerprint_basis is not distinct from p.fingerprint_basis
            and s.sensitivity is not distinct from p.sensitivity
            and s.context_band is not distinct from p.context_band
            and s.mode is not distinct from p.mode
)

select * from final
