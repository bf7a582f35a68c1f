-- select
/* spark_days: the UTC days of the Spark input from $since on (grain: one row per day), with their rows. */
/* Runs on Spark; the runner filters the input on ts (and on its day partition column) first. */
SELECT
  CAST(ts AS DATE) AS day,
  COUNT(*) AS rows
FROM usage_input
WHERE
  ts >= :since
GROUP BY
  CAST(ts AS DATE);
