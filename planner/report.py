"""plan.json (schema `planner.plan/v1`) built from the tables, and HTML and Markdown rendered from it.

`build_plan` is the only function here that reads the database; `render_html` and `render_markdown`
take the plan object alone (what they show is what plan.json says). Money stays `Decimal` until it is
written as a decimal string. Files are written to a temp file beside the target, then `os.replace`d.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner import plan as planmod
from planner.db import fetch_dicts, load_sql
from planner.errors import UsageError
from planner.faults import maybe_crash
from planner.runs import fixed_clock

if TYPE_CHECKING:
    import duckdb
    import jinja2

SCHEMA = "planner.plan/v1"
FORMATS = ("html", "md", "json")
OPTIONS = ("api_current", "api_optimized", "open_model_api", "self_host", "hybrid")


# ---------------------------------------------------------------- JSON values

def dec(value: Any) -> str | None:
    """A DECIMAL as a plain decimal string without trailing zeros (`"1234.5"`, `"0"`); None stays None."""
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


def num(value: Any, digits: int = 6) -> float | int | None:
    """A non-money number, rounded so float noise never changes the file."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    f = float(value)
    if f != f:  # NaN
        return None
    r = round(f, digits)
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ts(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    text = load_sql(f"stages/{name}")
    used = {k: v for k, v in params.items() if f"${k}" in text}
    return fetch_dicts(con, text, used if used else None)


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


# ---------------------------------------------------------------- the plan object

def build_plan(con: duckdb.DuckDBPyConnection, run_id: str | None = None, *,
               now: datetime | None = None, min_cost_change: Decimal | None = None) -> dict[str, Any]:
    """The plan.json object for a run (default: the latest run with a plan)."""
    run_id = planmod.resolve_run(con, run_id)
    run = (_rows(con, "report_run", run_id=run_id) or [{}])[0]
    totals = _rows(con, "report_totals")[0]
    headline = _rows(con, "report_plan", run_id=run_id)[0]
    assumptions = _rows(con, "report_assumptions", run_id=run_id)
    segments = _segments(con, run_id)
    deployments = fetch_dicts(con, "SELECT * FROM plan_deployments WHERE run_id = ? ORDER BY first_wave, deployment_id",
                              [run_id])
    waves = fetch_dicts(con, "SELECT * FROM plan_waves WHERE run_id = ? ORDER BY wave", [run_id])
    volume = fetch_dicts(con, "SELECT * FROM plan_volume WHERE run_id = ? ORDER BY scope = 'portfolio' DESC, scope, "
                              "multiplier", [run_id])
    cashflow = fetch_dicts(con, "SELECT * FROM plan_cashflow WHERE run_id = ? ORDER BY month", [run_id])
    opportunities = fetch_dicts(con, "SELECT * FROM plan_opportunities WHERE run_id = ? "
                                     "ORDER BY monthly_savings_usd DESC, segment_id", [run_id])
    overflow = fetch_dicts(con, "SELECT * FROM plan_overflow WHERE run_id = ? ORDER BY monthly_cost_usd DESC, provider, "
                                "model", [run_id]) if _exists(con, "plan_overflow") else []
    start, end = totals["period_start"], totals["period_end"]
    days = None if start is None else num(max((end - start).total_seconds() / 86400.0, 0.0), 3)
    if min_cost_change is None:
        row = next((a for a in assumptions if a["key"] == "plan.diff_min_cost_change_usd"), None)
        min_cost_change = Decimal(row["value"]) if row else Decimal(1)
    diff = planmod.diff(con, planmod.previous_run(con, run_id), run_id, min_cost_change=min_cost_change)
    warnings = _warnings(con, run_id, totals)
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id,
        "generated_at": ts((now or fixed_clock() or datetime.now(UTC)).astimezone(UTC)),
        "planner_version": run.get("planner_version") or __version__,
        "price_snapshot_date": ts(run.get("price_snapshot_date")),
        "period": {"start": ts(start), "end": ts(end), "days": days},
        "totals": {
            "requests": totals["requests"],
            "failed_requests": totals["failed_requests"],
            "input_tokens": totals["input_tokens"],
            "cached_input_tokens": totals["cached_input_tokens"],
            "cache_write_tokens": totals["cache_write_tokens"],
            "output_tokens": totals["output_tokens"],
            "reasoning_tokens": totals["reasoning_tokens"],
            "api_cost_usd": dec(totals["api_cost_usd"]),
            "billed_cost_usd": dec(totals["billed_cost_usd"]),
            "unpriced_requests": totals["unpriced_requests"],
        },
        "reconciliation": _reconciliation(con),
        "assumptions": [{"key": a["key"], "value": a["value"], "unit": a["unit"], "source": a["source"],
                         "origin": a["origin"]} for a in assumptions],
        "segments": segments,
        "portfolio": _portfolio(headline, deployments, waves, volume, cashflow, segments, opportunities) | {
            "overflow_api_cost_usd": dec(headline.get("overflow_api_cost_usd")),
            "overflow": [{
                "provider": o["provider"], "model": o["model"], "segments": o["segments"],
                "segment_ids": list(o["segment_ids"]), "requests_per_month": num(o["requests_per_month"], 1),
                "input_tokens_per_month": num(o["input_tokens_per_month"], 0),
                "output_tokens_per_month": num(o["output_tokens_per_month"], 0),
                "peak_overflow_per_minute": num(o["peak_overflow_per_minute"], 3),
                "overflow_api_cost_usd": dec(o["overflow_api_cost_usd"]),
                "failover_api_cost_usd": dec(o["failover_api_cost_usd"]),
                "monthly_cost_usd": dec(o["monthly_cost_usd"]),
                "api_cost_replaced_usd": dec(o["api_cost_replaced_usd"]),
            } for o in overflow]},
        "warnings": warnings,
        "diff": diff_json(diff),
        "sources": [{"path": s["path"], "format": s["format"], "status": s["status"], "rows_loaded": s["rows_loaded"],
                     "rows_rejected": s["rows_rejected"]} for s in _rows(con, "report_sources")],
        "unpriced": [{"provider": u["provider"], "model": u["model"], "requests": u["requests"],
                      "input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"]}
                     for u in _rows(con, "report_unpriced")],
        "charts": _chart_data(con, segments),
    }
    out["scenarios"] = _scenarios(con, run_id)
    out["uncertainties"] = _uncertainties(out)
    return out


