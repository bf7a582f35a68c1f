-- 0011_price_keys: the distinct price keys of usage, kept at ingest, so the price stage reads a few
-- hundred key rows instead of grouping every usage row.

-- a ledger of price keys per source file: the file's rows by provider x model x model_ref x batch x
-- service tier x grain, appended in the file's transaction from the rows just inserted. When a later
-- file wins a repeated event, the stored copy's key is appended with negative counts (sum per key for
-- the live figure). The price stage checks the ledger against usage (row count and a sum of key
-- hashes: one pass, no GROUP BY) and rebuilds it from usage only when they differ.
create table usage_keys (
    source_id varchar not null,
    provider varchar,
    model varchar,
    model_ref varchar,
    batch boolean,
    service_tier varchar,
    grain varchar not null,
    rows bigint not null,                -- negative: rows of this key removed by a later file
    requests bigint,
    ts_min timestamp,                    -- bounds of the rows appended (may be wider than what remains)
    ts_max timestamp
);
