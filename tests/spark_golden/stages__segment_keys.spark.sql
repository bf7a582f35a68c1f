-- create_table _seg_keys
WITH keys AS (
  SELECT DISTINCT
    k,
    workload_source,
    wl_name,
    fingerprint_basis,
    c_project,
    c_key,
    c_model,
    sensitivity,
    context_band,
    mode
  FROM _seg_hour
)
SELECT
  k,
  workload_source,
  COALESCE(
    wl_name,
    (
      COALESCE(c_project, '-') || '/' || COALESCE(c_key, '-') || '/' || COALESCE(c_model, '-')
    )
  ) AS workload,
  fingerprint_basis,
  sensitivity,
  context_band,
  mode,
  (
    'seg_' || LEFT(
      MD5(
        CONCAT_WS(
          '|',
          'v1',
          COALESCE(workload_source, '-'),
          COALESCE(
            COALESCE(
              wl_name,
              (
                COALESCE(c_project, '-') || '/' || COALESCE(c_key, '-') || '/' || COALESCE(c_model, '-')
              )
            ),
            '-'
          ),
          COALESCE(sensitivity, '-'),
          COALESCE(context_band, '-'),
          COALESCE(mode, '-')
        )
      ),
      16
    )
  ) AS segment_id
FROM keys;
