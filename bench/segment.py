"""Segmentation of N usage rows against bare DuckDB doing the equivalent work on the same rows, same run.

    python bench/segment.py                 # 10M rows over 30 days (a DuckDB file in bench/out/)
    python bench/segment.py --rows 1000000

Every query writes its result into a temp table, as the stage does (fetching millions of groups into
Python would measure the client, not the engine). Figures (best of --repeat; ratios are what counts
on this noisy 2-core machine; CPU time of the process is steadier than wall time):
- bare GROUP BY: the segment key (workload, sensitivity, context band, mode) with request and token sums;
- bare GROUP BY per minute: the same key plus the minute (the least any per-minute burstiness needs);
- bare equivalent: hand-written SQL computing what the stage computes, on the raw key columns (no
  rules macro, no templates, no incremental bookkeeping): hour sums, minute counts, token buckets,
  distinct sessions, as temp tables;
- planner full build: `planner.segment.run` from scratch (rules macro, templates, day rollups with
  minute and token histograms, sessions, then the segments rows);
- planner nightly: one more day of rows (1/30 of N) as a new source, then `run` again;
and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from planner import db, segment  # noqa: E402
from planner.config import load_config  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"

# N rows over `days` days: 8 declared workloads, 4 template fingerprints (no declared name), callers;
# sessions on a third of the rows; 1% failures; a few long-context requests; batch on two workloads.
ROWS = """
INSERT INTO usage BY NAME
SELECT
    md5('$source' || i) AS event_id,
    '$source' AS source_id,
    i AS source_row,
    'request' AS grain,
    $start + to_microseconds(CAST(i * $step_us AS BIGINT) + (hash(i) % 1000000)::BIGINT) AS ts,
    CASE WHEN i % 16 < 8 THEN 'workload-' || (i % 8) END AS workload,
    CASE WHEN i % 16 >= 8 AND i % 16 < 12 THEN 'fp' || (i % 4) END AS prompt_fingerprint,
    'proj' || (i % 3) AS project,
    'key' || (i % 5) AS api_key_id,
    CASE WHEN i % 3 = 0 THEN 'sess' || (i // 12) END AS session_id,
    'openai' AS provider,
    CASE WHEN i % 2 = 0 THEN 'gpt-4o-mini' ELSE 'gpt-4.1' END AS model,
    CAST(MAP {} AS MAP(VARCHAR, VARCHAR)) AS tags,
    1 AS requests,
    CASE WHEN i % 1000 = 7 THEN 150000 + i % 50000 ELSE 200 + (hash(i + 1) % 6000)::BIGINT END AS input_tokens,
    CAST((hash(i + 2) % 4000)::BIGINT * 0.5 AS BIGINT) AS cached_input_tokens,
    20 + (hash(i + 3) % 900)::BIGINT AS output_tokens,
    CASE WHEN i % 16 IN (2, 5) THEN true ELSE false END AS batch,
    CASE WHEN i % 100 = 0 THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN i % 20 = 0 THEN 'regulated' WHEN i % 7 = 0 THEN 'confidential' ELSE 'internal' END AS sensitivity
FROM range($rows) t(i)
"""

KEY = ("workload, sensitivity, CASE WHEN input_tokens <= 8192 THEN '<=8K' WHEN input_tokens <= 32768 THEN '8K-32K' "
       "WHEN input_tokens <= 131072 THEN '32K-128K' ELSE '>128K' END AS band, batch")
BARE = [f"CREATE OR REPLACE TEMP TABLE _b1 AS SELECT {KEY}, count(*), sum(requests), sum(input_tokens), "
        "sum(cached_input_tokens), sum(output_tokens) FROM usage GROUP BY ALL"]
BARE_MINUTE = [f"CREATE OR REPLACE TEMP TABLE _b2 AS SELECT {KEY}, date_trunc('minute', ts) AS minute, count(*) "
               "FROM usage GROUP BY ALL"]
BARE_EQUIVALENT = [
    f"CREATE OR REPLACE TEMP TABLE _e1 AS SELECT {KEY}, project, api_key_id, model, CAST(ts AS DATE) AS day, "
    "hour(ts) AS hr, count(*), sum(requests), sum(CASE WHEN status = 'error' THEN requests ELSE 0 END), "
    "sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), sum(output_tokens), sum(reasoning_tokens), "
    "sum(billed_cost_usd), min(ts), max(ts), sum(CASE WHEN session_id IS NOT NULL THEN requests ELSE 0 END), "
    "sum(CASE WHEN date_trunc('second', ts) <> ts THEN 1 ELSE 0 END) FROM usage GROUP BY ALL",
    f"CREATE OR REPLACE TEMP TABLE _e2 AS SELECT {KEY}, project, api_key_id, model, date_trunc('minute', ts) AS minute, "
    "count(*) FROM usage GROUP BY ALL",
    f"CREATE OR REPLACE TEMP TABLE _e3 AS SELECT {KEY}, project, api_key_id, model, CAST(ts AS DATE) AS day, "
    "CAST(floor(log2(greatest(input_tokens, 1)) * 16) AS BIGINT) AS ib, count(*) FROM usage GROUP BY ALL",
    f"CREATE OR REPLACE TEMP TABLE _e4 AS SELECT {KEY}, project, api_key_id, model, CAST(ts AS DATE) AS day, "
    "CAST(floor(log2(greatest(output_tokens, 1)) * 16) AS BIGINT) AS ob, count(*) FROM usage GROUP BY ALL",
    f"CREATE OR REPLACE TEMP TABLE _e5 AS SELECT {KEY}, project, api_key_id, model, CAST(ts AS DATE) AS day, "
    "count(DISTINCT session_id) FROM usage WHERE session_id IS NOT NULL GROUP BY ALL",
]


def run_all(con, statements: list[str]) -> None:
    for sql in statements:
        con.execute(sql)


def add(con, source: str, rows: int, start: str, days: float) -> None:
    con.execute("INSERT INTO sources (source_id, path, format, status) VALUES (?, ?, 'bench', 'loaded')",
                [source, source])
    step = days * 86400e6 / rows
    con.execute(ROWS.replace("$source", source).replace("$rows", str(rows)).replace("$start", start)
                .replace("$step_us", repr(step)))


def best(fn, repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time of this process (CPU time is steadier on a shared machine)."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "segment_bench.duckdb"
    for p in (path, path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    con = db.connect(path)
    cfg = load_config(None)
    t = time.perf_counter()
    with db.transaction(con):
        add(con, "s0", args.rows, "TIMESTAMP '2026-09-01 00:00:00'", args.days)
    made = time.perf_counter() - t
    t_bare = best(lambda: run_all(con, BARE), args.repeat)
    t_bare_min = best(lambda: run_all(con, BARE_MINUTE), args.repeat)
    t_equiv = best(lambda: run_all(con, BARE_EQUIVALENT), args.repeat)

    runs = iter(range(1000))

    def full() -> None:
        con.execute("DELETE FROM segment_state")  # forces the full rebuild
        with db.transaction(con):
            segment.run(con, cfg, f"full{next(runs)}")

    t_full = best(full, args.repeat)
    segs = con.execute("SELECT count(*) FROM segments WHERE run_id = 'full0'").fetchone()[0]
    new_rows = args.rows // args.days
    with db.transaction(con):
        add(con, "s1", new_rows, f"TIMESTAMP '2026-09-01 00:00:00' + INTERVAL {args.days} DAY", 1)
    out: dict[str, object] = {}

    def nightly() -> None:
        with db.transaction(con):
            out["res"] = segment.run(con, cfg, "nightly")

    t_nightly = best(nightly, 1)
    res = out["res"]
    t_again = best(lambda: segment.run(con, cfg, "again"), 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con.close()
    shutil.rmtree(OUT / "tmp", ignore_errors=True)
    print(f"rows {args.rows:,} over {args.days} days (generated in {made:.1f} s); {segs} segments")
    def line(label: str, t: tuple[float, float], extra: str = "") -> None:
        print(f"{label:<44} wall {t[0]:7.2f} s  cpu {t[1]:7.2f} s{extra}")

    def ratios(t: tuple[float, float]) -> str:
        def r(base: tuple[float, float]) -> str:
            return f"{t[0] / base[0]:.1f}x / {t[1] / base[1]:.1f}x"
        return (f"\n{'':<44} = {r(t_bare)} bare GROUP BY, {r(t_bare_min)} per-minute GROUP BY, "
                f"{r(t_equiv)} bare equivalent (wall / cpu)")

    line("bare GROUP BY segment key", t_bare)
    line("bare GROUP BY segment key x minute", t_bare_min)
    line("bare equivalent (5 GROUP BYs)", t_equiv)
    line("planner segment, full build", t_full, ratios(t_full))
    line(f"planner segment, nightly (+{new_rows:,} rows, {res.data['days_rebuilt']} day)", t_nightly, ratios(t_nightly))
    line("planner segment, nothing new", t_again)
    print(f"quantiles: {res.data['quantile_method']} (full build: exact up to "
          f"{cfg.value('segments.exact_quantiles_max_rows'):,} usage rows)")
    print(f"peak RSS: {rss:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
