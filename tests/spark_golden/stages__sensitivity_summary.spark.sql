-- select
/* sensitivity_summary: rows per class after the detect stage (NULL: unknown). */
SELECT
  COALESCE(sensitivity, 'None') AS sensitivity,
  COUNT(*) AS usage_rows
FROM usage
GROUP BY ALL
ORDER BY
  ALL NULLS LAST;
