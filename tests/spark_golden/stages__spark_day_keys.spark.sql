-- select
/* spark_day_keys: the distinct price keys of the days being rebuilt, per UTC day (grain: day x key). */
/* Runs on Spark; lands in spark_price_keys, whose sum the price stage reads instead of price_keys. */
SELECT
  CAST(ts AS DATE) AS day,
  provider,
  model,
  model_ref,
  batch,
  service_tier,
  grain,
  COUNT(*) AS rows
FROM usage_input
GROUP BY
  CAST(ts AS DATE),
  provider,
  model,
  model_ref,
  batch,
  service_tier,
  grain;
