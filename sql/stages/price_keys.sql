-- price_keys: one row per distinct raw price key in usage, from the key ledger (usage_keys, kept at
-- ingest; planner.price_keys rebuilds it from usage first when it is stale). The date and long-context
-- dimensions of a key come from the model's price structure, not from the rows.
select
    provider,
    model,
    model_ref,
    batch,
    service_tier,
    grain,
    sum(rows) as rows
from usage_keys
group by provider, model, model_ref, batch, service_tier, grain
having sum(rows) > 0
