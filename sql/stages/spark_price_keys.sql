-- spark_price_keys: the price keys of the Spark input over every day rolled up so far, in the shape of
-- price_keys (grain: one row per key). Local: the price stage reads it under --engine spark.
select
    provider,
    model,
    model_ref,
    batch,
    service_tier,
    grain,
    sum(rows) as rows
from spark_price_keys
group by all
