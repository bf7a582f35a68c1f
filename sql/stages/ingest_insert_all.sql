-- ingest_insert_all: every incoming event, when none can already be stored (see ingest_overlap).
insert into usage by name
select * from _incoming
