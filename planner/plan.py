"""The migration plan: a portfolio, not a list (issue 8).

Segments that move to self-hosting share one fleet per deployment (model x GPU x GPUs per replica):
their design-peak loads add up, and the HA spare, the labour and the platform's fixed costs are counted
once. Waves order the moves by risk and savings (pilot first); the cash flow gives the plan's break-even
month including one-time migration costs; volume what-ifs resize the fleets at k x today's volume.

All of it is SQL in `sql/stages/plan_*.sql` over the run's `segments`, `segment_options`,
`segment_scores` and `assumptions` (read in one place: `plan_inputs.sql`). `diff` compares two runs.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from planner.db import fetch_dicts, load_sql
from planner.errors import UsageError
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

PLAN_TABLES = ("plan", "plan_waves", "plan_segments", "plan_deployments", "plan_volume", "plan_cashflow",
               "plan_warnings", "plan_opportunities", "plan_overflow")
STAGE_SQL = ("plan_inputs", "plan_segments", "plan_scenarios", "plan_deployments", "plan_volume", "plan_waves",
             "plan_cashflow", "plan_headline", "plan_overflow", "plan_opportunities", "plan_warnings")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def execute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Any:
    """Run `sql/<name>.sql` with the named parameters it uses (DuckDB rejects unused ones)."""
    text = load_sql(name)
    used = set(_PARAM.findall(text))
    missing = used - set(params)
    if missing:
        raise UsageError(f"internal: sql/{name}.sql needs parameters {sorted(missing)}")
    return con.execute(text, {k: v for k, v in params.items() if k in used})


def parameters(config: Config, run_id: str) -> dict[str, Any]:
    """Every tunable the plan SQL reads, from the run's config (also recorded in `assumptions`)."""
    mults = sorted({Decimal(str(m)) for m in config.value("plan.curve_multipliers")}
                   | {Decimal(str(m)) for m in config.value("plan.volume_multipliers")} | {Decimal(1)})
    return {
        "run_id": run_id,
        "horizon_months": int(config.value("plan.horizon_months")),
        "wave_interval_months": int(config.value("plan.wave_interval_months")),
        "multipliers": [str(m) for m in mults],
        "crossover_max_multiplier": float(config.value("plan.crossover_max_multiplier")),
        "gpus_per_node": int(config.value("plan.gpus_per_node")),
        "observability_per_node_usd": str(config.value("plan.observability_per_node_usd")),
        "observability_fixed_usd": str(config.value("plan.observability_fixed_usd")),
        "fallback_labor_usd": str(config.value("plan.fallback_labor_usd")),
        "simple_kinds": [str(k) for k in config.value("plan.simple_kinds")],
        "medium_kinds": [str(k) for k in config.value("plan.medium_kinds")],
    }


def run(con: duckdb.DuckDBPyConnection, config: Config, run_id: str) -> StageResult:
    """Build `plan`, `plan_waves` and their companion tables for `run_id` (the caller holds the transaction)."""
    result = StageResult(name="plan")
    params = parameters(config, run_id)
    for table in PLAN_TABLES:
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    for name in STAGE_SQL:
        try:
            execute(con, f"stages/{name}", params)
        except Exception as exc:
            exc.add_note(f"while running sql/stages/{name}.sql")
            raise
    result.warnings.extend(_warnings(con, run_id))
    result.findings = bool(result.warnings)
    headline = fetch_dicts(con, "SELECT * FROM plan WHERE run_id = ?", [run_id])
    result.data["plan"] = headline[0] if headline else {}
    for temp in ("plan_input", "plan_scenarios"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    return result


def _warnings(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    rows = con.execute("SELECT line FROM plan_warnings WHERE run_id = ? ORDER BY ord", [run_id]).fetchall()
    return [r[0] for r in rows]


# ---------------------------------------------------------------- runs and diff

def plan_runs(con: duckdb.DuckDBPyConnection, *, scenarios: bool = True) -> list[str]:
    """Run ids that have a plan, oldest first (run ids sort by their UTC start time); runs that failed or
    were interrupted after their plan stage are left out; `scenarios=False` leaves out scenario runs."""
    return [r[0] for r in con.execute(load_sql("stages/plan_runs")).fetchall() if scenarios or r[1] is None]


def resolve_run(con: duckdb.DuckDBPyConnection, run_id: str | None) -> str:
    runs = plan_runs(con)
    if not runs:
        raise UsageError("no plan in this database yet", hint="run `planner analyze` (or `planner run`) first")
    if run_id is None:      # the latest plan that is not a scenario's what-if (else the latest of any)
        base = plan_runs(con, scenarios=False)
        return base[-1] if base else runs[-1]
    matches = [r for r in runs if r == run_id or r.startswith(run_id)]
    if len(matches) != 1:
        what = "no plan for run" if not matches else "ambiguous run"
        raise UsageError(f"{what} {run_id!r}", hint=f"runs with a plan: {', '.join(runs[-5:])}")
    return matches[0]


def previous_run(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    earlier = [r for r in plan_runs(con, scenarios=False) if r < run_id]
    return earlier[-1] if earlier else None


def diff(con: duckdb.DuckDBPyConnection, from_run: str | None, to_run: str, *,
         min_cost_change: Decimal = Decimal(1)) -> dict[str, Any] | None:
    """What changed between two runs' plans: decisions, costs, new or vanished segments, prices, headline."""
    if from_run is None:
        return None
    params = {"from_run": from_run, "to_run": to_run, "min_cost_change": str(min_cost_change)}
    segments = fetch_dicts(con, load_sql("stages/plan_diff_segments"), _used(params, "stages/plan_diff_segments"))
    sides = {r["side"]: r for r in fetch_dicts(con, load_sql("stages/plan_diff_headline"),
                                                _used(params, "stages/plan_diff_headline"))}
    assumptions = fetch_dicts(con, load_sql("stages/plan_diff_assumptions"),
                              _used(params, "stages/plan_diff_assumptions"))
    before, after = sides.get("from", {}), sides.get("to", {})
    headline = [{"figure": f, "from": before.get(f), "to": after.get(f)} for f in DIFF_FIGURES
                if before.get(f) != after.get(f)]
    return {
        "run_id": from_run,
        "price_snapshot": {"from": before.get("price_snapshot_date"), "to": after.get("price_snapshot_date"),
                           "changed": before.get("price_snapshot_date") != after.get("price_snapshot_date")},
        "headline": headline,
        "decisions": [_pick(s, "segment_id", "workload", "from", "to") for s in segments if s["change"] == "decision"],
        "new_segments": [_pick(s, "segment_id", "workload", "to", "to_cost_usd") for s in segments
                         if s["change"] == "new"],
        "vanished_segments": [_pick(s, "segment_id", "workload", "from", "from_cost_usd") for s in segments
                              if s["change"] == "vanished"],
        "costs": [_pick(s, "segment_id", "workload", "from_cost_usd", "to_cost_usd", "change_usd",
                        "from_savings_usd", "to_savings_usd") for s in segments if s["change"] == "cost"],
        "assumptions": assumptions,
    }


DIFF_FIGURES = ("segments_total", "segments_moving", "current_monthly_cost_usd", "monthly_savings_usd",
                "one_time_cost_usd", "breakeven_month", "deployments", "gpus", "savings_3x_usd", "savings_5x_usd")


def _used(params: dict[str, Any], name: str) -> dict[str, Any]:
    used = set(_PARAM.findall(load_sql(name)))
    return {k: v for k, v in params.items() if k in used}


def _pick(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: row[k] for k in keys}
