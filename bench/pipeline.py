"""The whole nightly pipeline (`planner run`) on N generated request rows, stage by stage, against bare DuckDB.

    .venv/bin/python bench/pipeline.py                    # 10,000,000 rows over 30 days
    .venv/bin/python bench/pipeline.py --rows 1000000     # quicker

Data: one file per format for the 30 days (and one more for day 31), written by DuckDB `COPY ... FROM range()` (seconds, not minutes):
a hand-rolled gateway CSV (`--format generic` with a mapping; ~90% of the rows, each with a short prompt,
some carrying an email address) and LiteLLM SpendLogs CSV (the rest: the company generator's rows for one
day, replicated with fresh request ids by DuckDB).

Cases, each its own process (peak RSS is that process's own):

- full: `planner run` over 30 days into a fresh database. Its stderr progress lines split it into stages
  (ingest, price, detect, segment, score, plan, report); each stage's wall time is compared with the
  matching bare DuckDB operation, timed in one bare process in the same run: ingest = CTAS of every file,
  price = join with a price table, detect = the redaction regexes and a fingerprint over the prompts,
  segment = the hourly group-by. Score, plan and report work on the segments (dozens of rows): they have
  no row-level bare counterpart and count in the total only.
- incremental: one more day of files, `planner run` again on the same database; target ≤ 15% of full.

Targets (issue 9): the whole pipeline ≤ 3× the bare work, peak RSS ≤ 3 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, machine, planner, python  # noqa: E402

DAYS = 30
START = "2026-10-01"
STAGES = ("ingest", "price", "detect", "segment", "score", "plan", "report")

GENERIC_MAP = {
    "request_id": "Request ID", "ts": "Timestamp", "workload": "Feature", "provider": "Vendor", "model": "Model",
    "project": "Team", "user_id": "User", "input_tokens": "Prompt tokens", "cached_input_tokens": "Cached tokens",
    "output_tokens": "Completion tokens", "status": "Status", "latency_ms": "Latency (ms)", "prompt": "Prompt",
}

# one day of generic rows: $day (0-based), $n rows; timestamps spread over the day with a daytime bump
GENERIC_DAY = """
COPY (
  SELECT
    'gw-' || $day || '-' || i AS "Request ID",
    strftime(TIMESTAMP '{start}' + to_days($day) + to_microseconds(
        ((i * 86400000000 // $n + (hash(i, $day) % 60000000)::BIGINT) % 86400000000)::BIGINT),
        '%Y-%m-%dT%H:%M:%S.%fZ') AS "Timestamp",
    ['support', 'extraction', 'summaries', 'chat', 'search'][1 + i % 5] AS "Feature",
    CASE WHEN i % 3 = 0 THEN 'anthropic' ELSE 'openai' END AS "Vendor",
    CASE WHEN i % 3 = 0 THEN ['claude-sonnet-4-20250514', 'claude-3-5-haiku-20241022'][1 + i % 2]
         ELSE ['gpt-4.1-2025-04-14', 'gpt-4.1-mini-2025-04-14', 'gpt-4o-2024-08-06'][1 + i % 3] END AS "Model",
    'team-' || (i % 7) AS "Team",
    'user_' || (hash(i * 5, $day) % 5000)::BIGINT AS "User",
    (300 + (hash(i * 7, $day) % 6000)::BIGINT) AS "Prompt tokens",
    ((hash(i * 7, $day) % 6000)::BIGINT // 3) AS "Cached tokens",
    (20 + (hash(i * 13, $day) % 900)::BIGINT) AS "Completion tokens",
    CASE WHEN i % 250 = 0 THEN 'failure' ELSE 'success' END AS "Status",
    round(200 + (hash(i * 3, $day) % 20000)::BIGINT / 3.0, 1) AS "Latency (ms)",
    ['Summarise this ticket for the support team: ', 'Extract the invoice fields as JSON: ',
     'Answer the customer from the help centre: ', 'Translate to French: ', 'Classify the intent: '][1 + i % 5]
      || 'case ' || (hash(i, $day) % 100000)::BIGINT
      || CASE WHEN i % 40 = 0 THEN ', reply to jane.doe' || (i % 97) || '@example.com' ELSE '' END AS "Prompt"
  FROM range($n) t(i)
) TO '{path}' (FORMAT csv, HEADER)
"""

# the template's rows (one day of the company's gateway), replicated $copies times, shifted to day $day
LITELLM_DAY = """
COPY (
  SELECT * REPLACE (
    request_id || '-' || $day || '-' || k AS request_id,
    strftime(strptime("startTime", '%Y-%m-%d %H:%M:%S.%g') + to_days($day), '%Y-%m-%d %H:%M:%S.%g') AS "startTime",
    strftime(strptime("endTime", '%Y-%m-%d %H:%M:%S.%g') + to_days($day), '%Y-%m-%d %H:%M:%S.%g') AS "endTime",
    CASE WHEN "completionStartTime" IS NULL THEN NULL ELSE strftime(strptime("completionStartTime",
        '%Y-%m-%d %H:%M:%S.%g') + to_days($day), '%Y-%m-%d %H:%M:%S.%g') END AS "completionStartTime")
  FROM read_csv('{template}', all_varchar = true), range($copies) r(k)
) TO '{path}' (FORMAT csv, HEADER)
"""

WRITE = """
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
for sql, params in json.loads(sys.stdin.read()):
    con.execute(sql, params or None)
"""

TEMPLATE = """
import sys
from datetime import timedelta
from pathlib import Path
from planner import company, generate as gen
gateway, _ = company.request_traffic(days=1, seed=7, scale=float(sys.argv[2]), start=gen.DEFAULT_START)
gen.write_litellm_csv(gateway, Path(sys.argv[1]))
print(gateway.num_rows)
"""

BARE = r"""
import duckdb, json, sys, time
db, exports = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
out = {}
def step(name, sql):
    t = time.perf_counter()
    for s in sql:
        con.execute(s)
    out[name] = out.get(name, 0.0) + time.perf_counter() - t
step("ingest", [
    f"CREATE TABLE g AS SELECT * FROM read_csv('{exports}/gateway/*.csv')",
    f"CREATE TABLE l AS SELECT * FROM read_csv('{exports}/litellm/*.csv')",
    "CREATE TABLE u AS SELECT \"Request ID\" AS id, \"Timestamp\"::TIMESTAMP AS ts, \"Feature\" AS w, \"Model\" AS model, "
    "\"Prompt tokens\" AS i, \"Cached tokens\" AS c, \"Completion tokens\" AS o, \"Prompt\" AS prompt FROM g "
    "UNION ALL SELECT request_id, \"startTime\"::TIMESTAMP, metadata->>'$.user_api_key_alias', model, prompt_tokens, "
    "0, completion_tokens, messages FROM l",
])
step("price", [
    "CREATE TABLE p AS SELECT * FROM (VALUES ('gpt-4.1-2025-04-14', 2.0, 0.5, 8.0), ('gpt-4.1-mini-2025-04-14', 0.4, 0.1, 1.6), "
    "('gpt-4o-2024-08-06', 2.5, 1.25, 10.0), ('claude-sonnet-4-20250514', 3.0, 0.3, 15.0), "
    "('claude-3-5-haiku-20241022', 0.8, 0.08, 4.0)) v(model, pi, pc, po)",
    "CREATE TABLE priced AS SELECT u.*, CAST(((i - c) * pi + c * pc + o * po) / 1e6 AS DECIMAL(38, 10)) AS cost "
    "FROM u LEFT JOIN p USING (model)",
])
step("detect", [
    "CREATE TABLE d AS SELECT id, regexp_replace(regexp_replace(prompt, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}', "
    "'<EMAIL_ADDRESS>', 'g'), '\\b(?:\\d[ -]?){11,18}\\d\\b', '<CREDIT_CARD>', 'g') AS redacted, "
    "md5(left(prompt, 200)) AS fingerprint FROM u",
])
step("segment", [
    "CREATE TABLE s AS SELECT w, model, date_trunc('hour', ts) AS h, count(*) AS n, sum(i) AS i, sum(o) AS o, "
    "sum(cost) AS cost FROM priced GROUP BY ALL",
])
print(json.dumps(out))
"""


def write_days(days: range, exports: Path, generic_rows: int, template: Path, copies: int) -> None:
    """One file per format holding `days` (the first pull of a month, or one nightly pull), written by one
    DuckDB process: a COPY per day into a temporary folder, then one COPY of them into the export file."""
    import json

    tag = f"{days.start:03d}-{days.stop - 1:03d}"
    tmp = exports.parent / "parts"
    work = []
    for fmt in ("gateway", "litellm"):
        (tmp / fmt).mkdir(parents=True, exist_ok=True)
        (exports / fmt).mkdir(parents=True, exist_ok=True)
    for day in days:
        work.append((GENERIC_DAY.format(start=START, path=tmp / "gateway" / f"{day:03d}.csv"),
                     {"day": day, "n": generic_rows}))
        if copies:
            work.append((LITELLM_DAY.format(template=template, path=tmp / "litellm" / f"{day:03d}.csv"),
                         {"day": day, "copies": copies}))
    for fmt, name in (("gateway", "gateway"), ("litellm", "LiteLLM_SpendLogs")):
        if fmt == "litellm" and not copies:
            continue
        work.append((f"COPY (SELECT * FROM read_csv('{tmp / fmt}/*.csv', all_varchar = true)) "
                     f"TO '{exports / fmt / f'{name}_{tag}.csv'}' (FORMAT csv, HEADER)", {}))
    subprocess.run(python(WRITE), input=json.dumps(work), text=True, check=True)
    shutil.rmtree(tmp)


def config_text() -> str:
    mapping = ", ".join(f'{k} = "{v}"' for k, v in GENERIC_MAP.items())
    return ('[[sources]]\nglob = "gateway/*.csv"\nformat = "generic"\n'
            f"map = {{ {mapping} }}\n")


def timed_run(argv: list[str]) -> tuple[dict[str, float], float, float, int]:
    """Run planner, split its wall time into stages by its progress lines; (stages, total, peak RSS MB, rc)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marks: list[tuple[str, float]] = [("ingest", 0.0)]
    tail: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        now = time.perf_counter() - started
        tail = (tail + [line])[-20:]
        for stage in ("price", "detect", "segment", "score", "plan"):
            if line.startswith(f"planner: {stage} ..."):
                marks.append((stage, now))
        if line.startswith("planner: writing reports"):
            marks.append(("report", now))
    _, status, usage = os.wait4(proc.pid, 0)
    total = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.stderr.write("".join(tail))
        raise SystemExit(f"planner run failed with exit {code}")
    stages: dict[str, float] = {}
    for (name, at), nxt in zip(marks, [*marks[1:], ("end", total)], strict=True):
        stages[name] = stages.get(name, 0.0) + nxt[1] - at
    return stages, total, usage.ru_maxrss / 1024, code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="request rows over the 30 days")
    ap.add_argument("--provider-share", type=float, default=0.1, help="share of rows in LiteLLM SpendLogs")
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "data" / "pipeline")
    ap.add_argument("--keep", action="store_true", help="keep the generated files and databases")
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    exports = args.dir / "exports"
    exports.mkdir(parents=True)

    per_day = args.rows / DAYS
    template = args.dir / "template.csv"
    t0 = time.perf_counter()
    tpl_rows = int(subprocess.run(python(TEMPLATE) + [str(template), "0.2"], check=True, capture_output=True,
                                  text=True).stdout.strip())
    copies = max(1 if args.provider_share > 0 else 0, round(per_day * args.provider_share / max(tpl_rows, 1)))
    generic_rows = max(1, round(per_day - copies * tpl_rows))
    write_days(range(DAYS), exports, generic_rows, template, copies)
    total_rows = DAYS * (generic_rows + copies * tpl_rows)
    print(f"generated {total_rows:,} rows ({generic_rows:,} generic + {copies * tpl_rows:,} LiteLLM a day) "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    cfg = args.dir / "planner.toml"
    cfg.write_text(config_text(), encoding="utf-8")

    bare_db = args.dir / "bare.duckdb"
    t = time.perf_counter()
    bare_out = subprocess.run(python(BARE) + [str(bare_db), str(exports)], check=True, capture_output=True, text=True)
    bare_total = time.perf_counter() - t
    import json

    bare = json.loads(bare_out.stdout.strip().splitlines()[-1])
    bare_db.unlink(missing_ok=True)

    db = args.dir / "planner.duckdb"
    argv = planner("run", str(exports), "--out", str(args.dir / "reports"), "--db", str(db), "--config", str(cfg))
    stages, total, rss, code = timed_run(argv)
    write_days(range(DAYS, DAYS + 1), exports, generic_rows, template, copies)
    _, incr_total, incr_rss, _ = timed_run(argv)

    print(f"machine: {machine()}")
    print(f"rows: {total_rows:,} over {DAYS} days ({args.provider_share:.0%} LiteLLM SpendLogs, the rest generic CSV); "
          f"planner exit {code}")
    print(f"{'stage':<10} {'planner s':>10} {'bare s':>8} {'ratio':>6}")
    for name in STAGES:
        mine = stages.get(name, 0.0)
        b = bare.get(name)
        ratio = f"{mine / b:>6.2f}" if b else f"{'-':>6}"
        print(f"{name:<10} {mine:>10.2f} {b if b is not None else float('nan'):>8.2f} {ratio}")
    bare_work = sum(bare.values())
    print(f"{'total':<10} {total:>10.2f} {bare_work:>8.2f} {total / bare_work:>6.2f}   "
          f"(bare process incl. start-up: {bare_total:.2f} s)")
    print(f"peak RSS: full run {rss:.0f} MB, incremental run {incr_rss:.0f} MB (target <= 3072 MB)")
    print(f"incremental: one more day after {DAYS} took {incr_total:.2f} s = {incr_total / total:.1%} of the full run "
          f"(target <= 15%)")
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
