-- score_price_book: every API offer a segment could be priced on (docs/contracts.md).
select *
from api_price_book
order by provider, model_ref, variant
