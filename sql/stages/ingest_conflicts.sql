-- ingest_conflicts: events just inserted (rowid > $since) that were already stored from another
-- file. Only stored rows near the new rows' time window can match: two copies of one event may
-- carry its time at different precisions (milliseconds in one export, microseconds in another), so
-- the window is widened by a day on each side. Grain: one row per
-- (new row, stored row) pair; new_wins when the new copy is more complete.
create or replace temp table _conflicts as
with
new_rows as (
    select
        rowid as row_key,
        event_id,
        ts,
        (coalesce(requests, -1), coalesce(input_tokens, -1), coalesce(output_tokens, -1)) as measures
    from usage
    where rowid > $since
),

bounds as (
    select min(ts) as lo, max(ts) as hi from new_rows
),

stored as (
    select
        u.rowid as row_key,
        u.event_id,
        (coalesce(u.requests, -1), coalesce(u.input_tokens, -1), coalesce(u.output_tokens, -1)) as measures
    from usage as u, bounds as b
    where u.rowid <= $since and u.ts between b.lo - interval 1 day and b.hi + interval 1 day
)

select
    n.row_key as new_key,
    s.row_key as stored_key,
    n.measures > s.measures as new_wins
from new_rows as n
inner join stored as s on s.event_id = n.event_id
