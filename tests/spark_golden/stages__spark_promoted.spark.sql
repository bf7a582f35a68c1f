-- select
/* spark_promoted: prompt templates seen at least $min_requests times in the whole Spark input (grain: one */
/* row per template). Runs on Spark over every day (one column), as segment_fingerprints counts all of usage. */
SELECT
  prompt_fingerprint AS fp,
  COUNT(*) AS n
FROM usage_input
WHERE
  NOT prompt_fingerprint IS NULL
GROUP BY
  prompt_fingerprint
HAVING
  COUNT(*) >= :min_requests;
