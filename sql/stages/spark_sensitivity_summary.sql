-- spark_sensitivity_summary: request rows per class of the Spark input (NULL: unknown), from the rollups.
select
    coalesce(sensitivity, 'None') as sensitivity,
    sum(usage_rows) as usage_rows
from usage_rollup
group by all
order by all
