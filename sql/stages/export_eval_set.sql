-- export_eval_set: up to $max_per_segment redacted prompt samples per segment (bottom-k by sample_hash,
-- so the same set whatever the file order), with the current and the candidate model for a side-by-side
-- evaluation. Segments: the ones named, else every segment the plan moves ($all: every segment).
with
targets as (
    select
        p.segment_id,
        s.workload,
        p.action,
        case p.action
            when 'self_host' then sh.model
            when 'open_model_api' then om.model
        end as candidate_model,
        case p.action when 'open_model_api' then om.provider end as candidate_provider
    from plan_segments as p
    join segments as s on s.run_id = p.run_id and s.segment_id = p.segment_id
    left join segment_options as sh on sh.run_id = p.run_id and sh.segment_id = p.segment_id and sh.option = 'self_host'
    left join segment_options as om on om.run_id = p.run_id and om.segment_id = p.segment_id
                                   and om.option = 'open_model_api'
    where p.run_id = $run_id
      and (case when len($segments) > 0 then list_contains($segments, p.segment_id)
                when $all then true
                else p.action in ('self_host', 'open_model_api') end)
),

samples as (
    select
        e.segment_id,
        ps.sample_hash,
        ps.redacted_text,
        ps.prompt_chars,
        ps.output_tokens,
        ps.pii_types,
        e.provider,
        e.model
    from prompt_samples as ps
    join usage_enriched as e on e.event_id = ps.event_id
    where e.segment_id in (select segment_id from targets)
    qualify row_number() over (partition by e.segment_id order by ps.sample_hash, ps.event_id) <= $max_per_segment
),

final as (
    select
        t.segment_id,
        t.workload,
        t.action,
        s.sample_hash as sample_id,
        s.redacted_text as prompt,
        s.prompt_chars,
        s.output_tokens as reference_output_tokens,
        coalesce(s.pii_types, []) as redacted_types,
        s.provider as current_provider,
        s.model as current_model,
        t.candidate_provider,
        t.candidate_model
    from targets as t
    join samples as s using (segment_id)
)

select to_json(final) as line, segment_id from final order by segment_id, sample_id
