"""Ingest speed of the gateway and trace adapters on generated files, as ratios to bare DuckDB.

For each format (LiteLLM CSV and JSON, Bedrock JSONL.gz, OpenRouter JSONL, Mooncake JSONL) the
generator writes N rows of the same traffic; then, each in a fresh process:
  - bare:    DuckDB alone reads the same file into a table (read_csv / read_json, auto-detected);
  - planner: `planner.ingest` loads it (detect, parse, map, validate, scan prompts, dedupe, insert);
  - no-text: the same with `--no-samples` semantics (prompt text not scanned), where the format has text.
Printed: seconds, the ratio planner/bare measured in the same run (this 2-core machine is noisy: read the
ratios), and the peak RSS of each process.

    .venv/bin/python bench/adapters_gateways.py                 # 1M rows per format
    .venv/bin/python bench/adapters_gateways.py --rows 100000 --formats mooncake,bedrock
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "gateways"
FORMATS = ("litellm-csv", "litellm-json", "bedrock", "openrouter", "mooncake")
HAS_TEXT = {"litellm-csv", "litellm-json", "bedrock"}


def _files(rows: int, formats: list[str]) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT))
    from planner import generate

    out = DATA / str(rows)
    paths = {f: out / generate.FILE_NAMES[f] for f in formats}
    missing = [f for f, p in paths.items() if not p.exists()]
    if missing:
        t0 = time.perf_counter()
        base = generate.traffic(days=30, seed=7).num_rows
        table = generate.traffic(days=30, seed=7, scale=rows / base * 1.02)
        table = table.slice(0, min(rows, table.num_rows))
        t1 = time.perf_counter()
        generate.write_formats(table, out, missing, origin=generate.DEFAULT_START)
        t2 = time.perf_counter()
        print(f"generated {table.num_rows:,} rows in {t1 - t0:.1f}s, wrote {', '.join(missing)} in {t2 - t1:.1f}s",
              flush=True)
    return paths


def _bare_sql(fmt: str, path: Path) -> str:
    p = str(path).replace("'", "''")
    if fmt == "litellm-csv":
        return f"CREATE TABLE t AS SELECT * FROM read_csv('{p}')"
    if fmt == "litellm-json":
        return f"CREATE TABLE t AS SELECT * FROM read_json('{p}', format = 'array')"
    return f"CREATE TABLE t AS SELECT * FROM read_json('{p}', format = 'newline_delimited')"


def child(mode: str, fmt: str, path: str, db: str) -> dict:
    """One measurement in this process; prints JSON with seconds and peak RSS."""
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    if mode == "bare":
        import duckdb

        con = duckdb.connect(db)
        con.execute(_bare_sql(fmt, Path(path)))
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.close()
        extra: dict = {}
    else:
        from planner import db as dbmod
        from planner import generate, ingest
        from planner.config import load_config

        cfg = load_config(None)
        options = ingest.IngestOptions.from_config(cfg, format=generate.INGEST_FORMATS[fmt], no_text=(mode == "no-text"))
        if fmt == "mooncake":
            options.ts_origin = generate.DEFAULT_START.isoformat()
        con = dbmod.connect(db)
        results, _ = ingest.ingest_paths(con, [Path(path)], options)
        con.close()
        r = results[0]
        if r.status != "loaded":
            raise SystemExit(f"{fmt}: {r.status}: {r.error}")
        rows = r.rows_loaded
        extra = {"rejected": r.rows_rejected}
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": rows, "rss_mb": _peak_rss_mb(), **extra}


def _peak_rss_mb() -> float:
    """Peak RSS of this process (VmHWM: unlike ru_maxrss it does not carry the parent's peak over a fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(mode: str, fmt: str, path: Path, tmp: Path) -> dict:
    db = tmp / f"{fmt}-{mode}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, __file__, "--child", mode, fmt, str(path), str(db)],
                         check=True, capture_output=True, text=True)
    db.unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--child", nargs=4, metavar=("MODE", "FORMAT", "PATH", "DB"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    formats = [f for f in args.formats.split(",") if f]
    paths = _files(args.rows, formats)
    tmp = DATA / "db"
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"{'format':<13} {'file MB':>8} {'bare s':>7} {'planner s':>9} {'ratio':>6} {'no-text s':>9} {'ratio':>6} "
          f"{'bare RSS':>8} {'planner RSS':>11}  rows")
    for fmt in formats:
        path = paths[fmt]
        bare = _run("bare", fmt, path, tmp)
        full = _run("planner", fmt, path, tmp)
        lean = _run("no-text", fmt, path, tmp) if fmt in HAS_TEXT else None
        size = path.stat().st_size / 2**20
        lean_s = f"{lean['seconds']:9.1f} {lean['seconds'] / bare['seconds']:6.1f}" if lean else f"{'-':>9} {'-':>6}"
        print(f"{fmt:<13} {size:8.0f} {bare['seconds']:7.1f} {full['seconds']:9.1f} "
              f"{full['seconds'] / bare['seconds']:6.1f} {lean_s} {bare['rss_mb']:7.0f}M {full['rss_mb']:10.0f}M  "
              f"{full['rows']:,} loaded, {full.get('rejected', 0)} rejected", flush=True)


if __name__ == "__main__":
    main()
