-- score_price_book_exists: has the pricing stage created api_price_book yet?
select count(*) > 0 as present
from information_schema.tables
where table_name = 'api_price_book'
