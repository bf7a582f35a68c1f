-- plan_overflow: one row per API provider x model that takes overflow from the plan's hybrid segments:
-- their overflow (and failover) priced once per provider, as the sum of each segment's share of its own
-- bill, and the busiest minutes added up (what the provider's rate limit must absorb if they coincide).
insert into plan_overflow
with
hybrids as (
    select p.segment_id, p.current_monthly_cost_usd, i.*
    from plan_segments as p
    join plan_input as i using (segment_id)
    where p.run_id = $run_id and p.action = 'hybrid'
),

final as (
    select
        $run_id as run_id,
        overflow_provider as provider,
        overflow_model as model,
        count(*) as segments,
        list(segment_id order by segment_id) as segment_ids,
        sum(overflow_requests) as requests_per_month,
        sum(overflow_input_tokens) as input_tokens_per_month,
        sum(overflow_output_tokens) as output_tokens_per_month,
        sum(peak_overflow_per_minute) as peak_overflow_per_minute,
        sum(coalesce(overflow_only_cost_usd, 0)) as overflow_api_cost_usd,
        sum(coalesce(failover_cost_usd, 0)) as failover_api_cost_usd,
        sum(overflow_cost_usd) as monthly_cost_usd,
        sum(current_monthly_cost_usd) as api_cost_replaced_usd
    from hybrids
    group by overflow_provider, overflow_model
)

select * from final
order by monthly_cost_usd desc, provider, model
