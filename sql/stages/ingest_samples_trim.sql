-- ingest_samples_trim: keep the k smallest sample hashes per sample key the file touched ($k).
delete from prompt_samples
where exists (
    select 1
    from (
        select
            p.sample_key,
            p.sample_hash,
            row_number() over (partition by p.sample_key order by p.sample_hash, p.event_id) as rk
        from prompt_samples as p
        where p.sample_key in (select c.sample_key from _sample_candidates as c)
    ) as r
    where
        r.rk > $k
        and r.sample_key = prompt_samples.sample_key
        and r.sample_hash = prompt_samples.sample_hash
)
