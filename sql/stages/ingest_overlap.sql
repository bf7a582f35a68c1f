-- ingest_overlap: stored rows inside the incoming file's time window. Zero means no incoming
-- event can already be stored (an event always keeps its timestamp), so the upsert can be skipped.
select count(*) as stored_rows
from usage
where ts between (select min(ts) from _incoming) and (select max(ts) from _incoming)
