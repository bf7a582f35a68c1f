-- Stand-in upstream tables (segments, scoring, pricing) for tests and the example report, created only
-- where their own migrations are not in this branch. Columns follow DESIGN §4 and docs/contracts.md.
create table if not exists segments (
    run_id varchar not null,
    segment_id varchar not null,
    workload varchar,
    workload_source varchar,
    workload_kind varchar,
    sensitivity varchar,
    context_band varchar,
    mode varchar,
    requests bigint,
    failed_requests bigint,
    input_tokens bigint,
    cached_input_tokens bigint,
    output_tokens bigint,
    cost_usd decimal(38, 10),
    first_ts timestamp,
    last_ts timestamp,
    p50_input double,
    p95_input double,
    p99_input double,
    p50_output double,
    p95_output double,
    p99_output double,
    cached_share double,
    mean_per_minute double,
    peak_per_minute double,
    peak_to_mean double,
    variance_to_mean double,
    empty_minutes bigint,
    longest_idle_s double,
    coarse_timestamps boolean,
    interactive_share double
);

create table if not exists segment_options (
    run_id varchar not null,
    segment_id varchar not null,
    option varchar not null,
    provider varchar,
    model varchar,
    gpu varchar,
    gpus integer,
    replicas integer,
    monthly_cost_usd decimal(38, 10),
    feasible boolean,
    reasons varchar[],
    overflow_share double,
    details json
);

create table if not exists segment_scores (
    run_id varchar not null,
    segment_id varchar not null,
    decision varchar,
    chosen_option varchar,
    monthly_savings_usd decimal(38, 10),
    breakeven_months double,
    one_time_cost_usd decimal(38, 10),
    flips json,
    reasons varchar[]
);

create table if not exists standin_prices (
    provider varchar,
    model varchar,
    input_mtok decimal(38, 10),
    cached_input_mtok decimal(38, 10),
    output_mtok decimal(38, 10),
    batch_factor decimal(38, 10)
);
