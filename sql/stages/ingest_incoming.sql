-- ingest_incoming: the good rows of the staged file, one per event_id (see ingest_dups).
create or replace temp view _incoming as
select * exclude (_err_field, _err_column, _err_reason, _raw)
from _stage
where _err_reason is null and source_row not in (select source_row from _dup_losers)
