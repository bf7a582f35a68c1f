-- 0004_segments: what the detect and segment stages keep. Grain and meaning per table below.
-- Per-row bookkeeping on usage is only what the detect stage needs to stay incremental; the segment
-- stage keeps per-day rollups (mergeable: sums, log-bucket histograms, minute-count histograms) so the
-- nightly job recomputes only the days that new rows touched.

-- detect: the class the source itself stated (kept aside so rules can change without losing it),
-- where the class came from (rule | declared | detected | default), the policy that decided it,
-- and whether a rule allows the traffic to go to a third-party API.
alter table usage add column sensitivity_declared varchar;
alter table usage add column sensitivity_source varchar;
alter table usage add column sensitivity_policy varchar;
alter table usage add column allow_third_party boolean;

-- prompt templates (normalised leading characters) seen often enough to name a workload
create table segment_fingerprints (
    template_fingerprint varchar primary key,
    template_requests bigint not null,          -- usage rows carrying this fingerprint
    template_promoted boolean not null          -- requests >= segments.template_min_requests
);

-- key/value state of the segment stage: config hash of the last build, ...
create table segment_state (
    key varchar primary key,
    value varchar
);

-- sources whose rows are already in the rollups
create table segment_sources (
    source_id varchar primary key,
    segmented_at timestamp not null
);

-- one row per segment x UTC day: additive figures and the day's own arrival extremes
create table segment_days (
    segment_id varchar not null,
    day date not null,
    workload varchar,
    workload_source varchar,                    -- rule | declared | fingerprint
    fingerprint_basis varchar,                  -- template | caller (workload_source = fingerprint)
    rule_kind varchar,
    sensitivity varchar,
    context_band varchar,
    mode varchar,
    usage_rows bigint,
    bucket_rows bigint,
    requests bigint,
    failed_requests bigint,
    input_tokens bigint,
    cached_input_tokens bigint,
    cache_write_tokens bigint,
    output_tokens bigint,
    reasoning_tokens bigint,
    cached_known_input_tokens bigint,           -- input tokens of rows that report cache reads
    cost_usd decimal(38, 10),
    priced_requests bigint,
    unpriced_requests bigint,
    billed_cost_usd decimal(38, 10),
    arrival_requests bigint,                    -- requests placed on the minute grid
    first_ts timestamp,
    last_ts timestamp,
    max_gap_s double,                           -- longest gap between active minutes inside the day
    active_minutes bigint,
    subsecond_rows bigint,                      -- timestamps with a fractional second
    subminute_rows bigint,                      -- timestamps with non-zero seconds
    arrival_rows bigint,
    interactive_requests bigint,
    session_requests bigint,
    sessions bigint,                            -- distinct session_id within the day
    tool_requests bigint,
    image_requests bigint,
    embedding_requests bigint,
    text_requests bigint,                       -- requests whose prompt text was scanned
    pii_requests bigint,                        -- of which carried a detected entity
    third_party_allowed bigint,                 -- requests a sensitivity rule allows to third-party APIs
    third_party_denied bigint,                  -- requests a sensitivity rule keeps off them
    burst_weighted double,                      -- sum over the day's hours of (sum k^2 - (sum k)^2 / 60),
                                                -- k = arrivals in a minute
    burst_weight bigint                         -- sum over the day's hours of sum k (arrivals)
);

-- per segment x day histograms: input/output tokens per request (log2 buckets, 16 per doubling;
-- bucket -1 holds zero), arrivals (bucket = requests in a minute, n = minutes; zero minutes are
-- added at merge time), hour (bucket = UTC hour, n = requests)
create table segment_day_hist (
    segment_id varchar not null,
    day date not null,
    histogram varchar not null,                 -- input | output | arrivals | hour
    bucket bigint not null,
    n bigint not null
);

