-- plan_diff_segments: per segment, what changed between two runs' plans: new, vanished, decision, cost.
with
side as (
    select
        p.run_id,
        p.segment_id,
        p.workload,
        coalesce(sc.decision, 'stay') as decision,
        p.action,
        p.current_monthly_cost_usd as current_cost_usd,
        p.monthly_savings_usd
    from plan_segments as p
    left join segment_scores as sc on sc.run_id = p.run_id and sc.segment_id = p.segment_id
    where p.run_id in ($from_run, $to_run)
),

a as (select * from side where run_id = $from_run),

b as (select * from side where run_id = $to_run),

joined as (
    select
        coalesce(b.segment_id, a.segment_id) as segment_id,
        coalesce(b.workload, a.workload) as workload,
        a.segment_id is not null as in_from,
        b.segment_id is not null as in_to,
        a.decision as from_decision,
        b.decision as to_decision,
        a.current_cost_usd as from_cost_usd,
        b.current_cost_usd as to_cost_usd,
        a.monthly_savings_usd as from_savings_usd,
        b.monthly_savings_usd as to_savings_usd
    from a
    full outer join b on a.segment_id = b.segment_id
),

final as (
    select 1 as ord, 'new' as change, segment_id, workload, null as "from", to_decision as "to",
           from_cost_usd, to_cost_usd, to_cost_usd as change_usd, from_savings_usd, to_savings_usd
    from joined where not in_from
    union all
    select 2, 'vanished', segment_id, workload, from_decision, null,
           from_cost_usd, to_cost_usd, -from_cost_usd, from_savings_usd, to_savings_usd
    from joined where not in_to
    union all
    select 3, 'decision', segment_id, workload, from_decision, to_decision,
           from_cost_usd, to_cost_usd, to_cost_usd - from_cost_usd, from_savings_usd, to_savings_usd
    from joined where in_from and in_to and from_decision is distinct from to_decision
    union all
    select 4, 'cost', segment_id, workload, null, null,
           from_cost_usd, to_cost_usd, to_cost_usd - from_cost_usd, from_savings_usd, to_savings_usd
    from joined
    where in_from and in_to
      and (abs(coalesce(to_cost_usd, 0) - coalesce(from_cost_usd, 0)) >= cast($min_cost_change as decimal(38, 10))
           or abs(coalesce(to_savings_usd, 0) - coalesce(from_savings_usd, 0)) >= cast($min_cost_change as decimal(38, 10))
           or (to_cost_usd is null) <> (from_cost_usd is null))
)

select * from final
order by ord, abs(coalesce(change_usd, 0)) desc, segment_id
