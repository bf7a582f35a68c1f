-- report_options: one row per segment x option of the run.
select segment_id, option, provider, model, gpu, gpus, replicas, monthly_cost_usd, feasible, reasons, overflow_share
from segment_options
where run_id = $run_id
order by segment_id, option
