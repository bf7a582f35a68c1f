-- calibrate_insert: one measured benchmark point and the factors derived from it.
insert or replace into calibrations (
    calibration_id, imported_at, path, file_sha256, tool, benchmark_index, model, gpu, gpus, served_model,
    input_tokens, output_tokens, max_concurrency, request_rate, completed, request_throughput,
    output_throughput, mean_ttft_ms, p99_ttft_ms, mean_tpot_ms, mean_itl_ms, mean_e2el_ms,
    est_tpot_ms, est_ttft_ms, est_output_throughput, decode_factor, ttft_factor, run_id
)
values (
    $calibration_id, $imported_at, $path, $file_sha256, $tool, $benchmark_index, $model, $gpu, $gpus, $served_model,
    $input_tokens, $output_tokens, $max_concurrency, $request_rate, $completed, $request_throughput,
    $output_throughput, $mean_ttft_ms, $p99_ttft_ms, $mean_tpot_ms, $mean_itl_ms, $mean_e2el_ms,
    $est_tpot_ms, $est_ttft_ms, $est_output_throughput, $decode_factor, $ttft_factor, $run_id
)
