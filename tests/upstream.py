"""Stand-ins for the upstream stages (pricing, sensitivity, segmentation, scoring) so the plan and the
reports can be built and tested before those branches merge.

Two ways in:
- `standin_analyze(con, config, run_id)`: realistic rows derived from ingested usage (demo traffic),
  through simplified SQL in tests/upstream_sql/ shaped like the real stages' tables;
- `add_segment(...)`: hand-made segments with exact options and scores, for arithmetic tests.

Also a script: `python tests/upstream.py example reports/example` regenerates the example report
(see docs/reports.md).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SQL = Path(__file__).resolve().parent / "upstream_sql"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planner import db as dbmod  # noqa: E402

FIXED_NOW = datetime(2026, 11, 2, 6, 0, 0, tzinfo=UTC)

# USD per million tokens: input, cached input, output, batch factor (capacity.md §4.2; genai-prices 0.2.3)
STANDIN_PRICES = [
    ("openai", "gpt-4o-mini-2024-07-18", "0.15", "0.075", "0.60", "0.5"),
    ("openai", "gpt-4.1-mini", "0.40", "0.10", "1.60", "0.5"),
    ("anthropic", "claude-3-5-haiku-20241022", "0.80", "0.08", "4.00", "0.5"),
    ("anthropic", "claude-sonnet-4-20250514", "3.00", "0.30", "15.00", "0.5"),
]


def sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def create_tables(con: Any) -> None:
    con.execute(sql("tables"))


def load_demo(con: Any, folder: Path, *, days: int = 3, seed: int = 7, scale: float = 0.1,
              config: Any = None) -> str:
    """Generate demo traffic, write it as the gateway CSV and ingest it. Returns the ingest run id."""
    from planner import generate, ingest
    from planner.config import load_config
    from planner.runs import finish_run, start_run

    cfg = config or load_config(None)
    table = generate.traffic(days=days, seed=seed, scale=scale)
    csv_path = generate.write_generic_csv(table, folder / "gateway-requests.csv")
    run_id = start_run(con, "ingest", cfg, run_id=f"{FIXED_NOW:%Y%m%dT%H%M%SZ}-ingest")
    options = ingest.IngestOptions.from_config(cfg, format="generic", mapping=generate.GENERIC_MAPPING, run_id=run_id)
    results, _ = ingest.ingest_paths(con, [csv_path], options)
    assert all(r.status == "loaded" for r in results), [r.error for r in results]
    # the file's place on this machine would make reports differ between checkouts
    con.execute("update sources set path = 'exports/gateway-requests.csv'")
    finish_run(con, run_id, 0)
    return run_id


def standin_analyze(con: Any, config: Any, run_id: str, *, volume: float = 1.0, plan: bool = True) -> Any:
    """Run the stand-in upstream stages and then the real plan stage, as `planner analyze` will."""
    from planner import plan as planmod
    from planner.runs import finish_run, record_assumptions, start_run

    create_tables(con)
    start_run(con, "analyze", config, run_id=run_id)
    record_assumptions(con, run_id, config)
    with dbmod.transaction(con):
        if not con.execute("select count(*) from standin_prices").fetchone()[0]:
            con.executemany("insert into standin_prices values (?, ?, ?, ?, ?, ?)", STANDIN_PRICES)
        con.execute(sql("sensitivity"))
        con.execute(sql("usage_enriched"))
        con.execute(sql("segments"), {"run_id": run_id})
        con.execute(sql("options"), {"run_id": run_id, "volume": volume})
        con.execute(sql("scores"), {"run_id": run_id})
        con.execute("update runs set price_snapshot_date = date '2026-10-14' where run_id = ?", [run_id])
    result = None
    if plan:
        with dbmod.transaction(con):
            result = planmod.run(con, config, run_id)
    finish_run(con, run_id, 0)
    return result


# ---------------------------------------------------------------- hand-made segments

def start_analyze(con: Any, config: Any, run_id: str, *, snapshot: str = "2026-10-14") -> None:
    from planner.runs import record_assumptions, start_run

    create_tables(con)
    start_run(con, "analyze", config, run_id=run_id)
    record_assumptions(con, run_id, config)
    con.execute("update runs set price_snapshot_date = cast(? as date) where run_id = ?", [snapshot, run_id])


def add_segment(con: Any, run_id: str, segment_id: str, *, workload: str, kind: str | None = "extraction",
                sensitivity: str | None = "internal", mode: str = "batch", band: str = "<=8K",
                requests: int = 100_000, current: str = "10000", decision: str = "migrate",
                chosen: str = "self_host", savings: str | None = None, one_time: str = "20000",
                self_host: dict[str, Any] | None = None, open_api: str | None = "6000",
                optimized: str | None = "9000", flips: list[dict[str, Any]] | None = None,
                reasons: list[str] | None = None, peak: float = 60.0) -> None:
    """One segment with its four options and its score. Money as decimal strings."""
    sh = {"model": "llama-3.1-8b", "gpu": "l40s", "gpus_per_replica": 1, "replicas": 1, "load_replicas": 0.5,
          "spare_replicas": 0, "gpu_usd_per_hour": "1.00", "hours_per_month": 730, "labor_cost_usd": "5208.33",
          "observability_cost_usd": "400", "max_model_len": 32768}
    sh.update(self_host or {})
    gpus = sh["gpus_per_replica"] * sh["replicas"]
    gpu_cost = Decimal(str(sh["gpu_usd_per_hour"])) * sh["hours_per_month"] * gpus
    sh_cost = gpu_cost + Decimal(str(sh["labor_cost_usd"])) + Decimal(str(sh["observability_cost_usd"]))
    details = {k: v for k, v in sh.items() if k not in ("model", "gpu", "replicas")}
    details["gpu_cost_usd"] = str(gpu_cost)
    cur = Decimal(current)
    chosen_cost = {"self_host": sh_cost, "open_model_api": Decimal(open_api or "0"),
                   "api_optimized": Decimal(optimized or "0"), "api_current": cur}[chosen]
    saving = Decimal(savings) if savings is not None else max(cur - chosen_cost, Decimal(0))
    con.execute(
        "insert into segments (run_id, segment_id, workload, workload_source, workload_kind, sensitivity, "
        "context_band, mode, requests, failed_requests, input_tokens, cached_input_tokens, output_tokens, cost_usd, "
        "first_ts, last_ts, p50_input, p95_input, p99_input, p50_output, p95_output, p99_output, cached_share, "
        "mean_per_minute, peak_per_minute, peak_to_mean, variance_to_mean, empty_minutes, longest_idle_s, "
        "coarse_timestamps, interactive_share) values (?, ?, ?, 'declared', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "timestamp '2026-10-01', timestamp '2026-10-31 23:59:00', 1200, 3000, 4800, 300, 700, 900, 0.25, "
        "?, ?, ?, 1.8, 10, 120, false, ?)",
        [run_id, segment_id, workload, kind, sensitivity, band, mode, requests, requests // 200, requests * 1500,
         requests * 300, requests * 320, str(cur), requests / 43200, peak, peak / (requests / 43200),
         0.0 if mode == "batch" else 1.0],
    )
    rows = [
        ("api_current", None, None, None, None, None, str(cur), True, [], "{}"),
        ("api_optimized", None, None, None, None, None, optimized, optimized is not None, [], "{}"),
        ("open_model_api", "together", sh["model"], None, None, None, open_api, open_api is not None,
         [] if open_api is not None else ["regulated data may not go to a third-party API"], "{}"),
        ("self_host", None, sh["model"], sh["gpu"], gpus, sh["replicas"], str(sh_cost), True, [],
         json.dumps(details)),
    ]
    con.executemany(
        "insert into segment_options (run_id, segment_id, option, provider, model, gpu, gpus, replicas, "
        "monthly_cost_usd, feasible, reasons, details) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, segment_id, *r) for r in rows],
    )
    con.execute(
        "insert into segment_scores (run_id, segment_id, decision, chosen_option, monthly_savings_usd, "
        "breakeven_months, one_time_cost_usd, flips, reasons) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, segment_id, decision, chosen, str(saving),
         float(Decimal(one_time) / saving) if saving > 0 and decision != "stay" else None,
         one_time if decision != "stay" else "0", json.dumps(flips or []), reasons or []],
    )


def plan_and_finish(con: Any, config: Any, run_id: str) -> Any:
    """The real plan stage in its transaction, then the run closed as `planner analyze` closes it."""
    from planner import plan as planmod
    from planner.runs import finish_run

    with dbmod.transaction(con):
        result = planmod.run(con, config, run_id)
    finish_run(con, run_id, 0)
    return result


# ---------------------------------------------------------------- the example report

def example(out: Path, *, scale: float = 1.0, days: int = 30, volume: float = 1.0) -> Path:
    """The demo company's traffic through the stand-in stages and the real plan and report."""
    import tempfile

    from planner import report
    from planner.config import load_config

    cfg = load_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "planner.duckdb"
        con = dbmod.connect(db_file)
        try:
            load_demo(con, Path(tmp) / "exports", days=days, seed=7, scale=scale, config=cfg)
            standin_analyze(con, cfg, f"{FIXED_NOW:%Y%m%dT%H%M%SZ}-example", volume=volume)
            report.render(con, out, now=FIXED_NOW)
        finally:
            con.close()
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "example":
        scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
        volume = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
        print(example(Path(sys.argv[2]), scale=scale, volume=volume))
    else:
        print("usage: python tests/upstream.py example OUT_DIR [SCALE [VOLUME]]", file=sys.stderr)
        sys.exit(2)