-- one row per segment per analyze run (history kept; v_segments shows the latest run)
create table segments (
    run_id varchar not null,
    segment_id varchar not null,
    workload varchar,
    workload_source varchar,
    fingerprint_basis varchar,
    workload_kind varchar,
    kind_source varchar,                        -- rule | name | signal; NULL when unknown
    kind_signal varchar,                        -- the evidence for a signal-based kind
    sensitivity varchar,
    allow_third_party boolean,
    context_band varchar,
    mode varchar,
    requests bigint,
    failed_requests bigint,
    failed_share double,
    input_tokens bigint,
    cached_input_tokens bigint,
    cache_write_tokens bigint,
    output_tokens bigint,
    reasoning_tokens bigint,
    cost_usd decimal(38, 10),
    unpriced_requests bigint,
    billed_cost_usd decimal(38, 10),
    first_ts timestamp,
    last_ts timestamp,
    days_active bigint,
    p50_input double,
    p95_input double,
    p99_input double,
    p50_output double,
    p95_output double,
    p99_output double,
    mean_input double,
    mean_output double,
    quantile_method varchar,                    -- exact | histogram
    quantile_rel_error double,                  -- bound on the relative error of the p* figures
    cached_share double,
    interactive_share double,
    span_minutes bigint,
    arrival_requests bigint,
    mean_per_minute double,
    peak_per_minute bigint,
    peak_to_mean double,
    variance_to_mean double,
    burst_index double,                         -- per-minute variance/mean inside each hour, weighted by requests
    empty_minutes bigint,
    longest_idle_s double,
    ts_resolution_s double,
    coarse_timestamps boolean,
    minute_histogram struct(arrivals bigint, minutes bigint)[],
    hour_profile bigint[],
    sessions bigint,
    turns_per_session double,
    tool_share double,
    image_share double,
    pii_share double,
    usage_rows bigint,
    bucket_rows bigint
);

-- input/output token histograms per segment per run, for capacity sizing from distributions
create table segment_token_hist (
    run_id varchar not null,
    segment_id varchar not null,
    measure varchar not null,                   -- input | output
    bucket bigint not null,
    lo_tokens double,
    hi_tokens double,
    requests bigint not null
);

-- the segment a row belongs to: a stable id for its definition
create macro planner_segment_id(workload_source, workload, sensitivity, context_band, mode) as
    'seg_' || left(md5(concat_ws('|', 'v1', coalesce(workload_source, '-'), coalesce(workload, '-'),
        coalesce(sensitivity, '-'), coalesce(context_band, '-'), coalesce(mode, '-'))), 16);

-- the name of a workload named by its caller: project x api key x model
create macro planner_caller_name(project, api_key_id, model) as
    coalesce(project, '-') || '/' || coalesce(api_key_id, '-') || '/' || coalesce(model, '-');

-- the workload a row belongs to (name NULL: named by its caller, see planner_caller_name). The
-- segment stage replaces this macro with one that also applies
-- planner.toml's [[workloads.rules]] (first match wins); this version applies none.
create macro planner_workload(
    event_id, source_id, source_row, grain, ts, ts_end, provider, model, model_ref, project, api_key_id,
    user_id, session_id, request_id, workload, tags, requests, input_tokens, cached_input_tokens,
    cache_write_tokens, output_tokens, reasoning_tokens, batch, service_tier, status, latency_ms, ttft_ms,
    billed_cost_usd, prompt_chars, prompt_sha256, prompt_fingerprint, pii_types, sensitivity, kind,
    context_band, mode
) as
    case
        when coalesce(workload, nullif(tags['workload'], '')) is not null then
            {'name': coalesce(workload, nullif(tags['workload'], '')),
             'source': 'declared', 'basis': cast(null as varchar), 'kind': cast(null as varchar),
             'mode': mode, 'rule': cast(null as integer)}
        when prompt_fingerprint in (
            select t.template_fingerprint from segment_fingerprints as t where t.template_promoted
        ) then
            {'name': 'tpl-' || left(prompt_fingerprint, 10), 'source': 'fingerprint', 'basis': 'template',
             'kind': cast(null as varchar), 'mode': mode, 'rule': cast(null as integer)}
        else
            {'name': cast(null as varchar), 'source': 'fingerprint', 'basis': 'caller', 'kind': cast(null as varchar),
             'mode': mode, 'rule': cast(null as integer)}
    end;
