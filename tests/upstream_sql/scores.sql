-- Stand-in decisions: the cheapest feasible option that saves money; flips for GPU price and volume.
insert into segment_scores
with
opts as (
    select o.*, cur.monthly_cost_usd as current_cost
    from segment_options as o
    join segment_options as cur
        on cur.run_id = o.run_id and cur.segment_id = o.segment_id and cur.option = 'api_current'
    where o.run_id = $run_id
),

best as (
    select *
    from opts
    where feasible and option <> 'api_current'
    qualify row_number() over (partition by segment_id order by monthly_cost_usd, option) = 1
),

final as (
    select
        $run_id as run_id,
        b.segment_id,
        case
            when b.monthly_cost_usd >= b.current_cost then 'stay'
            when b.option = 'api_optimized' then 'optimize_api'
            when b.option = 'self_host' and b.monthly_cost_usd > b.current_cost * 0.8 then 'pilot'
            else 'migrate'
        end as decision,
        case when b.monthly_cost_usd >= b.current_cost then 'api_current' else b.option end as chosen_option,
        greatest(b.current_cost - b.monthly_cost_usd, 0) as monthly_savings_usd,
        case when b.monthly_cost_usd < b.current_cost
            then (case b.option when 'self_host' then 30000 when 'open_model_api' then 8000 else 2000 end)
                 / (b.current_cost - b.monthly_cost_usd)
        end as breakeven_months,
        case when b.monthly_cost_usd >= b.current_cost then 0
             else (case b.option when 'self_host' then 30000 when 'open_model_api' then 8000 else 2000 end)
        end as one_time_cost_usd,
        case when b.option = 'self_host' then json_array(
            json_object('assumption', 'gpus.' || b.gpu || '.price_per_hour',
                        'value', b.details->>'$.gpu_usd_per_hour', 'unit', 'USD per GPU-hour',
                        'flips_at', round(cast(b.details->>'$.gpu_usd_per_hour' as double)
                                          * (1 + (b.current_cost - b.monthly_cost_usd)
                                                 / cast(b.details->>'$.gpu_cost_usd' as double)), 2),
                        'sentence', 'self-hosting stops paying if the GPU price rises above the flip value')
        ) else json_array() end as flips,
        case
            when b.monthly_cost_usd >= b.current_cost then ['no option is cheaper than the current API at this volume']
            else ['cheapest feasible option: ' || b.option]
        end as reasons
    from best as b
)

select * from final
