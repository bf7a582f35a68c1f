"""Benchmark: the plan stage and the report over N scored segments (default 1,000).

Prints wall time of each step as a ratio to bare DuckDB doing the equivalent core work in the same run
(one aggregate over the same segment_options/segment_scores: movers' API bill and fleet loads per
deployment), plus peak RSS. This 2-core machine is noisy: read the ratios, not the seconds.

    .venv/bin/python bench/plan.py [N_SEGMENTS]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import upstream  # noqa: E402

from planner import db, plan, report  # noqa: E402
from planner.config import load_config  # noqa: E402

RUN = "20261102T060000Z-bench0"

FILL = """
insert into segments (run_id, segment_id, workload, workload_source, workload_kind, sensitivity, context_band, mode,
                      requests, failed_requests, input_tokens, cached_input_tokens, output_tokens, cost_usd, first_ts,
                      last_ts, p50_input, p95_input, p99_input, p50_output, p95_output, p99_output, cached_share,
                      mean_per_minute, peak_per_minute, peak_to_mean, interactive_share)
select $run, 'seg_' || lpad(i::varchar, 5, '0'), 'w' || (i % 97), 'declared',
       ['extraction', 'summarization', 'chat', 'code', 'classification'][1 + i % 5],
       ['internal', 'confidential', 'regulated', 'public'][1 + i % 4], '<=8K',
       case when i % 3 = 0 then 'batch' else 'interactive' end,
       1000 + i * 37, i, (1000 + i * 37) * 1500, (1000 + i * 37) * 300, (1000 + i * 37) * 300,
       cast(100 + i % 500 * 13.5 as decimal(38, 10)), timestamp '2026-10-01', timestamp '2026-10-31',
       1200, 3000, 4800, 300, 700, 900, 0.2, 1.5, 9.0, 6.0, case when i % 3 = 0 then 0.0 else 1.0 end
from range($n) t(i);

insert into segment_options
select $run, segment_id, o.option, null,
       case o.option when 'self_host' then ['llama-3.1-8b', 'qwen3-32b', 'llama-3.3-70b'][1 + h % 3] end,
       case o.option when 'self_host' then ['l40s', 'h100', 'h100'][1 + h % 3] end,
       case o.option when 'self_host' then 2 end, case o.option when 'self_host' then 2 end,
       cast(cost * o.factor as decimal(38, 10)), true, [], null,
       case o.option when 'self_host' then json_object('gpus_per_replica', 1, 'load_replicas', 0.05 + (h % 40) / 100.0,
            'spare_replicas', case when mode = 'batch' then 0 else 1 end, 'gpu_usd_per_hour', 2.5,
            'hours_per_month', 730, 'labor_cost_usd', 5208.33, 'max_model_len', 32768) else '{}'::json end
from (select segment_id, mode, cast(hash(segment_id) % 1000 as bigint) as h, cost_usd * 30 as cost from segments where run_id = $run) s,
     (values ('api_current', 1.0), ('api_optimized', 0.85), ('open_model_api', 0.3), ('self_host', 0.4)) o(option, factor);

insert into segment_scores
select $run, segment_id,
       case when h % 4 = 0 then 'stay' when h % 4 = 1 then 'optimize_api' else 'migrate' end,
       case when h % 4 = 0 then 'api_current' when h % 4 = 1 then 'api_optimized'
            when h % 4 = 2 then 'self_host' else 'open_model_api' end,
       cast(cost * 0.3 as decimal(38, 10)), 2.5, cast(20000 as decimal(38, 10)), '[]'::json, []
from (select segment_id, cast(hash(segment_id) % 1000 as bigint) as h, cost_usd * 30 as cost from segments where run_id = $run);
"""

BARE = """
select o.model, o.gpu, sum(cur.monthly_cost_usd), sum(cast(o.details ->> '$.load_replicas' as decimal(18, 6)))
from segment_scores as sc
join segment_options as cur on cur.segment_id = sc.segment_id and cur.option = 'api_current'
left join segment_options as o on o.segment_id = sc.segment_id and o.option = sc.chosen_option
where sc.decision <> 'stay'
group by all
"""


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    cfg = load_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        con = db.connect(Path(tmp) / "bench.duckdb")
        upstream.start_analyze(con, cfg, RUN)
        for stmt in FILL.split(";\n"):
            if stmt.strip():
                con.execute(stmt, {k: v for k, v in {"run": RUN, "n": n}.items() if f"${k}" in stmt})

        def stage() -> None:
            with db.transaction(con):
                plan.run(con, cfg, RUN)

        bare = timed(lambda: con.execute(BARE).fetchall())
        t_stage = timed(stage)
        t_build = timed(lambda: report.build_plan(con, RUN, now=datetime(2026, 11, 2, tzinfo=UTC)))
        obj = report.build_plan(con, RUN, now=datetime(2026, 11, 2, tzinfo=UTC))
        t_md = timed(lambda: report.render_markdown(obj))
        t_html = timed(lambda: report.render_html(obj), repeat=1)
        head = con.execute("select segments_moving, deployments, gpus from plan").fetchone()
        con.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"segments: {n}; moving {head[0]}, deployments {head[1]}, GPUs {head[2]}")
    print(f"bare DuckDB aggregate      {bare * 1000:8.1f} ms   1.0x")
    for name, t in (("plan stage (SQL)", t_stage), ("build plan.json", t_build), ("render Markdown", t_md),
                    ("render HTML + 6 charts", t_html)):
        print(f"{name:26} {t * 1000:8.1f} ms {t / bare:6.1f}x")
    print(f"peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
