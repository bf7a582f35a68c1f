-- mooncake_cached_prefix: cached input per trace request, from the hash_ids of its 512-token blocks.
-- Grain: one row per record of the staged trace `_mooncake_src` (_row = line number).
-- A block is cached when an EARLIER line of the file already carried its id (an unbounded prefix
-- cache); a request's cached input is its leading run of such blocks x $block_tokens, capped at its
-- input_length. NULL when the line has no hash_ids; 0 for an empty list.
create or replace temp table _mooncake_cached as
with
-- block ids as BIGINT (integers as written; any other id hashed to 63 bits) so grouping stays cheap
parsed as (
    select
        _row,
        hash_ids,
        case when json_type(hash_ids) = 'ARRAY' then from_json(hash_ids, '["BIGINT"]') end as int_ids,
    from _mooncake_src
    where _ok and hash_ids is not null and json_valid(hash_ids)
),

ids as (
    select
        _row,
        case
            when int_ids is null then null
            when list_count(int_ids) = len(int_ids) then int_ids
            else list_transform(json_extract_string(hash_ids, '$[*]'), lambda x: cast(hash(x) >> 1 as bigint))
        end as block_ids,
    from parsed
),

blocks as (
    select
        _row,
        unnest(block_ids) as block_id,
        generate_subscripts(block_ids, 1) as block_pos,
    from ids
    where len(block_ids) > 0
),

first_seen as (
    select
        block_id,
        min(_row) as first_row,
    from blocks
    group by block_id
),

leading_run as (
    select
        b._row,
        coalesce(min(b.block_pos) filter (where f.first_row = b._row), max(b.block_pos) + 1) - 1 as cached_blocks,
    from blocks as b
    inner join first_seen as f on f.block_id = b.block_id
    group by b._row
),

final as (
    select
        ids._row,
        least(
            coalesce(leading_run.cached_blocks, 0) * $block_tokens,
            try_cast(s.input_length as bigint)
        ) as cached_tokens,
    from ids
    inner join _mooncake_src as s on s._row = ids._row
    left join leading_run on leading_run._row = ids._row
    where ids.block_ids is not null
)

select * from final
