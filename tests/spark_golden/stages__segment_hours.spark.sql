-- create_table _seg_hour
SELECT
  workload_source,
  wl_name,
  fingerprint_basis,
  c_project,
  c_key,
  c_model,
  sensitivity,
  context_band,
  mode,
  XXHASH64(workload_source, wl_name, fingerprint_basis, c_project, c_key, c_model, sensitivity, context_band, mode, ISNULL(workload_source), ISNULL(wl_name), ISNULL(fingerprint_basis), ISNULL(c_project), ISNULL(c_key), ISNULL(c_model), ISNULL(sensitivity), ISNULL(context_band), ISNULL(mode)) AS k,
  day,
  HOUR(ts) AS hr,
  MAX(rule_kind) AS rule_kind,
  COUNT(*) AS usage_rows,
  SUM(CASE WHEN grain = 'bucket' THEN 1 ELSE 0 END) AS bucket_rows,
  SUM(requests) AS requests,
  SUM(CASE WHEN status = 'error' THEN requests ELSE 0 END) AS failed_requests,
  SUM(input_tokens) AS input_tokens,
  SUM(cached_input_tokens) AS cached_input_tokens,
  SUM(cache_write_tokens) AS cache_write_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(reasoning_tokens) AS reasoning_tokens,
  SUM(input_tokens) FILTER(WHERE
    NOT cached_input_tokens IS NULL) AS cached_known_input_tokens,
  SUM(cost_usd) AS cost_usd,
  SUM(CASE WHEN priced THEN requests ELSE 0 END) AS priced_requests,
  SUM(CASE WHEN NOT COALESCE(priced, FALSE) THEN requests ELSE 0 END) AS unpriced_requests,
  SUM(billed_cost_usd) AS billed_cost_usd,
  SUM(arrivals) AS arrival_requests,
  MIN(ts) FILTER(WHERE
    NOT arrivals IS NULL) AS first_ts,
  MAX(ts) FILTER(WHERE
    NOT arrivals IS NULL) AS last_ts,
  SUM(
    CASE WHEN NOT arrivals IS NULL AND DATE_TRUNC('SECOND', ts) <> ts THEN 1 ELSE 0 END
  ) AS subsecond_rows,
  SUM(
    CASE
      WHEN NOT arrivals IS NULL AND DATE_TRUNC('MINUTE', ts) <> DATE_TRUNC('SECOND', ts)
      THEN 1
      ELSE 0
    END
  ) AS subminute_rows,
  SUM(CASE WHEN NOT arrivals IS NULL THEN 1 ELSE 0 END) AS arrival_rows,
  SUM(CASE WHEN mode = 'interactive' THEN requests ELSE 0 END) AS interactive_requests,
  SUM(CASE WHEN NOT session_id IS NULL THEN requests ELSE 0 END) AS session_requests,
  SUM(CASE WHEN is_tool THEN requests ELSE 0 END) AS tool_requests,
  SUM(CASE WHEN is_image THEN requests ELSE 0 END) AS image_requests,
  SUM(CASE WHEN is_embedding THEN requests ELSE 0 END) AS embedding_requests,
  SUM(CASE WHEN NOT pii_types IS NULL THEN requests ELSE 0 END) AS text_requests,
  SUM(CASE WHEN SIZE(pii_types) > 0 THEN requests ELSE 0 END) AS pii_requests,
  SUM(CASE WHEN allow_third_party THEN requests ELSE 0 END) AS third_party_allowed,
  SUM(CASE WHEN NOT allow_third_party THEN requests ELSE 0 END) AS third_party_denied
FROM _seg_rows
GROUP BY
  workload_source,
  wl_name,
  fingerprint_basis,
  c_project,
  c_key,
  c_model,
  sensitivity,
  context_band,
  mode,
  day,
  HOUR(ts);
