-- check_usage__unique_event: a request counts once, however often its file is loaded.
select event_id, count(*) as copies
from usage
group by event_id
having count(*) > 1
