-- ingest_overlap: stored rows (rowid <= $since) inside the time window of the rows just inserted.
-- Zero means no new event can repeat a stored one (an event always keeps its timestamp).
with bounds as (
    select min(ts) as lo, max(ts) as hi from usage where rowid > $since
)

select count(*) as stored_rows
from usage, bounds
where usage.rowid <= $since and usage.ts between bounds.lo and bounds.hi
