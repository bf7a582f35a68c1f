-- segment_summary: what the segment stage reports for run $run_id.
select
    count(*) as segments,
    count(*) filter (where workload_kind is null) as unknown_kind,
    count(*) filter (where coarse_timestamps) as coarse
from segments
where run_id = $run_id
