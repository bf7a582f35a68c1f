-- ingest_supersede: stored rows whose incoming copy is more complete are removed; the incoming copy
-- replaces them. (A bucket exported again later holds at least as much as before.)
-- The time window lets DuckDB skip row groups that cannot hold the same events.
delete from usage
where event_id in (
    select i.event_id
    from _incoming as i
    inner join usage as u on u.event_id = i.event_id
    where
        u.ts between (select min(ts) from _incoming) and (select max(ts) from _incoming)
        and (coalesce(i.requests, -1), coalesce(i.input_tokens, -1), coalesce(i.output_tokens, -1))
        > (coalesce(u.requests, -1), coalesce(u.input_tokens, -1), coalesce(u.output_tokens, -1))
)
