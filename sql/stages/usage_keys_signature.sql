-- usage_keys_signature: whether the key ledger describes usage: both sides' row count and sum of key hashes
-- (one pass over usage's key columns, no GROUP BY; the ledger side is a few hundred rows). Any insert,
-- delete or key change made outside ingest makes them differ.
with
ledger as (
    select
        coalesce(sum(rows), 0) as rows,
        coalesce(sum(rows * hash(provider, model, model_ref, batch, service_tier, grain)), 0) as key_hash
    from usage_keys
),

live as (
    select
        count(*) as rows,
        coalesce(sum(hash(provider, model, model_ref, batch, service_tier, grain)), 0) as key_hash
    from usage
)

select ledger.rows = live.rows and ledger.key_hash = live.key_hash as in_sync
from ledger, live
