-- sensitivity_summary: rows per class after the detect stage (NULL: unknown).
select
    coalesce(sensitivity, 'None') as sensitivity,
    count(*) as usage_rows
from usage
group by all
order by all
