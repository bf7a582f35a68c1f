-- ingest_reject_malformed: CSV records the reader could not split into the header's columns
-- (too many or too few fields, broken quoting). Record number = file line - 1 (the header).
insert into rejected by name
select
    $source_id as source_id,
    cast(line as bigint) - 1 as source_row,
    cast(null as varchar) as field,
    column_name as source_column,
    lower(error_type) || ': ' || error_message as reason,
    left(csv_line, 1024) as raw,
    $path as path,
    $run_id as run_id
from _csv_rejects
