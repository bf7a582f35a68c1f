-- ingest_settle_conflicts: keep one copy of each repeated event: the stored copy goes when the new
-- one is more complete, else the new one goes.
delete from usage
where rowid in (
    select case when new_wins then stored_key else new_key end from _conflicts
)
