-- segment_sessions: distinct sessions per segment key x day (temp table), from the grid's session
-- grouping. Sessions that cross midnight UTC count once per day they touch.
create or replace temp table _seg_sess as
select
    k,
    day,
    count(*) as sessions
from _seg_grid
where is_session and session_id is not null
group by k, day
