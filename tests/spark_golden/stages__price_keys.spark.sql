-- select
/* price_keys: one row per distinct raw price key in usage. The only scan of usage the price stage makes: */
/* the date and long-context dimensions of a key come from the model's price structure, not from the rows. */
SELECT
  provider,
  model,
  model_ref,
  batch,
  service_tier,
  grain,
  COUNT(*) AS rows
FROM usage
GROUP BY ALL;
