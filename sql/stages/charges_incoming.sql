-- charges_incoming: the good lines of the staged file, one per charge_id.
-- Grain: one row per billed line. Where a file repeats a line (overlapping pages saved together),
-- the last copy in the file wins.
create or replace temp table _charges_incoming as
select * exclude (_err_field, _err_column, _err_reason, _raw, _notes)
from _charges_stage
where _err_reason is null
qualify row_number() over (partition by charge_id order by source_row desc) = 1
