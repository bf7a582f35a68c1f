-- charges_reject: every line of the staged file that failed a check, with its reason. Never dropped.
insert into rejected by name
select
    source_id,
    source_row,
    _err_field as field,
    _err_column as source_column,
    _err_reason as reason,
    _raw as raw,
    $path as path,
    $run_id as run_id
from _charges_stage
where _err_reason is not null
