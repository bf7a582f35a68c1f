-- price_book_table: the API price book, for `planner prices --book`.
select
    provider,
    model_ref,
    catalog_model,
    variant,
    offer_kind,
    input_mtok,
    cached_input_mtok,
    cache_write_mtok,
    output_mtok,
    long_context_start,
    basis,
    price_date,
    snapshot_date,
    source
from api_price_book
order by offer_kind, catalog_model nulls first, provider, model_ref, variant