MAX_SCENARIOS = 3


def _scenarios(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The base plan and up to three scenario runs on it, side by side (first: the base plan); empty when
    there is no scenario run to compare."""
    rows = _rows(con, "report_scenarios", run_id=run_id, max_scenarios=MAX_SCENARIOS)
    if len(rows) < 2:
        return []
    base = {a["segment_id"]: a["action"] for a in rows[0]["actions"] or []}
    out = []
    for r in rows:
        actions = {a["segment_id"]: a["action"] for a in r["actions"] or []}
        out.append({
            "run_id": r["run_id"], "scenario": r["scenario"], "base": r["position"] == 0,
            "changes": [{"key": c["key"], "value": c["value"], "origin": c["origin"]} for c in r["changes"] or []],
            "current_monthly_cost_usd": dec(r["current_monthly_cost_usd"]),
            "plan_monthly_cost_usd": dec(r["plan_monthly_cost_usd"]),
            "monthly_savings_usd": dec(r["monthly_savings_usd"]), "one_time_cost_usd": dec(r["one_time_cost_usd"]),
            "breakeven_month": r["breakeven_month"], "segments_moving": r["segments_moving"],
            "segments_staying": r["segments_staying"], "deployments": r["deployments"], "gpus": r["gpus"],
            "overflow_api_cost_usd": dec(r["overflow_api_cost_usd"]),
            "decisions_changed": sum(1 for s, a in actions.items() if s in base and base[s] != a),
        })
    return out


def _segments(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    options: dict[str, dict[str, dict[str, Any]]] = {}
    for o in _rows(con, "report_options", run_id=run_id):
        entry = {"monthly_cost_usd": dec(o["monthly_cost_usd"]), "feasible": o["feasible"],
                 "reasons": list(o["reasons"] or [])}
        if o["option"] in ("open_model_api", "api_optimized", "api_current"):
            entry.update({"provider": o["provider"], "model": o["model"]})
        if o["option"] in ("self_host", "hybrid"):
            entry.update({"model": o["model"], "gpu": o["gpu"], "gpus": o["gpus"], "replicas": o["replicas"]})
        if o["overflow_share"] is not None:
            entry["overflow_share"] = num(o["overflow_share"])
        if o["option"] == "hybrid":
            entry["overflow"] = _overflow(o.get("overflow_json"))
        options.setdefault(o["segment_id"], {})[o["option"]] = entry
    out = []
    for s in _rows(con, "report_segments", run_id=run_id):
        opts = options.get(s["segment_id"], {})
        for name in OPTIONS:
            opts.setdefault(name, {"monthly_cost_usd": None, "feasible": False, "reasons": ["not computed"]})
        out.append({
            "segment_id": s["segment_id"],
            "workload": s["workload"],
            "workload_source": s["workload_source"],
            "workload_kind": s["workload_kind"],
            "sensitivity": s["sensitivity"],
            "mode": s["mode"],
            "token_shape": {
                "context_band": s["context_band"],
                "p50_input": num(s["p50_input"], 1), "p95_input": num(s["p95_input"], 1),
                "p99_input": num(s["p99_input"], 1), "p50_output": num(s["p50_output"], 1),
                "p95_output": num(s["p95_output"], 1), "p99_output": num(s["p99_output"], 1),
                "cached_share": num(s["cached_share"], 4),
                "mean_per_minute": num(s["mean_per_minute"], 4), "peak_per_minute": num(s["peak_per_minute"], 4),
                "peak_to_mean": num(s["peak_to_mean"], 3),
                "interactive_share": num(s.get("interactive_share"), 4),
                "coarse_timestamps": s.get("coarse_timestamps"),
            },
            "volume": {
                "requests": s["requests"], "failed_requests": s["failed_requests"],
                "input_tokens": s["input_tokens"], "cached_input_tokens": s["cached_input_tokens"],
                "output_tokens": s["output_tokens"], "cost_usd": dec(s["cost_usd"]),
                "monthly_cost_usd": dec(s["current_monthly_cost_usd"]),
                "first_ts": ts(s["first_ts"]), "last_ts": ts(s["last_ts"]),
            },
            "options": {name: opts[name] for name in OPTIONS} | {k: v for k, v in sorted(opts.items())
                                                                 if k not in OPTIONS},
            "decision": s["decision"] or "stay",
            "chosen_option": s["chosen_option"],
            "monthly_savings_usd": dec(s["monthly_savings_usd"]),
            "breakeven_months": num(s["breakeven_months"], 2),
            "one_time_cost_usd": dec(s["one_time_cost_usd"]),
            "flips": _flips(s["flips_json"]),
            "breakeven_map": _breakeven_map(s.get("breakeven_map_json")),
            "reasons": list(s["reasons"] or []),
            "plan": {
                "action": s["action"] or "stay", "wave": s["wave"], "deployment_id": s["deployment_id"],
                "risk": s["risk"], "risk_score": s["risk_score"], "risk_reasons": list(s["risk_reasons"] or []),
                "stay_reasons": list(s["stay_reasons"] or []),
            },
        })
    return out


def _overflow(text: str | None) -> dict[str, Any] | None:
    """A hybrid option's overflow: where it goes, what share of requests/tokens/minutes, its cost, latency."""
    if not text:
        return None
    o = json.loads(text)
    if not isinstance(o, dict):
        return None
    lat = o.get("latency") if isinstance(o.get("latency"), dict) else None
    return {"provider": o.get("provider"), "model": o.get("model"),
            "requests_share": num(o.get("requests_share")), "tokens_share": num(o.get("tokens_share")),
            "minutes_share": num(o.get("minutes_share")), "failover_share": num(o.get("failover_share")),
            "requests_per_month": num(o.get("requests_per_month"), 1),
            "input_tokens_per_month": num(o.get("input_tokens_per_month"), 0),
            "output_tokens_per_month": num(o.get("output_tokens_per_month"), 0),
            "peak_overflow_per_minute": num(o.get("peak_overflow_per_minute"), 3),
            "api_cost_usd": o.get("api_cost_usd"), "failover_api_cost_usd": o.get("failover_api_cost_usd"),
            "latency": None if lat is None else {k: num(v, 1) for k, v in sorted(lat.items())},
            "fleet_latency": {k: num(v, 1) for k, v in sorted((o.get("fleet_latency") or {}).items())}}


def _breakeven_map(text: str | None) -> dict[str, Any] | None:
    """Where the segment's decision holds over GPU price x volume (scoring's break-even map)."""
    if not text:
        return None
    m = json.loads(text)
    if not isinstance(m, dict):
        return None
    return {"decision": m.get("decision"), "gpu": m.get("gpu"), "gpu_price_per_hour": num(m.get("gpu_price_per_hour")),
            "gpu_price_multipliers": [num(x) for x in m.get("gpu_price_multipliers") or []],
            "volume_multipliers": [num(x) for x in m.get("volume_multipliers") or []],
            "cells": [str(r) for r in m.get("cells") or []], "codes": dict(sorted((m.get("codes") or {}).items())),
            "holds_share": num(m.get("holds_share"), 4),
            "holds": [None if h is None else {k: num(v) for k, v in h.items()} for h in m.get("holds") or []]}


def _flips(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    items = json.loads(text)
    out = []
    for f in items if isinstance(items, list) else []:
        if not isinstance(f, dict):
            continue
        out.append({"assumption": f.get("assumption"), "value": _scalar(f.get("value")), "unit": f.get("unit"),
                    "flips_at": _scalar(f.get("flips_at")), "sentence": f.get("sentence")})
    return out


def _scalar(v: Any) -> Any:
    if isinstance(v, float):
        return num(v, 6)
    return v


def _portfolio(h: dict[str, Any], deployments: list[dict[str, Any]], waves: list[dict[str, Any]],
               volume: list[dict[str, Any]], cashflow: list[dict[str, Any]], segments: list[dict[str, Any]],
               opportunities: list[dict[str, Any]]) -> dict[str, Any]:
    curves: dict[str, list[dict[str, Any]]] = {}
    for v in volume:
        curves.setdefault(v["scope"], []).append({"multiplier": num(v["multiplier"], 4), "api_cost_usd": dec(v["api_cost_usd"]),
                                                  "plan_cost_usd": dec(v["plan_cost_usd"]),
                                                  "savings_usd": dec(v["savings_usd"])})
    at = {num(p["multiplier"]): p for p in curves.get("portfolio", [])}
    names = {s["segment_id"]: s["workload"] for s in segments}
    return {
        "segments_total": h["segments_total"],
        "segments_moving": h["segments_moving"],
        "segments_staying": h["segments_staying"],
        "current_monthly_cost_usd": dec(h["current_monthly_cost_usd"]),
        "moved_api_cost_usd": dec(h["moved_api_cost_usd"]),
        "self_host_cost_usd": dec(h["self_host_cost_usd"]),
        "other_api_cost_usd": dec(h["other_api_cost_usd"]),
        "plan_monthly_cost_usd": dec(h["plan_monthly_cost_usd"]),
        "monthly_savings_usd": dec(h["monthly_savings_usd"]),
        "annual_savings_usd": dec(h["monthly_savings_usd"] * 12),
        "standalone_savings_usd": dec(h["standalone_savings_usd"]),
        "pooling_gain_usd": dec(h["monthly_savings_usd"] - h["standalone_savings_usd"]),
        "one_time_cost_usd": dec(h["one_time_cost_usd"]),
        "breakeven_month": h["breakeven_month"],
        "horizon_months": h["horizon_months"],
        "deployments": h["deployments"],
        "gpus": h["gpus"],
        "fixed_costs": {
            "platform_usd": dec(h["fixed_cost_usd"]),
            "labor_usd": dec(h["labor_cost_usd"]),
            "node_observability_usd": dec(h["node_observability_cost_usd"]),
            "ha_spare_replicas": h["spare_replicas"],
            "ha_spare_usd": dec(h["ha_spare_cost_usd"]),
        },
        "fleet": [{
            "deployment_id": d["deployment_id"], "model": d["model"], "gpu": d["gpu"],
            "gpus_per_replica": d["gpus_per_replica"], "load_replicas": num(d["load_replicas"], 6),
            "spare_replicas": d["spare_replicas"], "replicas": d["replicas"], "gpus": d["gpus"], "nodes": d["nodes"],
            "gpu_month_usd": dec(d["gpu_month_usd"]), "gpu_cost_usd": dec(d["gpu_cost_usd"]),
            "labor_cost_usd": dec(d["labor_cost_usd"]), "observability_cost_usd": dec(d["observability_cost_usd"]),
            "monthly_cost_usd": dec(d["monthly_cost_usd"]), "api_cost_replaced_usd": dec(d["api_cost_replaced_usd"]),
            "monthly_savings_usd": dec(d["monthly_savings_usd"]),
            "crossover_volume": num(d["crossover_volume"], 4), "max_model_len": d["max_model_len"],
            "first_wave": d["first_wave"], "segment_ids": list(d["segment_ids"]),
            "workloads": [names.get(i) for i in d["segment_ids"]],
        } for d in deployments],
        "waves": [{
            "wave": w["wave"], "name": w["name"], "risk": w["risk"], "start_month": w["start_month"],
            "segment_ids": list(w["segment_ids"]), "workloads": [names.get(i) for i in w["segment_ids"]],
            "moved_api_cost_usd": dec(w["moved_api_cost_usd"]),
            "one_time_cost_usd": dec(w["one_time_cost_usd"]), "monthly_savings_usd": dec(w["monthly_savings_usd"]),
            "incremental_savings_usd": dec(w["incremental_savings_usd"]), "rationale": w["rationale"],
        } for w in waves],
        "savings_at_volume": [{"multiplier": k, "savings_usd": at[k]["savings_usd"] if k in at else None,
                               "api_cost_usd": at[k]["api_cost_usd"] if k in at else None,
                               "plan_cost_usd": at[k]["plan_cost_usd"] if k in at else None} for k in (1, 3, 5)],
        "crossover": [{"deployment_id": d["deployment_id"], "crossover_volume": num(d["crossover_volume"], 4)}
                      for d in deployments],
        "volume_curves": curves,
        "cashflow": [{"month": c["month"], "live_waves": c["live_waves"],
                      "monthly_savings_usd": dec(c["monthly_savings_usd"]),
                      "one_time_cost_usd": dec(c["one_time_cost_usd"]), "cumulative_usd": dec(c["cumulative_usd"])}
                     for c in cashflow],
        "stays_on_api": [{"segment_id": s["segment_id"], "workload": s["workload"],
                          "monthly_cost_usd": s["volume"]["monthly_cost_usd"], "decision": s["decision"],
                          "reasons": s["plan"]["stay_reasons"]} for s in segments if s["plan"]["action"] == "stay"],
        "opportunities": [{"segment_id": o["segment_id"], "workload": names.get(o["segment_id"]),
                           "deployment_id": o["deployment_id"],
                           "current_monthly_cost_usd": dec(o["current_monthly_cost_usd"]),
                           "marginal_cost_usd": dec(o["marginal_cost_usd"]),
                           "monthly_savings_usd": dec(o["monthly_savings_usd"]), "replicas_added": o["replicas_added"]}
                          for o in opportunities],
    }


def _reconciliation(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not _exists(con, "v_reconciliation"):
        return {"available": False, "rows": [], "shown": [], "flagged": 0}
    rows = [{k: _jsonable(v) for k, v in r.items()} for r in _rows(con, "report_reconciliation")]
    # the reports show the monthly rows and any flagged day; plan.json keeps every row
    shown = [i for i, r in enumerate(rows) if r.get("grain") in (None, "month") or r.get("flagged")]
    return {"available": True, "rows": rows, "shown": shown,
            "flagged": sum(1 for r in rows if r.get("flagged"))}


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return dec(v)
    if isinstance(v, datetime | date):
        return ts(v)
    if isinstance(v, float):
        return num(v)
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def _warnings(con: duckdb.DuckDBPyConnection, run_id: str, totals: dict[str, Any]) -> list[str]:
    out = []
    if totals["unpriced_requests"]:
        out.append(f"{totals['unpriced_requests']} requests could not be priced; their cost is unknown, not zero "
                   "(see `unpriced`)")
    out.extend(r[0] for r in con.execute("SELECT line FROM plan_warnings WHERE run_id = ? ORDER BY ord",
                                         [run_id]).fetchall())
    return out


def _chart_data(con: duckdb.DuckDBPyConnection, segments: list[dict[str, Any]]) -> dict[str, Any]:
    mix: dict[str, dict[str, Any]] = {}
    for s in segments:
        key = s["sensitivity"] or "unknown"
        m = mix.setdefault(key, {"sensitivity": key, "requests": 0, "monthly_cost_usd": Decimal(0), "segments": 0})
        m["requests"] += s["volume"]["requests"] or 0
        m["monthly_cost_usd"] += Decimal(s["volume"]["monthly_cost_usd"] or 0)
        m["segments"] += 1
    order = ["public", "internal", "confidential", "regulated", "unknown"]
    return {
        "daily_spend": [{"day": ts(r["day"]), "segment_id": r["segment_id"], "requests": r["requests"],
                         "cost_usd": dec(r["cost_usd"])} for r in _rows(con, "report_daily")],
        "token_histograms": [{"segment_id": r["segment_id"], "side": r["side"], "bucket": r["bucket"],
                              "requests": r["requests"]} for r in _rows(con, "report_token_hist")],
        "sensitivity_mix": [dict(mix[k], monthly_cost_usd=dec(mix[k]["monthly_cost_usd"])) for k in order if k in mix],
    }


def _uncertainties(plan: dict[str, Any]) -> list[dict[str, str]]:
    """What the reader should not take at face value, derived from the plan object's own fields."""
    out = []
    t = plan["totals"]
    if t["unpriced_requests"]:
        models = ", ".join(f"{u['provider']}/{u['model']}" for u in plan["unpriced"][:5])
        out.append({"kind": "unpriced", "text": f"{t['unpriced_requests']} requests are unpriced ({models}); "
                                                "totals exclude them"})
    for s in plan["segments"]:
        if s["token_shape"]["coarse_timestamps"]:
            out.append({"kind": "coarse timestamps", "text": f"segment {s['segment_id']}: timestamps are coarser than "
                                                             "a minute; its peak and burstiness are approximate"})
        if s["workload_kind"] is None and s["plan"]["action"] != "stay":
            out.append({"kind": "unknown workload kind", "text": f"segment {s['segment_id']}: workload kind unknown; "
                                                                 "capability fit not checked"})
        if s["sensitivity"] is None:
            out.append({"kind": "unknown sensitivity", "text": f"segment {s['segment_id']}: no prompt text or rule; "
                                                               "sensitivity unknown"})
        if s["options"]["api_current"]["monthly_cost_usd"] is None:
            out.append({"kind": "unpriced segment", "text": f"segment {s['segment_id']}: today's cost unknown; "
                                                            "it stays on its API"})
    for f in plan["portfolio"]["fleet"]:
        if f["crossover_volume"] is not None and 0.7 <= f["crossover_volume"] <= 1.3:
            out.append({"kind": "close call", "text": f"deployment {f['deployment_id']} wins only from "
                                                      f"{f['crossover_volume']}x today's volume: a volume change of "
                                                      "30% flips it"})
    if plan["reconciliation"].get("flagged"):
        out.append({"kind": "reconciliation", "text": f"{plan['reconciliation']['flagged']} period(s) where priced "
                                                      "and billed cost differ beyond the threshold (see Data)"})
    if not plan["reconciliation"]["available"]:
        out.append({"kind": "reconciliation", "text": "priced cost was not reconciled against billed cost "
                                                      "(no v_reconciliation)"})
    return out


def diff_json(diff: dict[str, Any] | None) -> dict[str, Any] | None:
    """A plan diff with money as decimal strings (plan.json `diff`, `planner diff --json`)."""
    if diff is None:
        return None
    out: dict[str, Any] = _jsonable(diff)
    return out


def render_diff_text(diff: dict[str, Any] | None, to_run: str) -> str:
    """`planner diff` for people: one line per change."""
    if diff is None:
        return f"run {to_run}: first plan, nothing to compare with"
    lines = [f"changes from run {diff['run_id']} to run {to_run}:"]
    ps = diff["price_snapshot"]
    if ps["changed"]:
        lines.append(f"  price snapshot: {ps['from']} -> {ps['to']}")
    lines += [f"  {h['figure']}: {usd(h['from'])} -> {usd(h['to'])}" if h["figure"].endswith("_usd")
              else f"  {h['figure']}: {h['from']} -> {h['to']}" for h in diff["headline"]]
    lines += [f"  decision {c['segment_id']} ({c['workload']}): {c['from']} -> {c['to']}" for c in diff["decisions"]]
    lines += [f"  new segment {c['segment_id']} ({c['workload']}): {c['to']}, {usd(c['to_cost_usd'])}/month"
              for c in diff["new_segments"]]
    lines += [f"  vanished segment {c['segment_id']} ({c['workload']}), was {usd(c['from_cost_usd'])}/month"
              for c in diff["vanished_segments"]]
    lines += [f"  cost {c['segment_id']} ({c['workload']}): {usd(c['from_cost_usd'])} -> {usd(c['to_cost_usd'])}/month"
              for c in diff["costs"]]
    lines += [f"  assumption {a['key']}: {a['from']} -> {a['to']}" for a in diff["assumptions"]]
    if len(lines) == 1:
        lines.append("  no change in decisions, costs, segments, prices or assumptions")
    return "\n".join(lines)


# ---------------------------------------------------------------- rendering

def to_json(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=2, ensure_ascii=False) + "\n"


@cache
def _env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("planner", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({"usd": usd, "usd_exact": usd_exact, "pct": pct, "n": count, "md": md_escape,
                        "x": multiple, "orblank": orblank, "breakeven_svg": _breakeven_svg})
    env.globals["breakeven_legend"] = _breakeven_legend
    return env


def _breakeven_svg(m: Any) -> Any:
    import markupsafe

    from planner.charts import breakeven_svg

    return markupsafe.Markup(breakeven_svg(m))


def _breakeven_legend() -> Any:
    import markupsafe

    from planner.charts import breakeven_legend

    return markupsafe.Markup(breakeven_legend())


def usd(value: Any) -> str:
    """`$1,234` (cents below $100); `unknown` for NULL. The one place money is formatted."""
    if value is None:
        return "unknown"
    d = Decimal(str(value))
    sign = "−" if d < 0 else ""
    d = abs(d)
    places = Decimal("0.01") if d < 100 else Decimal(1)
    d = d.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{d:,.2f}" if places < 1 else f"{d:,.0f}"
    return f"{sign}${text}"


def usd_exact(value: Any) -> str:
    return "unknown" if value is None else f"${value}"


def pct(value: Any, digits: int = 0) -> str:
    return "unknown" if value is None else f"{float(value) * 100:.{digits}f}%"


def count(value: Any) -> str:
    if value is None:
        return "unknown"
    f = float(value)
    return f"{int(f):,}" if f == int(f) else f"{f:,.1f}"


def multiple(value: Any) -> str:
    return "none within range" if value is None else f"{float(value):g}×"


def orblank(value: Any, blank: str = "—") -> Any:
    return blank if value is None or value == "" or value == [] else value


_MD_SPECIAL = {"\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "|": "\\|", "#": "\\#",
               "~": "\\~", "<": "&lt;", ">": "&gt;", "&": "&amp;", "!": "\\!", "(": "\\(", ")": "\\)"}


def md_escape(value: Any) -> str:
    """A user string made inert in Markdown (and in the HTML a Markdown renderer may pass through)."""
    if value is None:
        return "—"
    text = " ".join(str(value).split())
    return "".join(_MD_SPECIAL.get(ch, ch) for ch in text)


def render_markdown(plan: dict[str, Any]) -> str:
    return _env().get_template("plan.md.j2").render(p=plan)


def render_html(plan: dict[str, Any]) -> str:
    from planner import charts

    css = (Path(__file__).parent / "templates" / "plan.css").read_text(encoding="utf-8")
    return _env().get_template("plan.html.j2").render(p=plan, charts=_markup_charts(charts.render_all(plan)), css=css)


def _markup_charts(rendered: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    import markupsafe

    # SVG from charts.py: comments stripped, text drawn as paths; trusted markup by construction
    return {k: {"title": v["title"], "svg": markupsafe.Markup(v["svg"])} for k, v in rendered.items()}


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename: a crash leaves the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def parse_formats(text: str | Iterable[str]) -> list[str]:
    items = [f.strip().lower() for f in (text.split(",") if isinstance(text, str) else text) if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise UsageError(f"--format {','.join(items) or text!r}: expected a comma list of html, md, json")
    return [f for f in FORMATS if f in items]


def write(plan: dict[str, Any], out: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write `out/plan.{json,md,html}` (those asked for), each atomically, JSON first."""
    written = []
    renderers = {"json": to_json, "md": render_markdown, "html": render_html}
    for fmt in ("json", "md", "html"):
        if fmt in formats:
            path = out / f"plan.{fmt}"
            write_atomic(path, renderers[fmt](plan))
            written.append(path)
            maybe_crash("report")  # crash tests: between two report files
    return written


def plan_json_text(con: duckdb.DuckDBPyConnection, run_id: str | None = None, *, now: datetime | None = None) -> str:
    """plan.json as text (`planner analyze --json`)."""
    return to_json(build_plan(con, run_id, now=now))


def render(con: duckdb.DuckDBPyConnection, out: Path, formats: Iterable[str] = FORMATS, *, run_id: str | None = None,
           now: datetime | None = None) -> list[Path]:
    """Build the plan object for a run and write the chosen formats into `out`."""
    return write(build_plan(con, run_id, now=now), Path(out), list(formats))


def load(path: Path) -> dict[str, Any]:
    """A plan.json read back (for re-rendering); checks the schema tag."""
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise UsageError(f"{path}: not a {SCHEMA} file (schema {data.get('schema')!r})")
    return data
