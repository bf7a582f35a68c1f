-- ingest_settle_conflicts: keep one copy of each repeated event: the stored copy goes when the new
-- one is more complete, else the new one goes.
delete from usage
where (source_id, source_row) in (
    select (stored_source, stored_row) from _conflicts where new_wins
    union all
    select ($source_id, new_row) from _conflicts where not new_wins
)
