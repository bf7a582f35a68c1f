-- ingest_insert_good: every record of the staged file that passed its checks. Returns the count.
-- Repeats (within the file, or of events already stored) are settled afterwards. model_ref comes from
-- _model_refs: the pricing resolver's id for each (provider, model) of the file, resolved once per pair.
insert into usage by name
select s.* exclude (_err_field, _err_column, _err_reason, _raw, _prompt, model_ref), r.model_ref
from _stage as s
left join _model_refs as r
    on r.provider is not distinct from s.provider
    and r.model is not distinct from s.model
where s._err_reason is null
