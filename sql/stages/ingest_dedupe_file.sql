-- ingest_dedupe_file: rows just inserted ($since: the largest rowid before the insert) that repeat
-- an event of the same file and lose to a more complete copy (most requests, then input, then
-- output tokens), then to the earliest record, are deleted. Returns how many.
delete from usage
where rowid in (
    with
    repeated as (
        select event_id
        from usage
        where rowid > $since
        group by event_id
        having count(*) > 1
    ),

    ranked as (
        select
            rowid as row_key,
            row_number() over (
                partition by event_id
                order by
                    coalesce(requests, -1) desc,
                    coalesce(input_tokens, -1) desc,
                    coalesce(output_tokens, -1) desc,
                    source_row
            ) as copy_rank
        from usage
        where rowid > $since and event_id in (select event_id from repeated)
    )

    select row_key from ranked where copy_rank > 1
)
