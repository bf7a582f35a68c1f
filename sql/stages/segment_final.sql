-- segment_final: one row per segment for this run ($run_id), merged from the day rollups.
-- Per-minute figures cover the segment's own span (first to last arrival, whole minutes): the minute
-- histogram gets its empty minutes here, so mean, variance and peak include idle time.
insert into segments by name
with
days as (
    select * from segment_days
),

per_segment as (
    select
        segment_id,
        any_value(workload) as workload,
        any_value(workload_source) as workload_source,
        any_value(fingerprint_basis) as fingerprint_basis,
        max(rule_kind) as rule_kind,
        any_value(sensitivity) as sensitivity,
        any_value(context_band) as context_band,
        any_value(mode) as mode,
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
        max(max_gap_s) as max_gap_in_day_s,
        sum(active_minutes) as active_minutes,
        sum(subsecond_rows) as subsecond_rows,
        sum(subminute_rows) as subminute_rows,
        sum(arrival_rows) as arrival_rows,
        sum(interactive_requests) as interactive_requests,
        sum(session_requests) as session_requests,
        sum(sessions) as sessions,
        sum(tool_requests) as tool_requests,
        sum(image_requests) as image_requests,
        sum(embedding_requests) as embedding_requests,
        sum(text_requests) as text_requests,
        sum(pii_requests) as pii_requests,
        sum(third_party_allowed) as third_party_allowed,
        sum(third_party_denied) as third_party_denied,
        sum(burst_weighted) as burst_weighted,
        sum(burst_weight) as burst_weight,
        count(*) filter (where requests > 0) as days_active
    from days
    group by segment_id
),

-- gaps that cross midnight: first arrival of a day minus the last arrival of the previous active day
day_gaps as (
    select
        segment_id,
        max(epoch(first_ts) - epoch(prev_last_ts)) as max_gap_across_days_s
    from (
        select
            segment_id,
            first_ts,
            lag(last_ts) over (partition by segment_id order by day) as prev_last_ts
        from days
        where first_ts is not null
    ) as d
    group by segment_id
),

arrival_hist as (
    select
        segment_id,
        bucket as arrivals,
        sum(n) as minutes
    from segment_day_hist
    where histogram = 'arrivals'
    group by segment_id, bucket
),

span as (
    select
        segment_id,
        date_diff('minute', date_trunc('minute', first_ts), date_trunc('minute', last_ts)) + 1 as span_minutes,
        active_minutes,
        arrival_requests
    from per_segment
    where first_ts is not null
),

-- burst_index sums, per hour, s2 - s1^2/60 (s1, s2: arrivals and squared arrivals over its 60 minutes).
-- The first and last hour of the span only count their minutes inside the span (n): a trace that starts
-- at :45 or stops at :10 is not idle for the rest of that hour. The correction s1^2 (1/60 - 1/n) turns
-- those hours' terms into s2 - s1^2/n; it needs only their arrival counts.
edge_hours as (
    select
        p.segment_id,
        sum(
            cast(h.n as double) * h.n * (1 / 60.0 - 1.0 / (
                case
                    when date_trunc('hour', p.first_ts) = date_trunc('hour', p.last_ts)
                        then minute(p.last_ts) - minute(p.first_ts) + 1
                    when h.day = cast(p.first_ts as date) and h.bucket = hour(p.first_ts) then 60 - minute(p.first_ts)
                    else minute(p.last_ts) + 1
                end
            ))
        ) as burst_correction
    from per_segment as p
    inner join segment_day_hist as h
        on h.segment_id = p.segment_id
        and h.histogram = 'arrivals_hour'
        and (
            (h.day = cast(p.first_ts as date) and h.bucket = hour(p.first_ts))
            or (h.day = cast(p.last_ts as date) and h.bucket = hour(p.last_ts))
        )
    where p.first_ts is not null
    group by p.segment_id
),

arrival_stats as (
    select
        s.segment_id,
        s.span_minutes,
        s.span_minutes - s.active_minutes as empty_minutes,
        max(h.arrivals) as peak_per_minute,
        sum(h.minutes * h.arrivals * h.arrivals) as sum_sq,
        list(struct_pack(arrivals := h.arrivals, minutes := h.minutes) order by h.arrivals) as active_hist
    from span as s
    inner join arrival_hist as h on h.segment_id = s.segment_id
    group by s.segment_id, s.span_minutes, s.active_minutes
),

