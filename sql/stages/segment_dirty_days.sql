-- segment_dirty_days: the UTC days whose rollups must be rebuilt (temp table): days of rows from
-- sources not segmented yet, and days holding rows of templates promoted in this run.
create or replace temp table _seg_days as
select distinct cast(ts as date) as day
from usage
where
    source_id in (select s.source_id from _seg_new_sources as s)
    or prompt_fingerprint in (select p.fp from _seg_fp_promoted as p)
