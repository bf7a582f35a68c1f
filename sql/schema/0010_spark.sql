-- 0010_spark: what `planner run --engine spark` keeps in the DuckDB file. The request rows stay in the
-- lake; Spark sends back small rollups, and everything downstream (pricing, scoring, plan, reports, the
-- views) runs here on them. Empty in a database built by the DuckDB engine.

-- usage_enriched rolled up on Spark per UTC day and every column a local query groups or filters on
-- (grain, provider, model, price, segment, sensitivity, entity types, and the per-request token size
-- classes of the report's histogram). usage_enriched reads it as rows of its own (UNION BY NAME):
-- sums are exact; ts is the group's first arrival, ts_end its last end; per-request ids, tags,
-- latencies and api_key_id are NULL; usage_rows counts the request rows behind the row.
create table usage_rollup (
    event_id varchar,
    source_id varchar,                   -- 'spark:' + the input's identity
    source_row bigint,
    grain varchar,
    ts timestamp,
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
    status varchar,
    latency_ms double,
    ttft_ms double,
    billed_cost_usd decimal(38, 10),
    prompt_chars bigint,
    prompt_sha256 varchar,
    prompt_fingerprint varchar,
    pii_types varchar[],
    sensitivity varchar,
    kind varchar,
    sensitivity_declared varchar,
    sensitivity_source varchar,
    sensitivity_policy varchar,
    allow_third_party boolean,
    price_key varchar,
    cost_usd decimal(38, 16),
    priced boolean,
    context_band varchar,
    mode varchar,
    segment_id varchar,
    usage_rows bigint                    -- request rows behind this row
);

-- distinct price keys of the Spark input per UTC day: the price stage reads their sum, so a nightly run
-- scans only the new days for keys
create table spark_price_keys (
    day date not null,
    provider varchar,
    model varchar,
    model_ref varchar,
    batch boolean,
    service_tier varchar,
    grain varchar,
    rows bigint not null
);
