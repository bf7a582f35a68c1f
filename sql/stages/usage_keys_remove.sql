-- usage_keys_remove: stored rows about to lose to a new copy (_conflicts.new_wins) leave the ledger:
-- their keys are appended with negative counts.
insert into usage_keys
select
    source_id,
    provider,
    model,
    model_ref,
    batch,
    service_tier,
    grain,
    -count(*) as rows,
    -sum(requests) as requests,
    null as ts_min,
    null as ts_max
from usage
where rowid in (select stored_key from _conflicts where new_wins)
group by source_id, provider, model, model_ref, batch, service_tier, grain
