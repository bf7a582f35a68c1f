-- price_fill_model_ref: write the normalised model id into usage.model_ref, only for (provider, model)
-- pairs the stage found stale, and only on rows whose value actually changes.
update usage
set model_ref = m.model_ref
from price_models as m
where m.needs_update
    and usage.provider is not distinct from m.provider
    and usage.model is not distinct from m.model
    and usage.model_ref is distinct from m.model_ref
