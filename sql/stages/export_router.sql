-- export_router: one row per segment of the run with its route: the plan's action and target, and the
-- provider and model it uses today (the one carrying most of its requests). A hybrid segment routes to its
-- base fleet up to the fleet's capacity (requests a minute) and overflows to today's API.
with
current_model as (
    select segment_id, provider, model
    from (select segment_id, provider, model, sum(requests) as n from usage_enriched group by all)
    qualify row_number() over (partition by segment_id order by n desc, provider, model) = 1
),

final as (
    select
        p.segment_id,
        s.workload,
        p.action,
        p.wave,
        p.deployment_id,
        case when p.action = 'hybrid' then hy.model else sh.model end as self_host_model,
        case when p.action = 'hybrid' then try_cast(hy.details ->> '$.fleet.capacity_per_minute' as double) end
            as capacity_per_minute,
        case when p.action = 'hybrid' then hy.overflow_share end as overflow_share,
        om.provider as open_provider,
        om.model as open_model,
        c.provider as current_provider,
        c.model as current_model
    from plan_segments as p
    join segments as s on s.run_id = p.run_id and s.segment_id = p.segment_id
    left join segment_options as sh on sh.run_id = p.run_id and sh.segment_id = p.segment_id and sh.option = 'self_host'
    left join segment_options as hy on hy.run_id = p.run_id and hy.segment_id = p.segment_id and hy.option = 'hybrid'
    left join segment_options as om on om.run_id = p.run_id and om.segment_id = p.segment_id
                                   and om.option = 'open_model_api'
    left join current_model as c on c.segment_id = p.segment_id
    where p.run_id = $run_id
)

select * from final order by workload nulls last, segment_id
