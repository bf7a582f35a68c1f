-- insert segment_day_hist
WITH tokens AS (
  SELECT
    k,
    day,
    CASE WHEN is_input THEN 'input' ELSE 'output' END AS histogram,
    CASE WHEN is_input THEN input_bucket ELSE output_bucket END AS bucket,
    SUM(n) AS n
  FROM _seg_tok
  WHERE
    NOT CASE WHEN is_input THEN input_bucket ELSE output_bucket END IS NULL
  GROUP BY ALL
), arrivals AS (
  SELECT
    k,
    day,
    'arrivals' AS histogram,
    arrival_requests AS bucket,
    COUNT(*) AS n
  FROM _seg_min
  WHERE
    arrival_requests > 0
  GROUP BY ALL
), hours AS (
  SELECT
    k,
    day,
    'hour' AS histogram,
    hr AS bucket,
    SUM(requests) AS n
  FROM _seg_hour
  WHERE
    requests > 0
  GROUP BY ALL
), arrival_hours AS (
  SELECT
    k,
    day,
    'arrivals_hour' AS histogram,
    HOUR(minute) AS bucket,
    SUM(arrival_requests) AS n
  FROM _seg_min
  WHERE
    arrival_requests > 0
  GROUP BY ALL
), all_hist AS (
  SELECT
    k,
    day,
    histogram,
    bucket,
    n
  FROM tokens
  UNION ALL
  SELECT
    k,
    day,
    histogram,
    bucket,
    n
  FROM arrivals
  UNION ALL
  SELECT
    k,
    day,
    histogram,
    bucket,
    n
  FROM hours
  UNION ALL
  SELECT
    k,
    day,
    histogram,
    bucket,
    n
  FROM arrival_hours
)
SELECT
  key.segment_id,
  h.day,
  h.histogram,
  h.bucket,
  h.n
FROM all_hist AS h
INNER JOIN _seg_keys AS key
  ON key.k = h.k;
