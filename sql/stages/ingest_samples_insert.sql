-- ingest_samples_insert: candidates not already kept join prompt_samples, redacted. The raw text comes
-- from the staged file (the `_stage` view) for these rows only. __REDACTED__ is
-- planner.sensitivity.redact_sql over the raw text (the detectors' patterns).
insert into prompt_samples by name
with
texts as (
    select s.source_row, s._prompt
    from _stage as s
    where s.source_row in (select source_row from _sample_candidates)
)

select
    c.event_id,
    c.source_id,
    c.sample_key,
    c.prompt_fingerprint,
    c.declared as workload,
    c.prompt_sha256 as sample_hash,
    __REDACTED__ as redacted_text,
    c.prompt_chars,
    c.output_tokens,
    c.pii_types
from _sample_candidates as c
inner join texts as t on t.source_row = c.source_row
where not exists (
    select 1
    from prompt_samples as p
    where p.sample_key = c.sample_key and p.sample_hash = c.prompt_sha256
)
