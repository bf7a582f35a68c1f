-- usage_keys_rebuild: the whole ledger from usage (one GROUP BY), when it does not describe usage: a
-- database from before the ledger, or usage written outside ingest.
insert into usage_keys
select
    source_id,
    provider,
    model,
    model_ref,
    batch,
    service_tier,
    grain,
    count(*) as rows,
    sum(requests) as requests,
    min(ts) as ts_min,
    max(ts) as ts_max
from usage
group by source_id, provider, model, model_ref, batch, service_tier, grain
