-- ingest_dups: good records of the staged file that repeat an event of the same file and lose to a
-- more complete copy (most requests, then input, then output tokens), then to the earliest record.
-- Grain: one row per losing record.
create or replace temp table _dup_losers as
with
repeated as (
    select event_id
    from _stage
    where _err_reason is null
    group by event_id
    having count(*) > 1
),

ranked as (
    select
        source_row,
        row_number() over (
            partition by event_id
            order by
                coalesce(requests, -1) desc,
                coalesce(input_tokens, -1) desc,
                coalesce(output_tokens, -1) desc,
                source_row
        ) as copy_rank
    from _stage
    where _err_reason is null and event_id in (select event_id from repeated)
)

select source_row from ranked where copy_rank > 1
