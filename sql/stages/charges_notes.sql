-- charges_notes: what the user should know about the good lines of the staged file, one row per note:
-- currencies other than USD (billed_cost_usd stays NULL), a file with no LLM token line at all (its LLM
-- token spend is 0), lines that do not say what they bill, token lines whose unit is not a token count.
with
lines as (
    select * from _charges_incoming
),

non_usd as (
    select 'non_usd' as kind, currency, count(*) as lines, sum(billed_cost) as amount, null as detail
    from lines
    where currency <> 'USD'
    group by currency
),

no_tokens as (
    select 'no_tokens' as kind, currency, count(*) as lines, sum(billed_cost) as amount, null as detail
    from lines
    where not exists (select 1 from lines where is_llm_tokens or is_llm_tokens is null)
    group by currency
),

unclassified as (
    select 'unclassified' as kind, null as currency, count(*) as lines, null as amount, null as detail
    from lines
    where is_llm_tokens is null
    having count(*) > 0
),

odd_unit as (
    select 'odd_unit' as kind, null as currency, count(*) as lines, null as amount, source_unit as detail
    from lines
    where is_llm_tokens and source_quantity is not null and source_unit is not null
        and consumed_unit is distinct from 'tokens'
    group by source_unit
),

final as (
    select * from non_usd
    union all
    select * from no_tokens
    union all
    select * from unclassified
    union all
    select * from odd_unit
)

select kind, currency, lines, amount, detail
from final
order by kind, currency, detail