hours as (
    select
        segment_id,
        list(coalesce(n, 0) order by hr) as hour_profile
    from (
        select
            p.segment_id,
            g.hr,
            h.n
        from per_segment as p
        cross join (select unnest(range(24)) as hr) as g
        left join (
            select
                segment_id,
                bucket,
                sum(n) as n
            from segment_day_hist
            where histogram = 'hour'
            group by segment_id, bucket
        ) as h on h.segment_id = p.segment_id and h.bucket = g.hr
    ) as x
    group by segment_id
),

token_cum as (
    select
        segment_id,
        histogram,
        bucket,
        n,
        sum(n) over (
            partition by segment_id, histogram order by bucket rows between unbounded preceding and current row
        ) as cum_n,
        sum(n) over (partition by segment_id, histogram) as total_n
    from (
        select
            segment_id,
            histogram,
            bucket,
            sum(n) as n
        from segment_day_hist
        where histogram in ('input', 'output')
        group by segment_id, histogram, bucket
    ) as t
),

token_q as (
    select
        segment_id,
        histogram,
        min(bucket) filter (where cum_n >= 0.50 * total_n) as b50,
        min(bucket) filter (where cum_n >= 0.95 * total_n) as b95,
        min(bucket) filter (where cum_n >= 0.99 * total_n) as b99
    from token_cum
    group by segment_id, histogram
),

quantiles as (
    select
        segment_id,
        max(case when histogram = 'input' then b50 end) as in50,
        max(case when histogram = 'input' then b95 end) as in95,
        max(case when histogram = 'input' then b99 end) as in99,
        max(case when histogram = 'output' then b50 end) as out50,
        max(case when histogram = 'output' then b95 end) as out95,
        max(case when histogram = 'output' then b99 end) as out99
    from token_q
    group by segment_id
),

shaped as (
    select
        p.*,
        a.span_minutes,
        a.empty_minutes,
        a.peak_per_minute,
        p.arrival_requests / nullif(a.span_minutes, 0) as mean_per_minute,
        a.sum_sq / nullif(a.span_minutes, 0)
            - pow(p.arrival_requests / nullif(a.span_minutes, 0), 2) as variance_per_minute,
        case
            when a.empty_minutes > 0
                then list_prepend(struct_pack(arrivals := cast(0 as bigint), minutes := a.empty_minutes), a.active_hist)
            else a.active_hist
        end as minute_histogram,
        greatest(coalesce(p.max_gap_in_day_s, 0), coalesce(g.max_gap_across_days_s, 0)) as longest_idle_s,
        p.burst_weighted + coalesce(b.burst_correction, 0) as burst_weighted_span,
        h.hour_profile,
        e.segment_id is not null and coalesce(e.bucket_rows, 0) = 0 and p.bucket_rows = 0 as exact_q,
        e.p50_input as e_in50,
        e.p95_input as e_in95,
        e.p99_input as e_in99,
        e.p50_output as e_out50,
        e.p95_output as e_out95,
        e.p99_output as e_out99,
        q.in50,
        q.in95,
        q.in99,
        q.out50,
        q.out95,
        q.out99
    from per_segment as p
    left join arrival_stats as a on a.segment_id = p.segment_id
    left join day_gaps as g on g.segment_id = p.segment_id
    left join edge_hours as b on b.segment_id = p.segment_id
    left join hours as h on h.segment_id = p.segment_id
    left join _seg_exact as e on e.segment_id = p.segment_id
    left join quantiles as q on q.segment_id = p.segment_id
),

with_q as (
    select
        *,
        case when exact_q then e_in50 else planner_hist_value(in50) end as p50_input,
        case when exact_q then e_in95 else planner_hist_value(in95) end as p95_input,
        case when exact_q then e_in99 else planner_hist_value(in99) end as p99_input,
        case when exact_q then e_out50 else planner_hist_value(out50) end as p50_output,
        case when exact_q then e_out95 else planner_hist_value(out95) end as p95_output,
        case when exact_q then e_out99 else planner_hist_value(out99) end as p99_output,
        session_requests / nullif(sessions, 0) as turns_per_session,
        tool_requests / nullif(requests, 0) as tool_share,
        image_requests / nullif(requests, 0) as image_share,
        embedding_requests / nullif(requests, 0) as embedding_share
    from shaped
),

