-- demo_summary: one row per declared workload: volume and token shape of what was loaded.
select
    coalesce(workload, '(none)') as workload,
    provider,
    model,
    sum(requests) as requests,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    round(100.0 * sum(cached_input_tokens) / nullif(sum(input_tokens), 0), 1) as cached_pct,
    count(*) filter (where len(pii_types) > 0) as prompts_with_pii
from usage
group by all
order by requests desc
