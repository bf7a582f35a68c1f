-- segment_exact: exact token quantiles per segment from the raw rows (temp table), used while the data
-- is small (segments.exact_quantiles_max_rows). Request rows only: a bucket's requests have no
-- individual sizes, so segments holding buckets keep the histogram figures.
create or replace temp table _seg_exact as
select
    planner_key_segment_id(
        workload_source, wl_name, c_project, c_key, c_model, sensitivity, context_band, mode
    ) as segment_id,
    quantile_cont(input_tokens, 0.5) as p50_input,
    quantile_cont(input_tokens, 0.95) as p95_input,
    quantile_cont(input_tokens, 0.99) as p99_input,
    quantile_cont(output_tokens, 0.5) as p50_output,
    quantile_cont(output_tokens, 0.95) as p95_output,
    quantile_cont(output_tokens, 0.99) as p99_output,
    count(*) filter (where grain = 'bucket') as bucket_rows
from _seg_rows
where coalesce(status, 'ok') <> 'error'
group by workload_source, wl_name, fingerprint_basis, c_project, c_key, c_model, sensitivity, context_band, mode
