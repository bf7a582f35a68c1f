-- report_unpriced: models whose rows could not be priced (cost NULL, never 0).
select provider, model, requests, input_tokens, output_tokens, first_ts, last_ts
from v_unpriced
order by requests desc nulls last, provider, model
