-- spark_template_days: the UTC days holding rows of templates promoted in this run (grain: one row per
-- day). Runs on Spark; those days' rollups are rebuilt, as segment_dirty_days does locally.
select distinct cast(ts as date) as day
from usage_input
where prompt_fingerprint in (select p.fp from _spark_new_templates as p)
