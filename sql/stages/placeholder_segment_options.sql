-- placeholder_segment_options: an empty, connection-local segment_options table (DESIGN §4 / docs/contracts.md columns) standing in
-- until the stage that owns segment_options has run in this database, so the plan and the reports work on any database.
create temp table segment_options (
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
