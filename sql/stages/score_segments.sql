-- score_segments: the segments of one analyze run, one row each.
select *
from segments
where run_id = $run_id
order by segment_id
