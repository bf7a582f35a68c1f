-- 0001_init: the canonical store (DESIGN §4). Times are UTC (naive TIMESTAMP), money DECIMAL(38,10) USD,
-- token counts BIGINT. Unknown is NULL, never 0.

-- one row per ingested file (or per file that failed to parse: status = 'failed')
create table sources (
    source_id varchar primary key,      -- sha256 of the file's bytes
    path varchar not null,
    format varchar,
    bytes bigint,
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    rows_duplicate bigint,
    options json,                        -- mapping and flags used
    ingested_at timestamp,
    run_id varchar,
    status varchar not null,             -- loaded | failed
    error varchar
);

-- one row per request, or per bucket where the source only has aggregates
create table usage (
    event_id varchar not null,
    source_id varchar not null,
    source_row bigint,
    grain varchar not null,              -- request | bucket
    ts timestamp not null,
    ts_end timestamp,
    provider varchar,
    model varchar,
    model_ref varchar,
    project varchar,
    api_key_id varchar,
    user_id varchar,
    session_id varchar,
    request_id varchar,
    workload varchar,
    tags map(varchar, varchar),
    requests bigint,
    input_tokens bigint,
    cached_input_tokens bigint,
    cache_write_tokens bigint,
    output_tokens bigint,
    reasoning_tokens bigint,
    batch boolean,
    service_tier varchar,
    status varchar,                      -- ok | error
    latency_ms double,
    ttft_ms double,
    billed_cost_usd decimal(38, 10),
    prompt_chars bigint,
    prompt_sha256 varchar,
    prompt_fingerprint varchar,
    pii_types varchar[],
    sensitivity varchar,
    kind varchar                         -- usage kind where the source says (completion, embedding, image, ...)
);

-- billed line items (FOCUS, OpenAI costs, Anthropic cost report)
create table charges (
    charge_id varchar not null,
    source_id varchar not null,
    source_row bigint,
    provider varchar,
    provider_name varchar,
    service varchar,
    sku varchar,
    charge_category varchar,
    period_start timestamp,
    period_end timestamp,
    billed_cost decimal(38, 10),
    effective_cost decimal(38, 10),
    list_cost decimal(38, 10),
    currency varchar,
    billed_cost_usd decimal(38, 10),
    consumed_quantity decimal(38, 10),
    consumed_unit varchar,
    model varchar,
    is_llm_tokens boolean,
    tags map(varchar, varchar),
    description varchar,
    project varchar,
    token_type varchar,                  -- input | output | cache_read | cache_write where the line says
    service_tier varchar
);

-- rows that could not be loaded, with the reason; never dropped silently
create table rejected (
    source_id varchar not null,
    source_row bigint,
    field varchar,
    source_column varchar,
    reason varchar not null,
    raw varchar,                         -- the record, truncated to 1 KB, text fields redacted
    path varchar,
    run_id varchar
);

create table runs (
    run_id varchar primary key,          -- begins with the UTC date and time, so ids sort by time
    command varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,             -- running | ok | findings | failed | interrupted
    exit_code integer,
    planner_version varchar,
    price_snapshot_date date,
    config_hash varchar,
    scenario varchar,
    message varchar
);

create table assumptions (
    run_id varchar not null,
    key varchar not null,
    value varchar,
    unit varchar,
    source varchar,
    origin varchar                       -- default | config | flag | calibration | scenario
);

-- a bounded, deterministic sample of REDACTED prompts (the only place prompt text lives)
create table prompt_samples (
    event_id varchar not null,
    source_id varchar not null,
    sample_key varchar not null,         -- the group sampled: workload or prompt fingerprint
    prompt_fingerprint varchar,
    workload varchar,
    sample_hash varchar not null,        -- bottom-k by this hash: the same sample whatever the file order
    redacted_text varchar not null,
    prompt_chars bigint,
    output_tokens bigint,
    pii_types varchar[]
);

create table check_results (
    run_id varchar,
    check_name varchar not null,
    failing_rows bigint not null,
    blocking boolean not null,
    checked_at timestamp not null
);
