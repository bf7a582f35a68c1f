-- insert segment_days
WITH sums AS (
  SELECT
    k,
    day,
    MAX(rule_kind) AS rule_kind,
    SUM(usage_rows) AS usage_rows,
    SUM(bucket_rows) AS bucket_rows,
    SUM(requests) AS requests,
    SUM(failed_requests) AS failed_requests,
    SUM(input_tokens) AS input_tokens,
    SUM(cached_input_tokens) AS cached_input_tokens,
    SUM(cache_write_tokens) AS cache_write_tokens,
    SUM(output_tokens) AS output_tokens,
    SUM(reasoning_tokens) AS reasoning_tokens,
    SUM(cached_known_input_tokens) AS cached_known_input_tokens,
    SUM(cost_usd) AS cost_usd,
    SUM(priced_requests) AS priced_requests,
    SUM(unpriced_requests) AS unpriced_requests,
    SUM(billed_cost_usd) AS billed_cost_usd,
    SUM(arrival_requests) AS arrival_requests,
    MIN(first_ts) AS first_ts,
    MAX(last_ts) AS last_ts,
    SUM(subsecond_rows) AS subsecond_rows,
    SUM(subminute_rows) AS subminute_rows,
    SUM(arrival_rows) AS arrival_rows,
    SUM(interactive_requests) AS interactive_requests,
    SUM(session_requests) AS session_requests,
    SUM(tool_requests) AS tool_requests,
    SUM(image_requests) AS image_requests,
    SUM(embedding_requests) AS embedding_requests,
    SUM(text_requests) AS text_requests,
    SUM(pii_requests) AS pii_requests,
    SUM(third_party_allowed) AS third_party_allowed,
    SUM(third_party_denied) AS third_party_denied
  FROM _seg_hour
  GROUP BY
    k,
    day
), minutes AS (
  SELECT
    k,
    day,
    minute,
    LAG(minute) OVER (PARTITION BY k, day ORDER BY minute NULLS LAST) AS prev_minute
  FROM _seg_min
), arrivals AS (
  SELECT
    k,
    day,
    60.0 * MAX(
      TIMESTAMPDIFF(MINUTE, DATE_TRUNC('MINUTE', prev_minute), DATE_TRUNC('MINUTE', minute))
    ) AS max_gap_s,
    COUNT(*) AS active_minutes
  FROM minutes
  GROUP BY
    k,
    day
), hour_dispersion /* burstiness inside each hour: variance/mean of the hour's 60 per-minute counts is s2/s1 - s1/60 */ /* (s1, s2: sum of k and of k^2 over the hour); weighted by s1 it adds up across hours and days. */ /* Summed as integers (60 s2 - s1^2), divided once: the same double on every engine and in any order */ AS (
  SELECT
    k,
    day,
    CAST(SUM(60 * s2 - s1 * s1) AS DOUBLE) / 60.0 AS burst_weighted,
    SUM(s1) AS burst_weight
  FROM (
    SELECT
      k,
      day,
      HOUR(minute) AS hr,
      SUM(arrival_requests) AS s1,
      SUM(arrival_requests * arrival_requests) AS s2
    FROM _seg_min
    GROUP BY
      k,
      day,
      HOUR(minute)
  ) AS h
  GROUP BY
    k,
    day
), final AS (
  SELECT
    key.segment_id,
    key.workload,
    key.workload_source,
    key.fingerprint_basis,
    key.sensitivity,
    key.context_band,
    key.mode,
    s.*
    EXCEPT (k),
    a.max_gap_s,
    COALESCE(a.active_minutes, 0) AS active_minutes,
    COALESCE(x.sessions, 0) AS sessions,
    d.burst_weighted,
    d.burst_weight
  FROM sums AS s
  INNER JOIN _seg_keys AS key
    ON key.k = s.k
  LEFT JOIN arrivals AS a
    ON a.k = s.k AND a.day = s.day
  LEFT JOIN _seg_sess AS x
    ON x.k = s.k AND x.day = s.day
  LEFT JOIN hour_dispersion AS d
    ON d.k = s.k AND d.day = s.day
)
SELECT
  *
FROM final;
