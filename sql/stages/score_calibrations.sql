-- score_calibrations: grain = catalog model x GPU x GPUs per replica. The latest calibration file
-- for each, its points summarised by their median (a sweep gives several points).
with
ranked as (
    select
        *,
        dense_rank() over (partition by model, gpu, gpus order by imported_at desc, file_sha256) as recency
    from calibrations
),

final as (
    select
        model,
        gpu,
        gpus,
        min(tool) as tool,
        min(path) as path,
        min(file_sha256) as file_sha256,
        count(*) as points,
        median(decode_factor) as decode_factor,
        median(ttft_factor) as ttft_factor
    from ranked
    where recency = 1
    group by model, gpu, gpus
)

select * from final
order by model, gpu, gpus
