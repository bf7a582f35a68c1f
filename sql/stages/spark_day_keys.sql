-- spark_day_keys: the distinct price keys of the days being rebuilt, per UTC day (grain: day x key).
-- Runs on Spark; lands in spark_price_keys, whose sum the price stage reads instead of price_keys.
select
    cast(ts as date) as day,
    provider,
    model,
    model_ref,
    batch,
    service_tier,
    grain,
    count(*) as rows
from usage_input
group by cast(ts as date), provider, model, model_ref, batch, service_tier, grain
