-- select
/* spark_template_days: the UTC days holding rows of templates promoted in this run (grain: one row per */
/* day). Runs on Spark; those days' rollups are rebuilt, as segment_dirty_days does locally. */
SELECT DISTINCT
  CAST(ts AS DATE) AS day
FROM usage_input
WHERE
  prompt_fingerprint IN (
    SELECT
      p.fp
    FROM _spark_new_templates AS p
  );
