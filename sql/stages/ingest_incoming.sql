-- ingest_incoming: the good rows of the staged file, one per event_id.
-- Grain: one row per event. Where a file repeats an event, the most complete copy wins
-- (most requests, then input, then output tokens), then the earliest record.
create or replace temp table _incoming as
select * exclude (_err_field, _err_column, _err_reason, _raw, _prompt)
from _stage
where _err_reason is null
qualify row_number() over (
    partition by event_id
    order by
        coalesce(requests, -1) desc,
        coalesce(input_tokens, -1) desc,
        coalesce(output_tokens, -1) desc,
        source_row
) = 1
