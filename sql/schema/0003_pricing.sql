-- 0003_pricing: what each (provider, model) resolved to, the unit prices in use, and the API price book.
-- Money is DECIMAL(38,10) USD per million tokens (per thousand requests for request fees). Unknown is NULL.

-- one row per distinct (provider, model) seen in usage: the id genai-prices knows, or why there is none
create table price_models (
    provider varchar,                    -- as in usage (may be NULL)
    model varchar,                       -- as in usage (raw)
    model_ref varchar,                   -- normalised id written to usage.model_ref; NULL when unresolved
    gp_provider varchar,                 -- genai-prices provider id used for the lookup
    gp_model varchar,                    -- genai-prices model id (= model_ref unless an override names a private model)
    status varchar not null,             -- priced | override | unknown_model | unknown_provider | unsupported
    reason varchar,                      -- why unpriced, or how the name was normalised
    rows bigint,
    needs_update boolean not null default false,  -- usage.model_ref differs for some rows of this pair
    run_id varchar
);

-- one row per price key: the raw key columns of usage (provider, model_ref, batch, service_tier) x a dated
-- price period (x a time-of-day window where the provider has one) x a long-context tier. usage_enriched
-- joins each usage row to the one row whose period holds its ts and whose tier holds its input size.
create table prices (
    price_key varchar primary key,
    provider varchar,
    model_ref varchar not null,
    batch boolean,                       -- as in usage (NULL matches NULL)
    service_tier varchar,                -- as in usage (NULL matches NULL)
    price_tier varchar not null,         -- standard | batch | flex | priority | ... (normalised)
    gp_provider varchar,
    gp_model varchar,
    valid_from timestamp not null,       -- period start, inclusive (0001-01-01 = since ever)
    valid_to timestamp not null,         -- period end, exclusive (9999-12-31 = still in force)
    daily_from time,                     -- time-of-day window (UTC), inclusive; NULL = all day
    daily_to time,                       -- inclusive (the next window's start less 1 microsecond)
    context_tier integer not null,       -- 0 = base tier
    input_above bigint not null,         -- the tier holds requests with input_tokens > input_above ...
    input_up_to bigint not null,         -- ... and <= input_up_to
    input_mtok decimal(38, 10),
    cached_input_mtok decimal(38, 10),   -- NULL: cache reads bill at input_mtok
    cache_write_mtok decimal(38, 10),    -- NULL: cache writes bill at input_mtok
    output_mtok decimal(38, 10),         -- NULL: output not billed (embeddings)
    request_kusd decimal(38, 10),        -- USD per 1,000 requests, NULL when none
    batch_input_mtok decimal(38, 10),    -- the model's batch prices, for reference (NULL when unknown)
    batch_output_mtok decimal(38, 10),
    failed_billing varchar not null,     -- not_billed | input_only: how status = 'error' rows are priced
    basis varchar not null,              -- where the numbers come from: genai-prices, a variant, a rule, an override
    note varchar,
    snapshot_date date,
    source varchar not null,
    run_id varchar
);

-- one row per API offer a segment could be priced on (docs/contracts.md)
create table api_price_book (
    provider varchar not null,
    model_ref varchar not null,
    catalog_model varchar,               -- open-weight catalog id (llama-3.3-70b, ...), NULL for closed models
    variant varchar not null,            -- standard | batch | flex | priority
    input_mtok decimal(38, 10),
    cached_input_mtok decimal(38, 10),   -- NULL: cached tokens bill at input_mtok
    cache_write_mtok decimal(38, 10),    -- NULL: cache writes bill at input_mtok
    output_mtok decimal(38, 10),
    request_kusd decimal(38, 10),
    long_context_start bigint,           -- long-context tier applies when a request's input > this; NULL = none
    long_context_input_mtok decimal(38, 10),
    long_context_cached_input_mtok decimal(38, 10),
    long_context_cache_write_mtok decimal(38, 10),
    long_context_output_mtok decimal(38, 10),
    context_window bigint,
    offer_kind varchar not null,         -- current (seen in usage) | open_model | same_provider
    open_weights boolean not null,
    basis varchar not null,
    price_date date,                     -- prices in force on this date
    snapshot_date date,
    source varchar not null,
    run_id varchar
);
