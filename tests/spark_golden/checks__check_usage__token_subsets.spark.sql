-- select
/* check_usage__token_subsets: cache reads and writes are parts of input; reasoning is part of output. */
SELECT
  event_id,
  source_id,
  source_row
FROM usage
WHERE
  cached_input_tokens > input_tokens
  OR cache_write_tokens > input_tokens
  OR COALESCE(cached_input_tokens, 0) + COALESCE(cache_write_tokens, 0) > input_tokens
  OR reasoning_tokens > output_tokens
  OR input_tokens < 0
  OR output_tokens < 0;
