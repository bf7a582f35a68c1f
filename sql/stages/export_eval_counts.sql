-- export_eval_counts: samples available per targeted segment (to warn below the minimum).
select
    p.segment_id,
    count(ps.event_id) as samples
from plan_segments as p
left join usage_enriched as e on e.segment_id = p.segment_id
left join prompt_samples as ps on ps.event_id = e.event_id
where p.run_id = $run_id
  and (case when len($segments) > 0 then list_contains($segments, p.segment_id)
            when $all then true
            else p.action in ('self_host', 'open_model_api') end)
group by all
order by segment_id
