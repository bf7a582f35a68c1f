-- 0009_hybrid: the hybrid option (a fleet for the base load, the overflow to today's API) and scenarios
-- (issue 12). Money DECIMAL(38,10) USD per month; NULL is unknown.

-- per segment: the decision over a grid of GPU price x volume multipliers (JSON: multipliers, one row
-- of one-character cells per volume, what each character means, where today's decision holds)
alter table segment_scores add column breakeven_map json;

-- the API cost of the hybrid segments' overflow (and failover), priced once per provider in plan_overflow
alter table plan add column overflow_api_cost_usd decimal(38, 10);

-- one row per API provider x model that takes overflow from hybrid segments of the plan
create table plan_overflow (
    run_id varchar not null,
    provider varchar,
    model varchar,
    segments integer not null,
    segment_ids varchar[] not null,
    requests_per_month double,                    -- overflow requests (pro rata: tokens follow requests)
    input_tokens_per_month double,
    output_tokens_per_month double,
    peak_overflow_per_minute double,              -- the busiest minutes of every segment added: what the
                                                  -- provider's rate limit must absorb
    overflow_api_cost_usd decimal(38, 10),        -- requests above the fleets' capacity
    failover_api_cost_usd decimal(38, 10),        -- a replica's share while it is down
    monthly_cost_usd decimal(38, 10),
    api_cost_replaced_usd decimal(38, 10)         -- today's bill of the same segments (for the share)
);
