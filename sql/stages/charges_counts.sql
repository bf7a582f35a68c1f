-- charges_counts: lines read and rejected in the staged file.
select
    count(*) as rows_read,
    count(*) filter (where _err_reason is not null) as rows_rejected
from _charges_stage
