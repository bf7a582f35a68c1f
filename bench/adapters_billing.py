"""Ingest speed of the provider adapters: `planner ingest` vs bare DuckDB reading the same file.

For each format, writes ~1M records in the provider's exact shape with DuckDB (`COPY ... TO` from
`range()`), then times, each in its own process on a fresh database:

- `planner ingest FILE` (the CLI, auto-detection included), and
- bare DuckDB: `CREATE TABLE AS` over the same reader, flattened to one row per record (pages ->
  buckets -> results for the API formats; the CSV/Parquet rows for FOCUS): the least work that yields the
  same rows, without mapping, validation, dedupe or upsert.

Prints wall seconds, the ratio planner/bare and the peak RSS of each process. This 2-core machine is
shared and noisy: read the ratios, not the seconds; `--repeat N` keeps the fastest of N runs.

    .venv/bin/python bench/adapters_billing.py [--rows 1000000] [--repeat 1] [--formats openai-usage,...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
PLANNER = [sys.executable, "-m", "planner"]

PER_BUCKET = 500  # results per bucket (groups: model x project x key)
PER_PAGE = 4  # buckets per saved page (JSONL line)


def _openai_usage(con: duckdb.DuckDBPyConnection, rows: int, path: Path) -> None:
    con.execute(f"""
    COPY (
        WITH r AS (
            SELECT i, i // {PER_BUCKET} AS b, i % {PER_BUCKET} AS g FROM range({rows}) t(i)
        ),
        results AS (
            SELECT b, list({{
                'object': 'organization.usage.completions.result',
                'input_tokens': 1000 + (i * 7919) % 90000, 'input_cached_tokens': (i * 7919) % 900,
                'input_cache_write_tokens': (i * 31) % 64, 'input_uncached_tokens': 1000 + (i * 7919) % 90000 - (i * 7919) % 900 - (i * 31) % 64,
                'output_tokens': 50 + (i * 104729) % 4000, 'num_model_requests': 1 + i % 40,
                'project_id': 'proj_' || (g // 50), 'user_id': NULL, 'api_key_id': 'key_' || (g % 50),
                'model': 'gpt-4o-mini-2024-07-18-' || (g % 10), 'batch': g % 7 = 0, 'service_tier': 'default'
            }} ORDER BY g) AS results
            FROM r GROUP BY b
        ),
        pages AS (
            SELECT b // {PER_PAGE} AS p, list({{
                'object': 'bucket', 'start_time': 1704067200 + b * 3600, 'end_time': 1704067200 + (b + 1) * 3600,
                'results': results
            }} ORDER BY b) AS data
            FROM results GROUP BY p
        )
        SELECT 'page' AS object, data, p < (SELECT max(p) FROM pages) AS has_more,
               CASE WHEN p < (SELECT max(p) FROM pages) THEN 'page_' || (p + 1) END AS next_page
        FROM pages ORDER BY p
    ) TO '{path}' (FORMAT json)""")


def _openai_costs(con: duckdb.DuckDBPyConnection, rows: int, path: Path) -> None:
    con.execute(f"""
    COPY (
        WITH r AS (SELECT i, i // {PER_BUCKET} AS b, i % {PER_BUCKET} AS g FROM range({rows}) t(i)),
        results AS (
            SELECT b, list({{
                'object': 'organization.costs.result',
                'amount': {{'value': ((i * 7919) % 100000) / 10000.0, 'currency': 'usd'}},
                'line_item': 'gpt-4o-mini-2024-07-18-' || (g % 50) || ', ' || (['input', 'cached input', 'output'])[1 + (g // 50) % 3],
                'project_id': 'proj_' || (g // 150), 'api_key_id': NULL, 'quantity': (i * 104729) % 1000000
            }} ORDER BY g) AS results
            FROM r GROUP BY b
        ),
        pages AS (
            SELECT b // {PER_PAGE} AS p, list({{
                'object': 'bucket', 'start_time': 1420070400 + b * 86400, 'end_time': 1420070400 + (b + 1) * 86400,
                'results': results
            }} ORDER BY b) AS data
            FROM results GROUP BY p
        )
        SELECT 'page' AS object, data, false AS has_more, NULL AS next_page FROM pages ORDER BY p
    ) TO '{path}' (FORMAT json)""")


def _anthropic_usage(con: duckdb.DuckDBPyConnection, rows: int, path: Path) -> None:
    con.execute(f"""
    COPY (
        WITH r AS (SELECT i, i // {PER_BUCKET} AS b, i % {PER_BUCKET} AS g FROM range({rows}) t(i)),
        results AS (
            SELECT b, list({{
                'uncached_input_tokens': 100 + (i * 7919) % 9000,
                'cache_creation': {{'ephemeral_5m_input_tokens': (i * 31) % 2048, 'ephemeral_1h_input_tokens': (i * 17) % 512}},
                'cache_read_input_tokens': (i * 104729) % 150000, 'output_tokens': 20 + (i * 13) % 4000,
                'server_tool_use': {{'web_search_requests': i % 3}},
                'api_key_id': 'apikey_' || (g % 50), 'workspace_id': 'wrkspc_' || (g // 50),
                'model': 'claude-sonnet-4-2025051' || (g % 10), 'service_tier': (['standard', 'batch'])[1 + g % 2],
                'context_window': '0-200k'
            }} ORDER BY g) AS results
            FROM r GROUP BY b
        ),
        pages AS (
            SELECT b // {PER_PAGE} AS p, list({{
                'starting_at': strftime(TIMESTAMP '2024-01-01' + INTERVAL (b) HOUR, '%Y-%m-%dT%H:%M:%SZ'),
                'ending_at': strftime(TIMESTAMP '2024-01-01' + INTERVAL (b + 1) HOUR, '%Y-%m-%dT%H:%M:%SZ'),
                'results': results
            }} ORDER BY b) AS data
            FROM results GROUP BY p
        )
        SELECT data, false AS has_more, NULL AS next_page FROM pages ORDER BY p
    ) TO '{path}' (FORMAT json)""")


def _anthropic_cost(con: duckdb.DuckDBPyConnection, rows: int, path: Path) -> None:
    con.execute(f"""
    COPY (
        WITH r AS (SELECT i, i // {PER_BUCKET} AS b, i % {PER_BUCKET} AS g FROM range({rows}) t(i)),
        results AS (
            SELECT b, list({{
                'amount': CAST(CAST(((i * 7919) % 10000000) / 1000.0 AS DECIMAL(18, 6)) AS VARCHAR), 'currency': 'USD',
                'cost_type': 'tokens', 'description': 'Claude Sonnet 4 Usage - ' || (g % 5),
                'model': 'claude-sonnet-4-2025051' || (g % 10), 'service_tier': 'standard',
                'token_type': (['uncached_input_tokens', 'output_tokens', 'cache_read_input_tokens',
                                'cache_creation.ephemeral_5m_input_tokens', 'cache_creation.ephemeral_1h_input_tokens'])[1 + g % 5],
                'context_window': '0-200k', 'workspace_id': 'wrkspc_' || (g // 10)
            }} ORDER BY g) AS results
            FROM r GROUP BY b
        ),
        pages AS (
            SELECT b // {PER_PAGE} AS p, list({{
                'starting_at': strftime(TIMESTAMP '2015-01-01' + INTERVAL (b) DAY, '%Y-%m-%dT%H:%M:%SZ'),
                'ending_at': strftime(TIMESTAMP '2015-01-01' + INTERVAL (b + 1) DAY, '%Y-%m-%dT%H:%M:%SZ'),
                'results': results
            }} ORDER BY b) AS data
            FROM results GROUP BY p
        )
        SELECT data, false AS has_more, NULL AS next_page FROM pages ORDER BY p
    ) TO '{path}' (FORMAT json)""")


_FOCUS_SELECT = """
    SELECT
        CAST(((i * 7919) % 100000) / 1000.0 AS DECIMAL(18, 6)) AS BilledCost,
        CAST(((i * 7919) % 100000) / 1000.0 AS DECIMAL(18, 6)) AS EffectiveCost,
        CAST(((i * 7919) % 100000) / 1000.0 AS DECIMAL(18, 6)) AS ListCost,
        '111122223333' AS BillingAccountId,
        'USD' AS BillingCurrency,
        CASE WHEN i % 50 = 0 THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
        CAST(NULL AS VARCHAR) AS ChargeClass,
        CASE i % 4 WHEN 0 THEN '$0.003 per 1K input tokens for Claude 3.5 Sonnet'
                   WHEN 1 THEN '$0.015 per 1K output tokens for Claude 3.5 Sonnet'
                   WHEN 2 THEN '$0.0416 per On Demand Linux t3.medium Instance Hour'
                   ELSE '$0.023 per GB-month of storage' END AS ChargeDescription,
        'Usage-Based' AS ChargeFrequency,
        strftime(TIMESTAMP '2024-01-01' + INTERVAL (i // 2000) HOUR, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
        strftime(TIMESTAMP '2024-01-01' + INTERVAL (i // 2000 + 1) HOUR, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
        CAST((i * 104729) % 1000000 AS VARCHAR) AS ConsumedQuantity,
        CASE i % 4 WHEN 0 THEN 'Tokens' WHEN 1 THEN 'Tokens' WHEN 2 THEN 'Hours' ELSE 'GB-Mo' END AS ConsumedUnit,
        CASE i % 4 WHEN 0 THEN '1K Tokens' WHEN 1 THEN '1K Tokens' WHEN 2 THEN 'Hours' ELSE 'GB-Mo' END AS PricingUnit,
        'AWS' AS ProviderName,
        'us-east-1' AS RegionId,
        'arn:aws:service:us-east-1:444455556666:resource/r-' || (i % 1000) AS ResourceId,
        CASE WHEN i % 4 < 2 THEN 'AI and Machine Learning' ELSE 'Compute' END AS ServiceCategory,
        CASE WHEN i % 4 < 2 THEN 'Claude 3.5 Sonnet (Amazon Bedrock Edition)' ELSE 'Amazon Elastic Compute Cloud' END AS ServiceName,
        'SKU' || (i % 4) AS SkuId,
        '4444555566' || (i % 100) AS SubAccountId,
        '{{"user:team": "team-' || (i % 20) || '", "user:env": "prod"}}' AS Tags,
        CASE i % 4 WHEN 0 THEN 'USE1-MP:USE1_InputTokenCount-Units' WHEN 1 THEN 'USE1-MP:USE1_OutputTokenCount-Units'
                   WHEN 2 THEN 'BoxUsage:t3.medium' ELSE 'TimedStorage-ByteHrs' END AS x_UsageType
    FROM range({rows}) t(i)
"""


def _focus_csv(con: duckdb.DuckDBPyConnection, rows: int, path: Path) -> None:
    con.execute(f"COPY ({_FOCUS_SELECT.format(rows=rows)}) TO '{path}' (FORMAT csv, HEADER true, NULLSTR 'NULL')")


def _focus_parquet(con: duckdb.DuckDBPyConnection, rows: int, path: Path) -> None:
    con.execute(f"COPY ({_FOCUS_SELECT.format(rows=rows)}) TO '{path}' (FORMAT parquet)")


_PAGES = ("SELECT b.{start}, b.{end}, unnest(b.results, recursive := true) FROM "
          "(SELECT unnest(data) AS b FROM read_json('{path}', format = 'auto', maximum_object_size = 1073741824))")
FORMATS = {
    # name: (file name, writer, bare DuckDB read of the same records)
    "openai-usage": ("openai_usage.jsonl", _openai_usage, _PAGES.replace("{start}", "start_time").replace("{end}", "end_time")),
    "openai-costs": ("openai_costs.jsonl", _openai_costs, _PAGES.replace("{start}", "start_time").replace("{end}", "end_time")),
    "anthropic-usage": ("anthropic_usage.jsonl", _anthropic_usage,
                        _PAGES.replace("{start}", "starting_at").replace("{end}", "ending_at")),
    "anthropic-cost": ("anthropic_cost.jsonl", _anthropic_cost,
                       _PAGES.replace("{start}", "starting_at").replace("{end}", "ending_at")),
    "focus-csv": ("focus.csv", _focus_csv, "SELECT * FROM read_csv('{path}', header = true, all_varchar = true, nullstr = 'NULL')"),
    "focus-parquet": ("focus.parquet", _focus_parquet, "SELECT * FROM read_parquet('{path}')"),
}


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = (proc.stdout.read() if proc.stdout else b"").decode() + (proc.stderr.read() if proc.stderr else b"").decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{out}")
    return wall, usage.ru_maxrss // 1024, out


def bench(name: str, rows: int, repeat: int, work: Path) -> dict[str, object]:
    file_name, writer, bare_sql = FORMATS[name]
    path = DATA / f"{rows}" / file_name
    if not path.exists():
        # written by a child process: a large parent would pass its peak RSS on to every child it forks
        path.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--write", name, "--rows", str(rows), "--to", str(path)], check=True)
        print(f"  wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s",
              file=sys.stderr)
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeat):
        for what in ("bare", "planner"):
            db = work / f"{name}-{what}.duckdb"
            for stale in (db, db.with_suffix(".duckdb.wal")):
                stale.unlink(missing_ok=True)
            if what == "bare":
                code = (f"import duckdb; con = duckdb.connect({str(db)!r}); "
                        f"con.execute({('CREATE TABLE t AS ' + bare_sql.format(path=path))!r}); "
                        f"print(con.execute('select count(*) from t').fetchone()[0])")
                wall, rss, out = _run([sys.executable, "-c", code])
            else:
                wall, rss, out = _run([*PLANNER, "ingest", str(path), "--db", str(db), "--quiet", "--json"])
            if what not in best or wall < best[what][0]:
                best[what] = (wall, rss)
            if what == "planner":
                loaded = _loaded(out)
    bare, planner = best["bare"], best["planner"]
    return {"format": name, "rows": rows, "loaded": loaded, "bare_s": bare[0], "planner_s": planner[0],
            "ratio": planner[0] / bare[0], "bare_rss_mb": bare[1], "planner_rss_mb": planner[1],
            "mb": path.stat().st_size / 1e6}


def _loaded(out: str) -> int:
    import json

    start = out.find("{")
    return int(json.loads(out[start:out.rfind("}") + 1])["totals"]["rows_loaded"]) if start >= 0 else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--write", help=argparse.SUPPRESS)
    ap.add_argument("--to", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write:
        con = duckdb.connect()
        FORMATS[args.write][1](con, args.rows, Path(args.to))
        con.close()
        return
    work = ROOT / "bench" / "out" / "adapters_billing"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"{'format':16} {'rows':>9} {'loaded':>9} {'MB':>6} {'bare s':>7} {'planner s':>9} {'ratio':>6} "
          f"{'bare RSS':>9} {'planner RSS':>11}")
    for name in args.formats.split(","):
        r = bench(name, args.rows, args.repeat, work)
        print(f"{r['format']:16} {r['rows']:>9} {r['loaded']:>9} {r['mb']:>6.0f} {r['bare_s']:>7.2f} "
              f"{r['planner_s']:>9.2f} {r['ratio']:>6.2f} {r['bare_rss_mb']:>7} MB {r['planner_rss_mb']:>8} MB",
              flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
