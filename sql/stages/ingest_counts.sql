-- ingest_counts: records read, rejected, and distinct good events in the staged file.
select
    count(*) as rows_read,
    count(*) filter (where _err_reason is not null) as rows_rejected,
    (select count(*) from _incoming) as rows_incoming
from _stage
