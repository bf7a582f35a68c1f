-- v_reconciliation: priced cost vs billed cost, one row per provider x UTC day (grain 'day') and per
-- provider x calendar month (grain 'month'). Billed cost comes from `charges` lines with is_llm_tokens
-- when the provider has any (the invoice is the truth), else from usage.billed_cost_usd (a cost the source
-- states per row; then only those rows' priced cost is compared). A charge counts towards a day only when
-- its period lies within that day; every charge counts towards the month its period starts in.
-- variance_usd = priced - billed; variance_ratio = variance_usd / billed. `flagged` applies the threshold
-- recorded in `assumptions` by the latest run (NULL when none is recorded).
with
usage_days as (
    select
        provider,
        cast(ts as date) as day,
        sum(requests) as requests,
        sum(requests) filter (where not coalesce(priced, false)) as unpriced_requests,
        sum(cost_usd) as priced_cost_usd,
        sum(cost_usd) filter (where billed_cost_usd is not null) as priced_cost_of_billed_rows_usd,
        sum(billed_cost_usd) as usage_billed_cost_usd
    from usage_enriched
    group by all
),

llm_charges as (
    select provider, period_start, period_end, billed_cost_usd
    from charges
    where is_llm_tokens and billed_cost_usd is not null
),

charge_providers as (
    select
        provider,
        cast(min(period_start) as date) as covered_from,
        cast(max(coalesce(period_end, period_start)) as date) as covered_to
    from llm_charges
    group by provider
),

charge_days as (
    select provider, cast(period_start as date) as day, sum(billed_cost_usd) as charges_billed_cost_usd
    from llm_charges
    where period_end is null or period_end <= cast(cast(period_start as date) + interval 1 day as timestamp)
    group by all
),

charge_months as (
    select
        provider,
        cast(date_trunc('month', period_start) as date) as month,
        sum(billed_cost_usd) as charges_billed_cost_usd
    from llm_charges
    group by all
),

days as (
    select
        'day' as grain,
        coalesce(u.provider, c.provider) as provider,
        coalesce(u.day, c.day) as period_start,
        coalesce(u.day, c.day) as period_end,
        coalesce(u.requests, 0) as requests,
        coalesce(u.unpriced_requests, 0) as unpriced_requests,
        case
            when cp.provider is not null then coalesce(u.priced_cost_usd, cast(0 as decimal(38, 10)))
            else u.priced_cost_of_billed_rows_usd
        end as priced_cost_usd,
        case
            when cp.provider is not null and coalesce(u.day, c.day) between cp.covered_from and cp.covered_to
                then coalesce(c.charges_billed_cost_usd, cast(0 as decimal(38, 10)))
            when cp.provider is not null then null
            else u.usage_billed_cost_usd
        end as billed_cost_usd,
        case
            when cp.provider is not null then 'charges'
            when u.usage_billed_cost_usd is not null then 'usage'
        end as billed_source
    from usage_days as u
    full outer join charge_days as c
        on c.provider is not distinct from u.provider
        and c.day = u.day
    left join charge_providers as cp
        on cp.provider is not distinct from coalesce(u.provider, c.provider)
),

usage_months as (
    select
        provider,
        cast(date_trunc('month', day) as date) as month,
        sum(requests) as requests,
        sum(unpriced_requests) as unpriced_requests,
        sum(priced_cost_usd) as priced_cost_usd,
        sum(priced_cost_of_billed_rows_usd) as priced_cost_of_billed_rows_usd,
        sum(usage_billed_cost_usd) as usage_billed_cost_usd
    from usage_days
    group by all
),

months as (
    select
        'month' as grain,
        coalesce(u.provider, c.provider) as provider,
        coalesce(u.month, c.month) as period_start,
        cast(coalesce(u.month, c.month) + interval 1 month - interval 1 day as date) as period_end,
        coalesce(u.requests, 0) as requests,
        coalesce(u.unpriced_requests, 0) as unpriced_requests,
        case
            when cp.provider is not null then coalesce(u.priced_cost_usd, cast(0 as decimal(38, 10)))
            else u.priced_cost_of_billed_rows_usd
        end as priced_cost_usd,
        case
            when cp.provider is not null then coalesce(c.charges_billed_cost_usd, cast(0 as decimal(38, 10)))
            else u.usage_billed_cost_usd
        end as billed_cost_usd,
        case
            when cp.provider is not null then 'charges'
            when u.usage_billed_cost_usd is not null then 'usage'
        end as billed_source
    from usage_months as u
    full outer join charge_months as c
        on c.provider is not distinct from u.provider
        and c.month = u.month
    left join charge_providers as cp
        on cp.provider is not distinct from coalesce(u.provider, c.provider)
),

thresholds as (
    select
        max(case when key = 'pricing.reconciliation.max_relative_variance' then try_cast(value as double) end)
            as max_ratio,
        max(case when key = 'pricing.reconciliation.min_abs_variance_usd' then try_cast(value as decimal(38, 10)) end)
            as min_abs_usd
    from assumptions
    where run_id = (select max(run_id) from assumptions)
),

final as (
    select
        r.grain,
        r.provider,
        r.period_start,
        r.period_end,
        r.requests,
        r.unpriced_requests,
        r.priced_cost_usd,
        r.billed_cost_usd,
        r.billed_source,
        r.priced_cost_usd - r.billed_cost_usd as variance_usd,
        cast((r.priced_cost_usd - r.billed_cost_usd) / nullif(r.billed_cost_usd, 0) as double) as variance_ratio,
        case
            when r.priced_cost_usd is null or r.billed_cost_usd is null or t.max_ratio is null then null
            else abs(r.priced_cost_usd - r.billed_cost_usd) >= coalesce(t.min_abs_usd, 0)
                and (r.billed_cost_usd = 0
                     or abs(cast((r.priced_cost_usd - r.billed_cost_usd) / r.billed_cost_usd as double)) > t.max_ratio)
        end as flagged
    from (select * from days union all select * from months) as r
    cross join thresholds as t
)

select * from final
order by grain, provider, period_start
