-- export_trace: a segment's request rows as a Mooncake trace: milliseconds since the first request,
-- input and output lengths, and one id per 512-token block of the prompt. Blocks inside the cached prefix
-- are shared by requests with the same prompt fingerprint (same template); the rest are unique, so
-- replay sees the same prefix-cache hit ratio as the logs. Failed requests and bucket rows are left out.
with
rows as (
    select ts, event_id, input_tokens, coalesce(cached_input_tokens, 0) as cached, output_tokens,
           coalesce(prompt_fingerprint, '') as fingerprint
    from usage_enriched
    where segment_id = $segment_id
      and grain = 'request'
      and coalesce(status, 'ok') <> 'error'
      and input_tokens is not null
      and output_tokens is not null
    order by ts, event_id
    limit $limit
),

blocks as (
    select
        *,
        cast(ceil(input_tokens / 512) as bigint) as n_blocks,
        least(cast(floor(cached / 512) as bigint), cast(ceil(input_tokens / 512) as bigint)) as n_shared,
        dense_rank() over (order by fingerprint) - 1 as fp_rank
    from rows
),

numbered as (
    select
        *,
        coalesce(sum(n_blocks - n_shared) over (order by ts, event_id rows between unbounded preceding and 1 preceding), 0)
            as unique_before,
        max(n_shared) over () as shared_max,
        count(distinct fingerprint) over () as fingerprints,
        min(ts) over () as t0
    from blocks
),

final as (
    select
        ts,
        event_id,
        to_json(struct_pack(
            timestamp := epoch_ms(ts) - epoch_ms(t0),
            input_length := input_tokens,
            output_length := output_tokens,
            hash_ids := list_transform(range(n_blocks), lambda i:
                case when i < n_shared then fp_rank * shared_max + i
                     else fingerprints * shared_max + unique_before + (i - n_shared) end)
        )) as line
    from numbered
)

select line from final order by ts, event_id
