-- spark_promoted: prompt templates seen at least $min_requests times in the whole Spark input (grain: one
-- row per template). Runs on Spark over every day (one column), as segment_fingerprints counts all of usage.
select
    prompt_fingerprint as fp,
    count(*) as n
from usage_input
where prompt_fingerprint is not null
group by prompt_fingerprint
having count(*) >= $min_requests
