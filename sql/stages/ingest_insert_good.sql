-- ingest_insert_good: every record of the staged file that passed its checks. Returns the count.
-- Repeats (within the file, or of events already stored) are settled afterwards.
insert into usage by name
select * exclude (_err_field, _err_column, _err_reason, _raw, _prompt)
from _stage
where _err_reason is null
