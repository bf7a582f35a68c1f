-- create_table _seg_fp
SELECT
  prompt_fingerprint AS fp,
  COUNT(*) AS n
FROM usage
WHERE
  NOT prompt_fingerprint IS NULL
  AND (
    TRUE
    OR prompt_fingerprint IN (
      SELECT
        u.prompt_fingerprint
      FROM usage AS u
      WHERE
        u.source_id IN (
          SELECT
            s.source_id
          FROM _seg_new_sources AS s
        )
    )
  )
GROUP BY
  prompt_fingerprint;
