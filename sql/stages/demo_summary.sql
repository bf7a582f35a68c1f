-- demo_summary: one row per workload of the latest plan: its volume, what it costs a month today, what the
-- plan does with it and what that saves (segments of one workload can get different actions).
with
segs as (
    select
        s.workload,
        s.requests,
        p.action,
        p.wave,
        p.current_monthly_cost_usd,
        p.monthly_savings_usd,
        case when p.action = 'stay' then 0 else s.requests end as moving_requests
    from v_plan as p
    inner join segments as s on s.run_id = p.run_id and s.segment_id = p.segment_id
),

final as (
    select
        workload,
        count(*) as segments,
        sum(requests) as requests,
        round(sum(current_monthly_cost_usd), 0) as api_usd_per_month,
        string_agg(distinct action, ', ' order by action) filter (where action <> 'stay') as moves_to,
        min(wave) as first_wave,
        round(coalesce(sum(monthly_savings_usd) filter (where action <> 'stay'), 0), 0) as saves_usd_per_month
    from segs
    group by workload
)

select * from final
order by api_usd_per_month desc nulls last, workload
