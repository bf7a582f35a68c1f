"""What the Spark engine costs the DuckDB path: `usage_enriched` reads `usage_rollup` (empty in a database the
DuckDB engine builds) through a `UNION ALL BY NAME` branch, and carries `usage_rows`. This times a full scan of
the view as shipped against the same view body without that branch, same rows, same run, and prints the ratio.

    python bench/spark_union.py                # 2M rows over 30 days (a DuckDB file in bench/out/)
    python bench/spark_union.py --rows 10000000
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from segment import OUT, add, best  # noqa: E402

from planner import db  # noqa: E402

SCAN = ("CREATE OR REPLACE TEMP TABLE _s AS SELECT segment_id, context_band, cast(ts as date) AS day, count(*), "
        "sum(requests), sum(input_tokens), sum(cost_usd) FROM {view} GROUP BY ALL")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "spark_union.duckdb"
    for p in (path, path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    con = db.connect(path)
    add(con, "bench", args.rows, "TIMESTAMP '2026-10-01'", 30)
    body = db.load_sql("views/20_intermediate/usage_enriched")
    bare = body.split("-- rows the Spark engine")[0].replace(
        "1 as usage_rows  -- request rows behind the row (usage_rollup rows stand for many)", "1 as usage_rows")
    con.execute(f"CREATE OR REPLACE TEMP VIEW usage_enriched_bare AS {bare}")
    shipped = best(lambda: con.execute(SCAN.format(view="usage_enriched")), args.repeat)
    without = best(lambda: con.execute(SCAN.format(view="usage_enriched_bare")), args.repeat)
    print(f"rows: {args.rows:,}")
    print(f"usage_enriched as shipped:       {shipped[0]:.3f} s wall, {shipped[1]:.3f} s CPU")
    print(f"without the usage_rollup branch: {without[0]:.3f} s wall, {without[1]:.3f} s CPU")
    print(f"ratio (shipped / without): wall {shipped[0] / without[0]:.3f}, CPU {shipped[1] / without[1]:.3f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
