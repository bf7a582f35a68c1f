-- select
/* usage_enriched: one row per usage row (request or bucket) with what it cost and where it went. */
/* context_band is decided per request from that request's input; for buckets from the mean per request. */
/* cost_usd: the row's tokens at the unit prices of the one `prices` row matching its key (provider, */
/* model_ref, batch, service_tier), whose period holds ts and whose long-context tier holds the request's */
/* own input size (bucket rows have no per-request size: base tier). NULL when the row cannot be priced. */
WITH usage_rows AS (
  SELECT
    *,
    CASE WHEN grain = 'request' THEN COALESCE(input_tokens, 0) ELSE 0 END AS tier_input_tokens
  FROM usage
), priced AS (
  SELECT
    u.*,
    p.price_key,
    p.failed_billing,
    p.output_mtok,
    p.request_kusd,
    (
      u.input_tokens - COALESCE(u.cached_input_tokens, 0) - COALESCE(u.cache_write_tokens, 0)
    ) /* token x USD-per-million sums, scaled once below: exact DECIMAL, no per-term rounding */ * p.input_mtok + COALESCE(u.cached_input_tokens, 0) * COALESCE(p.cached_input_mtok, p.input_mtok) + COALESCE(u.cache_write_tokens, 0) * COALESCE(p.cache_write_mtok, p.input_mtok) AS input_token_usd_mtok,
    COALESCE(u.output_tokens, 0) * COALESCE(p.output_mtok, 0) AS output_token_usd_mtok
  FROM usage_rows AS u
  LEFT JOIN prices AS p
    ON p.model_ref = u.model_ref
    AND p.provider IS NOT DISTINCT FROM u.provider
    AND p.batch IS NOT DISTINCT FROM u.batch
    AND p.service_tier IS NOT DISTINCT FROM u.service_tier
    AND u.ts >= p.valid_from
    AND u.ts < p.valid_to
    AND (
      p.daily_from IS NULL
      OR (
        (UNIX_MICROS(CAST(u.ts AS TIMESTAMP)) - UNIX_MICROS(DATE_TRUNC('DAY', CAST(u.ts AS TIMESTAMP)))) >= p.daily_from
        AND (UNIX_MICROS(CAST(u.ts AS TIMESTAMP)) - UNIX_MICROS(DATE_TRUNC('DAY', CAST(u.ts AS TIMESTAMP)))) <= p.daily_to
      )
    )
    AND u.tier_input_tokens > p.input_above
    AND u.tier_input_tokens <= p.input_up_to
), costed AS (
  SELECT
    *,
    CASE
      WHEN price_key IS NULL
      THEN NULL
      WHEN status = 'error' AND failed_billing = 'input_only'
      THEN input_token_usd_mtok * 0.000001
      WHEN status = 'error'
      THEN CAST(0 AS DECIMAL(38, 16))
      WHEN output_tokens IS NULL AND NOT output_mtok IS NULL
      THEN NULL
      ELSE (
        input_token_usd_mtok + output_token_usd_mtok
      ) * 0.000001 + COALESCE(requests, 1) * COALESCE(request_kusd, 0) * 0.001
    END AS row_cost_usd /* DECIMAL(38,16) USD: tokens x USD per million x 0.000001 (never `/`, which yields DOUBLE) */
  FROM priced
), final AS (
  SELECT
    c.*
    EXCEPT (tier_input_tokens, price_key, failed_billing, output_mtok, request_kusd, input_token_usd_mtok, output_token_usd_mtok, row_cost_usd),
    c.price_key,
    c.row_cost_usd AS cost_usd,
    NOT c.row_cost_usd IS NULL AS priced,
    CASE
      WHEN c.input_tokens IS NULL
      THEN NULL
      WHEN c.grain = 'bucket' AND c.requests IS NULL
      THEN NULL /* no request count: no per-request size */
      WHEN CAST(c.input_tokens AS DOUBLE) / GREATEST(COALESCE(c.requests, 1), 1) <= 8192
      THEN '<=8K'
      WHEN CAST(c.input_tokens AS DOUBLE) / GREATEST(COALESCE(c.requests, 1), 1) <= 32768
      THEN '8K-32K'
      WHEN CAST(c.input_tokens AS DOUBLE) / GREATEST(COALESCE(c.requests, 1), 1) <= 131072
      THEN '32K-128K'
      ELSE '>128K'
    END AS context_band,
    CASE WHEN c.batch THEN 'batch' ELSE 'interactive' END AS mode
  FROM costed AS c
), segmented /* segment_id: the segment the row belongs to (planner_workload applies the [[workloads.rules]] of the */ /* last segment run; planner_segment_id hashes the definition, as the segments table does) */ AS (
  SELECT
    f.*,
    (
      'seg_' || LEFT(
        MD5(
          CONCAT_WS(
            '|',
            'v1',
            COALESCE(f.wl.source, '-'),
            COALESCE(
              COALESCE(
                f.wl.name,
                (
                  COALESCE(f.project, '-') || '/' || COALESCE(f.api_key_id, '-') || '/' || COALESCE(f.model, '-')
                )
              ),
              '-'
            ),
            COALESCE(f.sensitivity, '-'),
            COALESCE(f.context_band, '-'),
            COALESCE(f.wl.mode, '-')
          )
        ),
        16
      )
    ) AS segment_id
  FROM (
    SELECT
      b.*,
      CASE
        WHEN NOT COALESCE(b.workload, NULLIF(b.tags['workload'], '')) IS NULL
        THEN STRUCT(
          COALESCE(b.workload, NULLIF(b.tags['workload'], '')) AS name,
          'declared' AS source,
          CAST(NULL AS STRING) AS basis,
          CAST(NULL AS STRING) AS kind,
          b.mode AS mode,
          CAST(NULL AS INT) AS rule
        )
        WHEN b.prompt_fingerprint IN (
          SELECT
            t.template_fingerprint
          FROM segment_fingerprints AS t
          WHERE
            t.template_promoted
        )
        THEN STRUCT(
          'tpl-' || LEFT(b.prompt_fingerprint, 10) AS name,
          'fingerprint' AS source,
          'template' AS basis,
          CAST(NULL AS STRING) AS kind,
          b.mode AS mode,
          CAST(NULL AS INT) AS rule
        )
        ELSE STRUCT(
          CAST(NULL AS STRING) AS name,
          'fingerprint' AS source,
          'caller' AS basis,
          CAST(NULL AS STRING) AS kind,
          b.mode AS mode,
          CAST(NULL AS INT) AS rule
        )
      END AS wl
    FROM final AS b
  ) AS f
)
SELECT
  *
  EXCEPT (wl),
  1 AS usage_rows /* request rows behind the row (usage_rollup rows stand for many) */
FROM segmented;
