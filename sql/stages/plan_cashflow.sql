-- plan_cashflow: month by month over the horizon. A wave starting at month s goes live in month s + 1:
-- its one-time cost is spent then and the portfolio saves from then on. cumulative_usd is the running
-- net (savings minus one-time costs).
insert into plan_cashflow
with
months as (
    select unnest(range(1, $horizon_months + 1)) as month
),

waves as (
    select wave, start_month, one_time_cost_usd, monthly_savings_usd from plan_waves where run_id = $run_id
),

per_month as (
    select
        m.month,
        coalesce((select max(w.wave) from waves as w where w.start_month < m.month), 0) as live_waves,
        coalesce((select sum(w.one_time_cost_usd) from waves as w where w.start_month = m.month - 1),
                 cast(0 as decimal(38, 10))) as one_time_cost_usd
    from months as m
),

final as (
    select
        $run_id as run_id,
        p.month,
        p.live_waves,
        coalesce(w.monthly_savings_usd, cast(0 as decimal(38, 10))) as monthly_savings_usd,
        p.one_time_cost_usd,
        sum(coalesce(w.monthly_savings_usd, 0) - p.one_time_cost_usd) over (order by p.month) as cumulative_usd
    from per_month as p
    left join waves as w on w.wave = p.live_waves
)

select * from final
