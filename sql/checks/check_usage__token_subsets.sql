-- check_usage__token_subsets: cache reads and writes are parts of input; reasoning is part of output.
select event_id, source_id, source_row
from usage
where cached_input_tokens > input_tokens
    or cache_write_tokens > input_tokens
    or coalesce(cached_input_tokens, 0) + coalesce(cache_write_tokens, 0) > input_tokens
    or reasoning_tokens > output_tokens
    or input_tokens < 0
    or output_tokens < 0
