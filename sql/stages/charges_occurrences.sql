-- charges_occurrences: lines of one file that share a natural key are distinct charges (FOCUS has no line
-- id): the n-th occurrence, in file order, gets the id of key + n. Re-exports number them the same way.
update _charges_stage as s
set charge_id = md5(s._key || ':' || cast(d.occurrence as varchar))
from (
    select source_row, row_number() over (partition by _key order by source_row) as occurrence
    from _charges_stage
) as d
where d.source_row = s.source_row and d.occurrence > 1
