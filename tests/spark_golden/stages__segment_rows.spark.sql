-- select
/* segment_rows: one row per usage row of the days being rebuilt, with its segment definition and the */
/* per-row flags the rollups count. Raw-row scan: portable subset (distributed.md §4). */
/* TRUE: every day; else only days listed in _seg_days. planner_workload is the rule macro the stage */
/* regenerates from planner.toml (migration 0004 holds the no-rule version). */
WITH enriched AS (
  SELECT
    *
  FROM usage_enriched
  WHERE
    TRUE OR CAST(ts AS DATE) IN (
      SELECT
        d.day
      FROM _seg_days AS d
    )
), resolved AS (
  SELECT
    e.*,
    CASE
      WHEN NOT COALESCE(e.workload, NULLIF(e.tags['workload'], '')) IS NULL
      THEN STRUCT(
        COALESCE(e.workload, NULLIF(e.tags['workload'], '')) AS name,
        'declared' AS source,
        CAST(NULL AS STRING) AS basis,
        CAST(NULL AS STRING) AS kind,
        e.mode AS mode,
        CAST(NULL AS INT) AS rule
      )
      WHEN e.prompt_fingerprint IN (
        SELECT
          t.template_fingerprint
        FROM segment_fingerprints AS t
        WHERE
          t.template_promoted
      )
      THEN STRUCT(
        'tpl-' || LEFT(e.prompt_fingerprint, 10) AS name,
        'fingerprint' AS source,
        'template' AS basis,
        CAST(NULL AS STRING) AS kind,
        e.mode AS mode,
        CAST(NULL AS INT) AS rule
      )
      ELSE STRUCT(
        CAST(NULL AS STRING) AS name,
        'fingerprint' AS source,
        'caller' AS basis,
        CAST(NULL AS STRING) AS kind,
        e.mode AS mode,
        CAST(NULL AS INT) AS rule
      )
    END AS wl
  FROM enriched AS e
), keyed AS (
  SELECT
    *,
    CASE WHEN wl.name IS NULL THEN project END AS c_project,
    CASE WHEN wl.name IS NULL THEN api_key_id END AS c_key,
    CASE WHEN wl.name IS NULL THEN model END AS c_model
  FROM resolved
), final AS (
  SELECT
    XXHASH64(wl.source, wl.name, wl.basis, c_project, c_key, c_model, sensitivity, context_band, wl.mode, ISNULL(wl.source), ISNULL(wl.name), ISNULL(wl.basis), ISNULL(c_project), ISNULL(c_key), ISNULL(c_model), ISNULL(sensitivity), ISNULL(context_band), ISNULL(wl.mode)) AS k, /* the segment key as one integer: the rollups group on it (wide keys make wide hash tables) */
    wl.source AS workload_source,
    wl.name AS wl_name,
    wl.basis AS fingerprint_basis,
    c_project, /* a caller-named workload keeps its parts; the name is built once per segment, not per row */
    c_key,
    c_model,
    wl.kind AS rule_kind,
    wl.mode AS mode,
    sensitivity,
    context_band,
    ts,
    CAST(ts AS DATE) AS day,
    DATE_TRUNC('MINUTE', ts) AS minute,
    grain,
    requests,
    status,
    input_tokens,
    cached_input_tokens,
    cache_write_tokens,
    output_tokens,
    reasoning_tokens,
    cost_usd,
    priced,
    billed_cost_usd,
    session_id,
    pii_types,
    allow_third_party,
    CASE
      WHEN grain = 'request' OR ts_end <= ts + INTERVAL '60' SECOND
      THEN requests
    END AS arrivals, /* requests placed on the minute grid: request rows, and buckets no wider than a minute */
    COALESCE(LOWER(kind) IN ('embedding', 'embeddings'), FALSE) AS is_embedding,
    CASE
      WHEN CARDINALITY(tags) = 0
      THEN FALSE
      ELSE COALESCE(
        SIZE(
          FILTER(
            MAP_ENTRIES(tags),
            e -> LOWER(e.key) RLIKE 'tool|function_call|mcp'
            AND NOT LOWER(e.value) IN ('', '0', '[]', '{}', 'false', 'null', 'none')
          )
        ) > 0,
        FALSE
      )
    END AS is_tool, /* tags are looked into only when a row has any (most sources carry none) */
    COALESCE(LOWER(kind) IN ('image', 'images', 'vision'), FALSE)
    OR CASE
      WHEN CARDINALITY(tags) = 0
      THEN FALSE
      ELSE COALESCE(
        SIZE(
          FILTER(
            MAP_ENTRIES(tags),
            e -> LOWER(e.key) RLIKE 'image|vision'
            AND NOT LOWER(e.value) IN ('', '0', '[]', '{}', 'false', 'null', 'none')
          )
        ) > 0,
        FALSE
      )
    END AS is_image
  FROM keyed
)
SELECT
  *
FROM final;