kinds as (
    select
        *,
        case
            when rule_kind is not null then rule_kind
            when workload_source in ('rule', 'declared') and planner_kind_from_name(workload) is not null
                then planner_kind_from_name(workload)
            when embedding_share >= $kind_share then 'embedding'
            when tool_share >= $kind_share then 'agentic'
            when image_share >= $kind_share then 'vision'
            when p50_input >= $long_min_in then 'long_document'
            when p95_output <= $cls_max_out then 'classification'
            when turns_per_session >= $chat_min_turns and mode = 'interactive' then 'chat'
        end as workload_kind,
        case
            when rule_kind is not null then 'rule'
            when workload_source in ('rule', 'declared') and planner_kind_from_name(workload) is not null then 'name'
            when embedding_share >= $kind_share then 'signal'
            when tool_share >= $kind_share then 'signal'
            when image_share >= $kind_share then 'signal'
            when p50_input >= $long_min_in then 'signal'
            when p95_output <= $cls_max_out then 'signal'
            when turns_per_session >= $chat_min_turns and mode = 'interactive' then 'signal'
        end as kind_source,
        case
            when rule_kind is not null then 'workload rule'
            when workload_source in ('rule', 'declared') and planner_kind_from_name(workload) is not null
                then 'workload name'
            when embedding_share >= $kind_share then 'embedding requests: ' || round(100 * embedding_share, 1) || '%'
            when tool_share >= $kind_share then 'requests with tool calls: ' || round(100 * tool_share, 1) || '%'
            when image_share >= $kind_share then 'requests with images: ' || round(100 * image_share, 1) || '%'
            when p50_input >= $long_min_in then 'median input ' || round(p50_input) || ' tokens'
            when p95_output <= $cls_max_out then 'p95 output ' || round(p95_output) || ' tokens'
            when turns_per_session >= $chat_min_turns and mode = 'interactive'
                then round(turns_per_session, 1) || ' turns per session'
        end as kind_signal
    from with_q
),

final as (
    select
        $run_id as run_id,
        segment_id,
        workload,
        workload_source,
        fingerprint_basis,
        workload_kind,
        kind_source,
        kind_signal,
        sensitivity,
        case
            when third_party_denied > 0 then false
            when third_party_allowed = requests and requests > 0 then true
        end as allow_third_party,
        context_band,
        mode,
        requests,
        failed_requests,
        failed_requests / nullif(requests, 0) as failed_share,
        input_tokens,
        cached_input_tokens,
        cache_write_tokens,
        output_tokens,
        reasoning_tokens,
        -- rows without a request count (the Anthropic usage report) are priced when none is unpriced
        case when priced_requests > 0 or (priced_requests is null and unpriced_requests = 0) then cost_usd end
            as cost_usd,
        unpriced_requests,
        billed_cost_usd,
        first_ts,
        last_ts,
        days_active,
        p50_input,
        p95_input,
        p99_input,
        p50_output,
        p95_output,
        p99_output,
        input_tokens / nullif(requests, 0) as mean_input,
        output_tokens / nullif(requests, 0) as mean_output,
        case when exact_q then 'exact' else 'histogram' end as quantile_method,
        case when exact_q then 0.0 else pow(2, 1 / 32.0) - 1 end as quantile_rel_error,
        cached_input_tokens / nullif(cached_known_input_tokens, 0) as cached_share,
        interactive_requests / nullif(requests, 0) as interactive_share,
        span_minutes,
        arrival_requests,
        mean_per_minute,
        peak_per_minute,
        peak_per_minute / nullif(mean_per_minute, 0) as peak_to_mean,
        greatest(variance_per_minute, 0) / nullif(mean_per_minute, 0) as variance_to_mean,
        greatest(burst_weighted_span, 0) / nullif(burst_weight, 0) as burst_index,
        empty_minutes,
        case when arrival_requests > 0 then longest_idle_s end as longest_idle_s,
        case
            when arrival_rows = 0 then null
            when subsecond_rows >= $coarse_share * arrival_rows then 0.001
            when subminute_rows >= $coarse_share * arrival_rows then 1.0
            else 60.0
        end as ts_resolution_s,
        case
            when arrival_rows = 0 then null
            else subsecond_rows < $coarse_share * arrival_rows
        end as coarse_timestamps,
        minute_histogram,
        hour_profile,
        case when session_requests > 0 then sessions end as sessions,
        turns_per_session,
        tool_share,
        image_share,
        pii_requests / nullif(text_requests, 0) as pii_share,
        usage_rows,
        bucket_rows
    from kinds
)

select * from final
