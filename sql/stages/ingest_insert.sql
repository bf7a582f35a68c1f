-- ingest_insert: incoming events not stored yet. Returns the number of rows inserted.
insert into usage by name
select i.*
from _incoming as i
where not exists (
    select 1
    from usage as u
    where
        u.event_id = i.event_id
        and u.ts between (select min(ts) from _incoming) and (select max(ts) from _incoming)
)
