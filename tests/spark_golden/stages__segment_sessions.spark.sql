-- create_table _seg_sess
SELECT
  k,
  day,
  COUNT(DISTINCT session_id) AS sessions
FROM _seg_rows
WHERE
  NOT session_id IS NULL
GROUP BY
  k,
  day;
