-- 0006_plan: the migration plan (issue 8). One set of rows per analyze run (run_id), so `planner diff`
-- compares runs. Money DECIMAL(38,10) USD per month unless the name says otherwise; NULL is unknown.

-- one row per run: the headline figures of plan.json `portfolio`
create table plan (
    run_id varchar primary key,
    segments_total integer not null,
    segments_moving integer not null,
    segments_staying integer not null,
    current_monthly_cost_usd decimal(38, 10),     -- api_current of every scored segment
    moved_api_cost_usd decimal(38, 10),           -- api_current of the segments that move
    self_host_cost_usd decimal(38, 10),           -- shared fleets: GPUs, labour, per-node observability
    other_api_cost_usd decimal(38, 10),           -- segments moving to another API offer
    fixed_cost_usd decimal(38, 10),               -- portfolio-wide fixed costs, counted once
    plan_monthly_cost_usd decimal(38, 10),        -- self_host + other_api + fixed
    monthly_savings_usd decimal(38, 10),          -- moved_api_cost - plan_monthly_cost
    standalone_savings_usd decimal(38, 10),       -- sum of per-segment savings as scored alone
    one_time_cost_usd decimal(38, 10),
    breakeven_month integer,                      -- first month from which cumulative savings stay >= 0
    horizon_months integer not null,
    savings_1x_usd decimal(38, 10),
    savings_3x_usd decimal(38, 10),
    savings_5x_usd decimal(38, 10),
    deployments integer not null,
    gpus integer not null
);

-- one row per wave: segments that move together, in order
create table plan_waves (
    run_id varchar not null,
    wave integer not null,
    name varchar not null,
    risk varchar not null,                        -- low | medium | high (the highest in the wave)
    start_month integer not null,                 -- months after the plan starts (wave 1: 0)
    segments integer not null,
    segment_ids varchar[] not null,
    moved_api_cost_usd decimal(38, 10),           -- api_current of this wave's segments
    one_time_cost_usd decimal(38, 10),
    monthly_savings_usd decimal(38, 10),          -- portfolio savings once waves 1..wave are live
    incremental_savings_usd decimal(38, 10),      -- what this wave adds
    rationale varchar,
    primary key (run_id, wave)
);

-- one row per scored segment: what the plan does with it
create table plan_segments (
    run_id varchar not null,
    segment_id varchar not null,
    workload varchar,                             -- copied from segments, so v_plan reads plan tables only
    workload_kind varchar,
    sensitivity varchar,
    mode varchar,
    action varchar not null,                      -- self_host | open_model_api | api_optimized | stay
    wave integer,
    deployment_id varchar,
    risk_score integer,
    risk varchar,
    risk_reasons varchar[],
    current_monthly_cost_usd decimal(38, 10),
    chosen_monthly_cost_usd decimal(38, 10),
    monthly_savings_usd decimal(38, 10),
    one_time_cost_usd decimal(38, 10),
    stay_reasons varchar[],
    primary key (run_id, segment_id)
);

-- one row per shared fleet (model x GPU x GPUs per replica)
create table plan_deployments (
    run_id varchar not null,
    deployment_id varchar not null,
    model varchar not null,
    gpu varchar not null,
    gpus_per_replica integer not null,
    load_replicas decimal(18, 6),                 -- replicas the pooled design peak needs, before spares
    spare_replicas integer not null,
    replicas integer not null,
    gpus integer not null,
    nodes integer not null,
    gpu_month_usd decimal(38, 10),                -- one GPU for one month
    gpu_cost_usd decimal(38, 10),
    labor_cost_usd decimal(38, 10),
    observability_cost_usd decimal(38, 10),
    monthly_cost_usd decimal(38, 10),
    api_cost_replaced_usd decimal(38, 10),
    monthly_savings_usd decimal(38, 10),
    crossover_volume decimal(18, 4),              -- x today's volume where the fleet starts to win
    max_model_len bigint,
    first_wave integer,
    segments integer not null,
    segment_ids varchar[] not null,
    primary key (run_id, deployment_id)
);

-- volume what-ifs: the portfolio (scope = 'portfolio') and each deployment at multiples of today
create table plan_volume (
    run_id varchar not null,
    scope varchar not null,
    multiplier decimal(18, 4) not null,
    api_cost_usd decimal(38, 10),
    plan_cost_usd decimal(38, 10),
    savings_usd decimal(38, 10),
    primary key (run_id, scope, multiplier)
);

-- month by month: savings of the live waves, one-time costs, cumulative
create table plan_cashflow (
    run_id varchar not null,
    month integer not null,
    live_waves integer not null,
    monthly_savings_usd decimal(38, 10),
    one_time_cost_usd decimal(38, 10),
    cumulative_usd decimal(38, 10),
    primary key (run_id, month)
);

-- what the plan's reader must know (also printed on stderr by analyze)
create table plan_warnings (
    run_id varchar not null,
    ord integer not null,
    line varchar not null,
    primary key (run_id, ord)
);

-- segments the scoring kept on their API whose self-hosted option runs on a fleet the plan builds anyway:
-- at the marginal cost of the replicas they add, they would save money (listed, not moved: the decision
-- stays the scoring stage's)
create table plan_opportunities (
    run_id varchar not null,
    segment_id varchar not null,
    deployment_id varchar not null,
    current_monthly_cost_usd decimal(38, 10),
    marginal_cost_usd decimal(38, 10),
    monthly_savings_usd decimal(38, 10),
    replicas_added integer not null,
    primary key (run_id, segment_id)
);
