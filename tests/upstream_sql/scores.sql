-- Stand-in decisions: the cheapest feasible option, if it saves money and repays its one-time cost within
-- 24 months; flips for the GPU price of self-hosted choices.
insert into segment_scores (run_id, segment_id, decision, chosen_option, monthly_savings_usd, breakeven_months, one_time_cost_usd, flips, reasons)
with
opts as (
    select o.*, cur.monthly_cost_usd as current_cost,
           case o.option when 'self_host' then 30000 when 'open_model_api' then 8000 else 2000 end as one_time
    from segment_options as o
    join segment_options as cur
        on cur.run_id = o.run_id and cur.segment_id = o.segment_id and cur.option = 'api_current'
    where o.run_id = $run_id
),

best as (
    select *, monthly_cost_usd < current_cost and one_time <= 24 * (current_cost - monthly_cost_usd) as pays
    from opts
    where feasible and option <> 'api_current'
    qualify row_number() over (partition by segment_id order by monthly_cost_usd, option) = 1
),

final as (
    select
        $run_id as run_id,
        b.segment_id,
        case
            when not b.pays then 'stay'
            when b.option = 'api_optimized' then 'optimize_api'
            when b.option = 'self_host' and b.monthly_cost_usd > b.current_cost * 0.8 then 'pilot'
            else 'migrate'
        end as decision,
        case when b.pays then b.option else 'api_current' end as chosen_option,
        case when b.pays then b.current_cost - b.monthly_cost_usd else 0 end as monthly_savings_usd,
        case when b.pays then b.one_time / (b.current_cost - b.monthly_cost_usd) end as breakeven_months,
        case when b.pays then b.one_time else 0 end as one_time_cost_usd,
        case when b.option = 'self_host' then json_array(
            json_object('assumption', 'gpus.' || b.gpu || '.price_per_hour',
                        'value', cast(b.details ->> '$.gpu_usd_per_hour' as double), 'unit', 'USD per GPU-hour',
                        'flips_at', round(cast(b.details ->> '$.gpu_usd_per_hour' as double)
                                          * (b.current_cost - cast(b.details ->> '$.labor_cost_usd' as double)
                                             - cast(b.details ->> '$.observability_cost_usd' as double))
                                          / cast(b.details ->> '$.gpu_cost_usd' as double), 2),
                        'sentence', case when b.pays
                            then 'self-hosting stops paying if the GPU price rises above the flip value'
                            else 'self-hosting would pay if the GPU price fell below the flip value' end)
        ) else json_array() end as flips,
        case
            when b.monthly_cost_usd >= b.current_cost then ['no option is cheaper than the current API at this volume']
            when not b.pays then ['the cheapest option (' || b.option || ') would not repay its one-time cost within 24 months']
            else ['cheapest feasible option: ' || b.option]
        end as reasons
    from best as b
)

select * from final
