-- 0005_scoring: what each segment would cost four ways, the decision, and benchmark calibrations.
-- Money DECIMAL(38,10) USD; unknown is NULL, never 0. One set of rows per analyze run (run_id).

-- one row per segment x option (DESIGN §4): api_current, api_optimized, open_model_api, self_host
create table segment_options (
    run_id varchar not null,
    segment_id varchar not null,
    option varchar not null,
    provider varchar,                    -- API options: who serves it
    model varchar,                       -- API model_ref, or the catalog model self-hosted
    gpu varchar,                         -- self_host: catalog GPU id
    gpus integer,                        -- self_host: GPUs in the fleet (replicas x GPUs per replica)
    replicas integer,                    -- self_host: replicas (batch: replicas while a batch runs)
    monthly_cost_usd decimal(38, 10),    -- NULL when the option cannot be priced
    feasible boolean not null,
    reasons varchar[],
    overflow_share double,               -- hybrid: share of requests sent to the API
    details json                         -- cost breakdown, capacity, both views (GPU-only, full TCO)
);

-- one row per segment: the decision (docs/contracts.md)
create table segment_scores (
    run_id varchar not null,
    segment_id varchar not null,
    decision varchar not null,           -- migrate | pilot | optimize_api | stay
    chosen_option varchar not null,
    monthly_savings_usd decimal(38, 10),
    breakeven_months double,
    one_time_cost_usd decimal(38, 10),
    flips json,                          -- [{assumption, value, unit, flips_at, sentence, ...}]
    reasons varchar[],
    current_monthly_cost_usd decimal(38, 10),
    chosen_monthly_cost_usd decimal(38, 10),
    decision_gpu_only varchar,           -- what a GPU-rent-only comparison would have said
    monthly_savings_gpu_only_usd decimal(38, 10),
    confidence varchar                   -- med | low | calibrated (self-host capacity estimate)
);

-- `planner calibrate`: measured benchmark points that replace default efficiencies per model x GPU
create table calibrations (
    calibration_id varchar primary key,  -- sha256 of the file + benchmark index
    imported_at timestamp not null,
    path varchar,
    file_sha256 varchar,
    tool varchar,                        -- vllm-bench-serve | guidellm
    benchmark_index integer,
    model varchar not null,              -- catalog model id
    gpu varchar not null,                -- catalog GPU id
    gpus integer not null,               -- GPUs per replica (tensor parallel)
    served_model varchar,                -- model id as the benchmark named it
    input_tokens double,                 -- mean per request
    output_tokens double,
    max_concurrency double,
    request_rate varchar,
    completed bigint,
    request_throughput double,           -- req/s measured
    output_throughput double,            -- output tok/s measured
    mean_ttft_ms double,
    p99_ttft_ms double,
    mean_tpot_ms double,
    mean_itl_ms double,
    mean_e2el_ms double,
    est_tpot_ms double,                  -- the roofline at the measured concurrency
    est_ttft_ms double,
    est_output_throughput double,
    decode_factor double,                -- est TPOT / measured TPOT: scales decode speed
    ttft_factor double,                  -- measured TTFT / raw estimate: replaces the TTFT overhead factor
    run_id varchar
);
