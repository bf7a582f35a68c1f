-- placeholder_segment_scores: an empty, connection-local segment_scores table (DESIGN §4 / docs/contracts.md columns) standing in
-- until the stage that owns segment_scores has run in this database, so the plan and the reports work on any database.
create temp table segment_scores (
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
