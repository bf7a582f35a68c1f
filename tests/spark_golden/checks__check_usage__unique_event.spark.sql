-- select
/* check_usage__unique_event: a request counts once, however often its file is loaded. */
SELECT
  event_id,
  COUNT(*) AS copies
FROM usage
GROUP BY
  event_id
HAVING
  COUNT(*) > 1;
