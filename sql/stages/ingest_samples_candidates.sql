-- ingest_samples_candidates: the new file's bottom-k prompts per sample key (temp table), read from the
-- rows just inserted (rowid > $since), text not yet attached: only these few rows are later read and
-- redacted. The sample key is the declared workload (column or tag), else the prompt fingerprint; the
-- order is the prompt's sha256, so the kept set is the k smallest hashes of distinct prompts whatever
-- the file order or split. k = $k (ingest.samples_per_group).
create or replace temp table _sample_candidates as
with
good as (
    select
        event_id,
        source_id,
        source_row,
        coalesce(workload, nullif(tags['workload'], '')) as declared,
        prompt_fingerprint,
        prompt_sha256,
        prompt_chars,
        output_tokens,
        pii_types
    from usage
    where rowid > $since and prompt_sha256 is not null
),

keyed as (
    select
        *,
        coalesce('workload:' || declared, 'fingerprint:' || prompt_fingerprint) as sample_key
    from good
),

distinct_prompts as (
    select *
    from keyed
    where sample_key is not null
    qualify row_number() over (partition by sample_key, prompt_sha256 order by event_id) = 1
)

select *
from distinct_prompts
qualify row_number() over (partition by sample_key order by prompt_sha256) <= $k
