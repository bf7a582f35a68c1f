-- segment_macros: helpers of the segment stage (temporary: they live for the connection only).

-- the value a token histogram bucket stands for: its geometric midpoint (bucket -1 holds zero)
create or replace temp macro planner_hist_value(b) as
    case when b is null then null when b < 0 then 0.0 else pow(2, (b + 0.5) / 16.0) end;

-- a workload kind read from a declared or rule name, when the name says it plainly
create or replace temp macro planner_kind_from_name(name) as
    case
        when regexp_matches(lower(name), 'summar|digest|tl;?dr') then 'summarization'
        when regexp_matches(lower(name), 'extract|parsing|parser|\bner\b|entity|invoice-?reader') then 'extraction'
        when regexp_matches(lower(name), 'classif|categori|moderat|sentiment|triage|tagging|labell?ing|routing')
            then 'classification'
        when regexp_matches(lower(name), '\brag\b|retriev|search|\bqa\b|q&a|faq|knowledge|answer') then 'rag_qa'
        when regexp_matches(lower(name), 'agent|tool|workflow|automation') then 'agentic'
        when regexp_matches(lower(name), 'code|coding|copilot|\bsql\b|programm') then 'code'
        when regexp_matches(lower(name), 'vision|image|ocr|screenshot|photo') then 'vision'
        when regexp_matches(lower(name), 'long-?doc|contract|legal-review|document') then 'long_document'
        when regexp_matches(lower(name), 'chat|assistant|support|conversation|\bbot\b|companion') then 'chat'
    end;

-- the workload name and segment id of a rollup key (callers are named here, once per group)
create or replace temp macro planner_key_workload(wl_name, c_project, c_key, c_model) as
    coalesce(wl_name, planner_caller_name(c_project, c_key, c_model));

create or replace temp macro planner_key_segment_id(
    workload_source, wl_name, c_project, c_key, c_model, sensitivity, context_band, mode
) as
    planner_segment_id(
        workload_source, planner_key_workload(wl_name, c_project, c_key, c_model), sensitivity, context_band, mode
    );
