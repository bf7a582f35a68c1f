-- charges_incoming: the good lines of the staged file, one per charge_id.
-- Grain: one row per billed line. Where a file repeats a line (overlapping pages saved together),
-- the last copy in the file wins: earlier copies are dropped through a window over two narrow columns.
create or replace temp table _charges_incoming as
select * exclude (_err_field, _err_column, _err_reason, _raw, _notes, _key)
from _charges_stage
where _err_reason is null;

delete from _charges_incoming
where source_row in (
    select source_row
    from (
        select source_row, row_number() over (partition by charge_id order by source_row desc) as copy
        from _charges_incoming
    )
    where copy > 1
)
