-- report_daily: spend per UTC day and segment over everything ingested (chart: spend over time).
select
    cast(ts as date) as day,
    coalesce(segment_id, '(unsegmented)') as segment_id,
    sum(requests) as requests,
    sum(cost_usd) as cost_usd
from usage_enriched
group by all
order by day, segment_id
