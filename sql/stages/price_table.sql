-- price_table: the prices in use, for `planner prices` (one row per price key).
select
    provider,
    model_ref,
    price_tier,
    service_tier,
    batch,
    case when valid_from > timestamp '0001-01-01' then cast(valid_from as date) end as valid_from,
    case when valid_to < timestamp '9999-12-31' then cast(valid_to as date) end as valid_to,
    case when daily_from is not null then substr(cast(daily_from as varchar), 1, 5) || '-'
        || substr(cast(daily_to + interval 1 microsecond as varchar), 1, 5) end
        as daily_window,
    case
        when input_above < 0 and input_up_to = 9223372036854775807 then 'all'
        when input_above < 0 then '<=' || input_up_to
        else '>' || input_above
    end as input_tokens,
    input_mtok,
    cached_input_mtok,
    cache_write_mtok,
    output_mtok,
    request_kusd,
    basis,
    snapshot_date,
    source
from prices
order by provider, model_ref, price_tier, service_tier, batch, valid_from, daily_from, context_tier
