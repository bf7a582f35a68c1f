-- ingest_dedupe_file: records of the new file that repeat an event of the same file and lose to a
-- more complete copy (most requests, then input, then output tokens), then to the earliest record,
-- are deleted. Returns how many.
delete from usage
where source_id = $source_id
    and source_row in (
        with
        new_rows as (
            select event_id, source_row, requests, input_tokens, output_tokens
            from usage
            where source_id = $source_id
        ),

        repeated as (
            select event_id from new_rows group by event_id having count(*) > 1
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
            from new_rows
            where event_id in (select event_id from repeated)
        )

        select source_row from ranked where copy_rank > 1
    )
