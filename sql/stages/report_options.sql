-- report_options: one row per segment x option of the run (hybrid: its overflow figures as JSON).
select segment_id, option, provider, model, gpu, gpus, replicas, monthly_cost_usd, feasible, reasons, overflow_share,
    case when option = 'hybrid' then cast(details -> '$.overflow' as varchar) end as overflow_json
from segment_options
where run_id = $run_id
order by segment_id, option
