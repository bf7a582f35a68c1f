-- ingest_conflicts: events of the new file already stored from another file. An event always
-- keeps its timestamp, so only stored rows inside the new file's time window can match.
-- Grain: one row per (new record, stored record) pair; new_wins when the new copy is more complete.
create or replace temp table _conflicts as
with
new_rows as (
    select
        event_id,
        source_row,
        ts,
        (coalesce(requests, -1), coalesce(input_tokens, -1), coalesce(output_tokens, -1)) as measures
    from usage
    where source_id = $source_id
),

bounds as (
    select min(ts) as lo, max(ts) as hi from new_rows
),

stored as (
    select
        u.event_id,
        u.source_id,
        u.source_row,
        (coalesce(u.requests, -1), coalesce(u.input_tokens, -1), coalesce(u.output_tokens, -1)) as measures
    from usage as u, bounds as b
    where u.source_id <> $source_id and u.ts between b.lo and b.hi
)

select
    n.source_row as new_row,
    s.source_id as stored_source,
    s.source_row as stored_row,
    n.measures > s.measures as new_wins
from new_rows as n
inner join stored as s on s.event_id = n.event_id
