"""Benchmark: scoring N segments (the score stage end to end) against bare DuckDB doing the same
shape of work in the same run.

The bare baseline is one SQL query over segments x deployments computing a roofline-sized cost per
pair (a dozen arithmetic terms) and the cheapest per segment: the core of what scoring does, without
latency search, flips, API options or row assembly. This 2-core machine is noisy, so the ratio
matters more than the seconds. Usage:

    .venv/bin/python bench/score.py --segments 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

BARE = """
with deps as (
    select * from (values
        {values}
    ) as d(dep_id, p_act, w_bytes, kv, bw, flops, tp, price)
),
pairs as (
    select
        s.segment_id,
        d.dep_id,
        s.input_tokens / s.requests as i,
        s.output_tokens / s.requests as o,
        s.peak_per_minute / 60.0 as peak,
        d.*
    from segments as s cross join deps as d
    where s.run_id = 'bench'
),
sized as (
    select
        segment_id, dep_id, tp, price,
        2 * p_act * i / (flops * 0.5) as t_pre,
        greatest((w_bytes + 64 * kv * (i + o / 2)) / (bw * 0.7), 2 * p_act * 64 / (flops * 0.5)) as t_step
    from pairs
),
costed as (
    select
        segment_id, dep_id,
        (ceil((select max(peak_per_minute) from segments) / 60.0 / (64 / (t_pre + 400 * t_step)) / 0.7) + 1)
            * tp * 730 * price + 5208 + 500 as monthly
    from sized
)
select segment_id, min(monthly) as best from costed group by segment_id
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import numpy as np
    from scoring_helpers import insert_segments, segment, setup_tables

    from planner import db as dbmod
    from planner import score
    from planner.capacity import deployments_for
    from planner.catalog import load_catalog
    from planner.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="bench-score-", dir=ROOT / "bench" if (ROOT / "bench").is_dir() else None))
    try:
        con = dbmod.connect(tmp / "bench.duckdb")
        setup_tables(con)
        rng = np.random.default_rng(42)
        kinds = ["classification", "extraction", "summarization", "rag", "chat", "code", "agentic", None]
        sens = ["public", "internal", "confidential", "regulated"]
        segs = [segment(f"s{i:05d}", requests=int(rng.integers(1_000, 20_000_000)),
                        input_per=float(rng.lognormal(7, 1)), output_per=float(rng.lognormal(5, 0.7)),
                        cached_share=float(rng.uniform(0, 0.8)), kind=kinds[i % len(kinds)], sensitivity=sens[i % 4],
                        mode="batch" if i % 4 == 0 else "interactive", peak_to_mean=float(rng.uniform(1.5, 10)))
                for i in range(args.segments)]
        insert_segments(con, "bench", segs)
        cfg = load_config(None)

        cat = load_catalog()
        params = score.Params.from_config(cfg, cat)
        deps = [d for m in cat.models.values() for g in cat.gpus.values()
                for _, d in deployments_for(m, g, params.settings) if not isinstance(d, str)]
        values = ",\n        ".join(
            f"({j}, {d.model.params_active_b * 1e9}, {d.weight_bytes}, {d.kv_bytes_per_token}, {d.bandwidth}, "
            f"{d.flops_decode}, {d.tp}, {params.gpu_prices[d.gpu.id]})" for j, d in enumerate(deps))
        bare_sql = BARE.format(values=values)

        # warm both paths once (imports, genai-prices offers, DuckDB plan caches)
        with dbmod.transaction(con):
            score.run(con, cfg, "bench")
        con.execute(bare_sql).fetchall()

        ours, bare, cpu = [], [], []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            with dbmod.transaction(con):
                score.run(con, cfg, "bench")
            ours.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            t = time.perf_counter()
            con.execute(bare_sql).fetchall()
            bare.append(time.perf_counter() - t)
        n_opts = con.execute("select count(*) from segment_options where run_id = 'bench'").fetchall()[0][0]
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best_ours, best_bare = min(ours), min(bare)
    print(f"segments: {args.segments}   deployments: {len(deps)}   option rows written: {n_opts}")
    print(f"score stage (read, size, decide, flips, write): best {best_ours:.3f} s wall, {min(cpu):.3f} s CPU")
    print(f"bare DuckDB segments x deployments cost + min:    best {best_bare:.3f} s wall")
    print(f"ratio score / bare: {best_ours / best_bare:.1f}x")
    print(f"peak RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
