-- segment_fingerprints: request counts of the prompt fingerprints in scope (temp table): every
-- fingerprint on a full build ($full), else those that new rows carry (recounted over all of usage, so
-- a template crossing the threshold is seen however its rows arrived).
create or replace temp table _seg_fp as
select
    prompt_fingerprint as fp,
    count(*) as n
from usage
where
    prompt_fingerprint is not null
    and (
        $full
        or prompt_fingerprint in (
            select u.prompt_fingerprint
            from usage as u
            where u.source_id in (select s.source_id from _seg_new_sources as s)
        )
    )
group by prompt_fingerprint
