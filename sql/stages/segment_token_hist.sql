-- segment_token_hist: the merged input/output token histograms of every segment for run $run_id, with
-- each bucket's token range (16 buckets per doubling; bucket -1 holds requests of zero tokens).
insert into segment_token_hist by name
select
    $run_id as run_id,
    segment_id,
    histogram as measure,
    bucket,
    case when bucket < 0 then 0.0 else pow(2, bucket / 16.0) end as lo_tokens,
    case when bucket < 0 then 1.0 else pow(2, (bucket + 1) / 16.0) end as hi_tokens,
    sum(n) as requests
from segment_day_hist
where histogram in ('input', 'output')
group by segment_id, histogram, bucket
