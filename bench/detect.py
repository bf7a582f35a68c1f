"""PII detection over N prompts of ~200 characters: planner's detection against a bare DuckDB pass
applying the same regular expressions (one regexp_matches per pattern), in the same run.

    python bench/detect.py              # 10M rows (about 2 GB of text in memory)
    python bench/detect.py --rows 1000000

Prints both timings, their ratio (target: detection <= 2x the bare pass) and peak RSS. Timings on
this 2-core machine are noisy: read the ratio. Best of --repeat runs each.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from planner.db import quote_literal  # noqa: E402
from planner.sensitivity import DETECTORS, pii_types_sql  # noqa: E402

# ~2% of prompts carry a value; all carry numbers (ids, dates, amounts) that wake the number patterns
PROMPTS = """
CREATE OR REPLACE TABLE prompts AS
WITH w AS (
    SELECT ['refund', 'order', 'delivery', 'invoice', 'account', 'password', 'contract', 'summary', 'please',
            'customer', 'ticket', 'status', 'version', 'meeting', 'tomorrow', 'urgent', 'billing', 'support']
        AS words
)
SELECT
    i,
    left(
        CASE i % 5
            WHEN 0 THEN 'You are a support agent. Answer politely. Customer message: '
            WHEN 1 THEN 'Extract order_id, product and amount as JSON from this ticket: '
            WHEN 2 THEN 'Summarise the following note for the account manager: '
            WHEN 3 THEN 'Classify the sentiment of this review: '
            ELSE 'Translate to German: '
        END
        || w.words[CAST(1 + hash(i) % 18 AS BIGINT)] || ' ' || w.words[CAST(1 + hash(i + 1) % 18 AS BIGINT)] || ' order ' || (i * 7919 % 100000000)
        || ' placed on 2026-0' || (1 + i % 9) || '-1' || (i % 10) || ' for $' || (i % 997) || '.' || (i % 89) || ' '
        || CASE i % 50
            WHEN 0 THEN 'contact jane.doe' || (i % 1000) || '@example.com'
            WHEN 10 THEN 'call me on +1 415 555 ' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0')
            WHEN 20 THEN 'card 4111 1111 1111 1111 exp 09/27'
            WHEN 30 THEN 'ssn 536-22-' || lpad(CAST(1 + i % 9999 AS VARCHAR), 4, '0')
            WHEN 40 THEN 'from ip 10.' || (i % 250) || '.3.4'
            ELSE 'version 2.' || (i % 30) || '.1 and build 10.0.' || (i % 9999)
        END
        || ' ' || w.words[CAST(1 + hash(i + 2) % 18 AS BIGINT)] || ' ' || w.words[CAST(1 + hash(i + 3) % 18 AS BIGINT)] || ' thanks, the team. '
        || repeat('lorem ipsum dolor sit amet ', 4),
        200
    ) AS p
FROM range($rows) t(i), w
"""


def timed(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = con.execute(sql).fetchone()
        best = min(best, time.perf_counter() - t)
    return best, value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: DuckDB's default)")
    args = ap.parse_args(argv)
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    t = time.perf_counter()
    con.execute(PROMPTS.replace("$rows", str(int(args.rows))))
    made = time.perf_counter() - t
    avg = con.execute("SELECT avg(length(p)) FROM prompts").fetchone()[0]
    bare_list = ", ".join(f"regexp_matches(p, {quote_literal(d.pattern)})" for d in DETECTORS)
    bare = f"SELECT sum(len(list_filter([{bare_list}], lambda b: b))) FROM prompts"
    ours = f"SELECT sum(len({pii_types_sql('p')})) FROM prompts"
    t_bare, v_bare = timed(con, bare, args.repeat)
    t_ours, v_ours = timed(con, ours, args.repeat)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows {args.rows:,} (avg {avg:.0f} chars, generated in {made:.1f} s), {len(DETECTORS)} patterns")
    print(f"bare DuckDB pass, same patterns: {t_bare:8.2f} s   ({args.rows / t_bare / 1e6:.2f} M rows/s; "
          f"{v_bare[0]} raw matches)")
    print(f"planner detection (validated):   {t_ours:8.2f} s   ({args.rows / t_ours / 1e6:.2f} M rows/s; "
          f"{v_ours[0]} entity types found)")
    ratio = t_ours / t_bare
    print(f"ratio detection / bare: {ratio:.2f}x (target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")
    print(f"peak RSS: {rss_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
