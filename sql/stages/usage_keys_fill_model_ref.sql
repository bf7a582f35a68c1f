-- usage_keys_fill_model_ref: the ledger follows price_fill_model_ref (same pairs, same new value).
update usage_keys
set model_ref = m.model_ref
from price_models as m
where m.needs_update
    and usage_keys.provider is not distinct from m.provider
    and usage_keys.model is not distinct from m.model
    and usage_keys.model_ref is distinct from m.model_ref
