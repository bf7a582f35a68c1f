-- create_table _seg_grid
WITH per_row AS (
  SELECT
    k,
    day,
    minute,
    arrivals,
    CASE WHEN COALESCE(status, 'ok') <> 'error' AND requests > 0 THEN requests END AS ok_requests,
    CASE
      WHEN COALESCE(status, 'ok') = 'error' OR NOT requests > 0 OR input_tokens IS NULL
      THEN NULL
      WHEN input_tokens < requests
      THEN -1
      ELSE CAST(FLOOR(LOG(2, CAST(input_tokens AS DOUBLE) / NULLIF(requests, 0)) * 16) AS BIGINT)
    END AS input_bucket,
    CASE
      WHEN COALESCE(status, 'ok') = 'error' OR NOT requests > 0 OR output_tokens IS NULL
      THEN NULL
      WHEN output_tokens < requests
      THEN -1
      ELSE CAST(FLOOR(LOG(2, CAST(output_tokens AS DOUBLE) / NULLIF(requests, 0)) * 16) AS BIGINT)
    END AS output_bucket
  FROM _seg_rows
)
SELECT
  k,
  day,
  minute,
  input_bucket,
  output_bucket,
  GROUPING(minute) = 0 AS is_minute,
  GROUPING(input_bucket) = 0 AS is_input,
  SUM(arrivals) AS arrival_requests,
  SUM(ok_requests) AS n
FROM per_row
GROUP BY
  GROUPING SETS (
    (k, day, minute),
    (k, day, input_bucket),
    (k, day, output_bucket)
  );
