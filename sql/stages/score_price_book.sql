-- score_price_book: every API offer a segment could be priced on (docs/contracts.md), newest
-- snapshot first so the scoring stage keeps the latest price per provider x model x variant.
select *
from api_price_book
order by provider, model_ref, variant, snapshot_date desc nulls last
