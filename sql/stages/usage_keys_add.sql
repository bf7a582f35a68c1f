-- usage_keys_add: append the price keys of the rows just inserted ($since: the largest rowid before the
-- file's insert; repeats already settled) to the ledger. $since = -1 appends every row's keys: the
-- rebuild, when the ledger does not describe usage (a database from before it, or usage written
-- outside ingest).
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
where rowid > $since
group by source_id, provider, model, model_ref, batch, service_tier, grain
