"""Ingest speed: `planner ingest` (generic mapping) vs a bare DuckDB CTAS of the same file.

    python bench/ingest.py                 # 10,000,000 rows, CSV and Parquet
    python bench/ingest.py --rows 1000000  # quicker

Targets (issue 3): ratio <= 2.0 (hard ceiling 3.0), planner peak RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, planner, python, report, run  # noqa: E402

MAPPING = {
    "request_id": "request id", "ts": "timestamp", "provider": "provider", "model": "model",
    "project": "project", "user_id": "user", "input_tokens": "prompt tokens",
    "cached_input_tokens": "cached tokens", "output_tokens": "completion tokens", "status": "status",
    "latency_ms": "latency ms",
}

GENERATE = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
n, out, fmt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
con.execute(f'''
COPY (
  SELECT
    'req-' || i AS "request id",
    strftime(TIMESTAMP '2026-09-01' + to_microseconds(i * 259 + (hash(i) % 1000000)::BIGINT), '%Y-%m-%dT%H:%M:%S.%fZ') AS "timestamp",
    CASE WHEN i % 3 = 0 THEN 'anthropic' ELSE 'openai' END AS provider,
    ['gpt-4o-mini', 'gpt-4.1-mini', 'claude-3-5-haiku-20241022', 'claude-sonnet-4-20250514', 'o3-mini'][1 + i % 5] AS model,
    'proj_' || (i % 17) AS project,
    'user_' || (hash(i) % 5000)::BIGINT AS "user",
    (200 + (hash(i * 7) % 6000)::BIGINT) AS "prompt tokens",
    CASE WHEN i % 4 = 0 THEN NULL ELSE ((hash(i * 7) % 6000)::BIGINT // 2) END AS "cached tokens",
    (10 + (hash(i * 13) % 900)::BIGINT) AS "completion tokens",
    CASE WHEN i % 200 = 0 THEN 'failure' ELSE 'success' END AS status,
    round(100 + (hash(i * 3) % 20000)::BIGINT / 3.0, 1) AS "latency ms",
    'feature-' || (i % 11) AS feature
  FROM range({n}) t(i)
) TO '{out}' (FORMAT {fmt}{", HEADER" if fmt == "csv" else ""})
''')
"""

BARE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET TimeZone = 'UTC'")
reader = "read_csv" if sys.argv[2].endswith(".csv") else "read_parquet"
con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{sys.argv[2]}')")
con.close()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for fmt in args.formats.split(","):
        data = args.dir / f"ingest_{args.rows}.{fmt}"
        if not data.exists():
            print(f"generating {args.rows:,} rows as {fmt} ...", file=sys.stderr)
            run("generate", python(GENERATE) + [str(args.rows), str(data), fmt])
        bare_db, mine_db = args.dir / "bare.duckdb", args.dir / "planner.duckdb"
        for p in (bare_db, mine_db):
            p.unlink(missing_ok=True)
        bare = run("bare", python(BARE) + [str(bare_db), str(data)])
        mapping = [a for k, v in MAPPING.items() for a in ("--map", f"{k}={v}")]
        mine = run("planner", planner("ingest", str(data), "--format", "generic", *mapping, "--db", str(mine_db),
                                      "--quiet"))
        if mine.returncode not in (0, 1):
            raise SystemExit(f"planner ingest failed with exit {mine.returncode}")
        rows.append((f"{fmt} {args.rows:,} rows", mine, bare))
        for p in (bare_db, mine_db):
            p.unlink(missing_ok=True)
        if not args.keep:
            data.unlink(missing_ok=True)
    report(rows)
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
