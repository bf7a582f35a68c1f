-- segment_keys: every segment key of the days being rebuilt, with its segment id and workload name
-- (temp table, from the hour rollup). k is the hash of the key columns, what the minute grid groups on.
create or replace temp table _seg_keys as
with
keys as (
    select distinct
        k,
        workload_source,
        wl_name,
        fingerprint_basis,
        c_project,
        c_key,
        c_model,
        sensitivity,
        context_band,
        mode
    from _seg_hour
)

select
    k,
    workload_source,
    planner_key_workload(wl_name, c_project, c_key, c_model) as workload,
    fingerprint_basis,
    sensitivity,
    context_band,
    mode,
    planner_key_segment_id(
        workload_source, wl_name, c_project, c_key, c_model, sensitivity, context_band, mode
    ) as segment_id
from keys
