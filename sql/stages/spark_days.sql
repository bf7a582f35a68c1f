-- spark_days: the UTC days of the Spark input from $since on (grain: one row per day), with their rows.
-- Runs on Spark; the runner filters the input on ts (and on its day partition column) first.
select
    cast(ts as date) as day,
    count(*) as rows
from usage_input
where ts >= $since
group by cast(ts as date)
