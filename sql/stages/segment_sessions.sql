-- segment_sessions: distinct sessions per segment key x day (temp table). Sessions that cross
-- midnight UTC count once per day they touch.
create or replace temp table _seg_sess as
select
    k,
    day,
    count(distinct session_id) as sessions
from _seg_rows
where session_id is not null
group by k, day
