-- Stand-in segmentation: one row per segment_id of the stand-in usage_enriched, with DESIGN §4 stats.
insert into segments by name
with
rows as (
    select *, input_tokens / greatest(requests, 1) as per_input, output_tokens / greatest(requests, 1) as per_output
    from usage_enriched
    where segment_id is not null
),

minutes as (
    select segment_id, date_trunc('minute', ts) as minute, sum(requests) as n
    from rows
    group by all
),

per_minute as (
    select segment_id, max(n) as peak, var_pop(n) as var_n
    from minutes
    group by all
),

agg as (
    select
        segment_id,
        any_value(coalesce(workload, project)) as workload,
        case when bool_or(workload is not null) then 'declared' else 'fingerprint' end as workload_source,
        case any_value(coalesce(workload, project))
            when 'ticket-extraction' then 'extraction'
            when 'contract-summaries' then 'summarization'
            when 'support-chat' then 'chat'
            when 'consumer-chat' then 'chat'
        end as workload_kind,
        any_value(sensitivity) as sensitivity,
        any_value(context_band) as context_band,
        any_value(mode) as mode,
        sum(requests) as requests,
        sum(requests) filter (where status = 'error') as failed_requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cost_usd) as cost_usd,
        min(ts) as first_ts,
        max(ts) as last_ts,
        quantile_cont(per_input, 0.5) as p50_input,
        quantile_cont(per_input, 0.95) as p95_input,
        quantile_cont(per_input, 0.99) as p99_input,
        quantile_cont(per_output, 0.5) as p50_output,
        quantile_cont(per_output, 0.95) as p95_output,
        quantile_cont(per_output, 0.99) as p99_output,
        sum(cached_input_tokens) / nullif(sum(input_tokens), 0) as cached_share,
        avg(case when mode = 'interactive' then 1.0 else 0.0 end) as interactive_share
    from rows
    group by segment_id
),

final as (
    select
        $run_id as run_id,
        a.segment_id,
        a.workload,
        a.workload_source,
        a.workload_kind,
        a.sensitivity,
        a.context_band,
        a.mode,
        a.requests,
        coalesce(a.failed_requests, 0) as failed_requests,
        a.input_tokens,
        a.cached_input_tokens,
        a.output_tokens,
        a.cost_usd,
        a.first_ts,
        a.last_ts,
        a.p50_input,
        a.p95_input,
        a.p99_input,
        a.p50_output,
        a.p95_output,
        a.p99_output,
        a.cached_share,
        a.requests / greatest(date_diff('minute', a.first_ts, a.last_ts) + 1, 1) as mean_per_minute,
        m.peak as peak_per_minute,
        m.peak / nullif(a.requests / greatest(date_diff('minute', a.first_ts, a.last_ts) + 1, 1), 0) as peak_to_mean,
        m.var_n / nullif(a.requests / greatest(date_diff('minute', a.first_ts, a.last_ts) + 1, 1), 0) as variance_to_mean,
        null as empty_minutes,
        null as longest_idle_s,
        false as coarse_timestamps,
        a.interactive_share
    from agg as a
    join per_minute as m using (segment_id)
)

select * from final
