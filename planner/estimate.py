"""`planner estimate`: price and size a workload described by flags instead of logs (DESIGN §6.3).

The workload becomes a one-segment frame and goes through exactly the scoring code a logged
segment goes through, so an estimate and a scored segment with the same shape agree. The top-level
decision compares self-hosting with the stated API (`--api-model`/`--api-provider`, or explicit
per-million prices); `overall` adds the other two options (an optimised API, a hosted open model).
Both views the seeds argue about sit side by side: GPU rent only, and the full cost of ownership.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from planner import capacity as cap
from planner.catalog import load_catalog, normalize_kind
from planner.errors import UsageError
from planner.offers import genai_cost, price_time
from planner.score import (
    SENSITIVITY_ORDER,
    CurrentApi,
    Frame,
    Params,
    Scored,
    _money,
    load_book,
    score_frame,
)

if TYPE_CHECKING:
    from planner.config import Config

SCHEMA = "planner.estimate/v1"
AREAS = ("gpus.", "labor.", "operations.", "latency.", "capacity.", "scoring.", "migration.", "capability.",
         "api_optimized.", "licence.")


@dataclass(frozen=True)
class Workload:
    """A hypothetical segment: daily volume and token shape."""

    requests_per_day: float
    input_tokens_per_day: float
    output_tokens_per_day: float
    cached_share: float = 0.0
    peak_to_mean: float | None = None
    p95_input: float | None = None
    p99_input: float | None = None
    mode: str = "interactive"
    kind: str | None = None
    sensitivity: str | None = None

    def check(self) -> None:
        if self.requests_per_day <= 0:
            raise UsageError("--requests-per-day: must be > 0")
        if self.input_tokens_per_day < 0 or self.output_tokens_per_day < 0:
            raise UsageError("--input-tokens-per-day/--output-tokens-per-day: must be >= 0")
        if not 0.0 <= self.cached_share < 1.0:
            raise UsageError("--cached-share: expected a share between 0 and 1")
        if self.peak_to_mean is not None and self.peak_to_mean < 1.0:
            raise UsageError("--peak-to-mean: must be >= 1")
        if self.mode not in ("interactive", "batch"):
            raise UsageError(f"--mode {self.mode!r}: expected interactive or batch")
        if self.sensitivity is not None and self.sensitivity not in SENSITIVITY_ORDER:
            raise UsageError(f"--sensitivity {self.sensitivity!r}: expected public, internal, confidential or regulated")
        if self.kind is not None and normalize_kind(self.kind) is None:
            from planner.catalog import KINDS

            raise UsageError(f"--kind {self.kind!r}: unknown workload kind", hint=f"kinds: {', '.join(KINDS)}")


@dataclass(frozen=True)
class ApiPrice:
    """Explicit API prices (USD per million tokens) for an API genai-prices does not list."""

    input_mtok: Decimal
    output_mtok: Decimal
    cached_input_mtok: Decimal | None = None


def with_flags(config: Config, *, gpu: str | None, gpu_price_per_hour: float | None, hours_per_month: float | None,
               ttft_ms: float | None, itl_ms: float | None) -> Config:
    """The config with the estimate's flags applied as assumptions of origin `flag`."""
    overrides: dict[str, Any] = {}
    if gpu_price_per_hour is not None:
        if gpu is None:
            raise UsageError("--gpu-price-per-hour needs --gpu (the GPU it prices)")
        overrides[f"gpus.{load_catalog().gpu(gpu).id}.price_per_hour"] = float(gpu_price_per_hour)
    if hours_per_month is not None:
        if hours_per_month <= 0 or hours_per_month > 744:
            raise UsageError("--hours-per-month: expected 1..744")
        overrides["operations.hours_per_month"] = float(hours_per_month)
    if ttft_ms is not None:
        overrides["latency.interactive.ttft_ms"] = float(ttft_ms)
    if itl_ms is not None:
        overrides["latency.interactive.itl_ms"] = float(itl_ms)
    return config.with_assumptions(overrides, "flag") if overrides else config


def estimate(config: Config, workload: Workload, *, model: str | None = None, gpu: str | None = None,
             gpus: int | None = None, gpus_per_replica: int | None = None, precision: str | None = None,
             api_model: str | None = None,
             api_provider: str | None = None, api_price: ApiPrice | None = None,
             calibrations: dict[tuple[str, str, int], cap.Calibration] | None = None) -> dict[str, Any]:
    """Size, cost and decide for one hypothetical workload; returns the `--json` object."""
    workload.check()
    catalog = load_catalog()
    if model is not None:
        model = catalog.model(model).id
    if gpu is not None:
        gpu = catalog.gpu(gpu).id
    if gpus is not None and gpus < 1:
        raise UsageError("--gpus: must be >= 1")
    if gpus_per_replica is not None and gpus_per_replica not in (1, 2, 4, 8, 16):
        raise UsageError("--gpus-per-replica: expected 1, 2, 4, 8 or 16")
    if gpus is not None and gpus_per_replica is not None and gpus % gpus_per_replica:
        raise UsageError(f"--gpus {gpus} is not a multiple of --gpus-per-replica {gpus_per_replica}")
    tps = [gpus_per_replica] if gpus_per_replica else None
    if precision is not None and precision not in ("bf16", "fp8", "int4", "mxfp4"):
        raise UsageError(f"--precision {precision!r}: expected bf16, fp8, int4 or mxfp4")
    params = Params.from_config(config, catalog)
    frame, api = _frame(workload, params, api_model=api_model, api_provider=api_provider, api_price=api_price, gpus=gpus)
    book = load_book(None, catalog, params)
    models = [model] if model else None
    gpu_ids = [gpu] if gpu else None
    main = score_frame(frame, params, catalog, book, calibrations=calibrations, candidates=config.candidates,
                       model_ids=models, gpu_ids=gpu_ids, tps=tps, precision=precision, decide_among=("self_host",))
    overall = score_frame(frame, params, catalog, book, calibrations=calibrations, candidates=config.candidates,
                          model_ids=models, gpu_ids=gpu_ids, tps=tps, precision=precision, with_flips=False)
    out = _result(main, overall, workload, api, params, config)
    dep = out["self_host"].get("deployment") or {}
    cal = (calibrations or {}).get((str(dep.get("model")), str(dep.get("gpu")), int(dep.get("gpus_per_replica") or 0)))
    if cal is not None:
        base = f"calibration.{dep['model']}.{dep['gpu']}.{dep['gpus_per_replica']}"
        out["assumptions"] += [
            {"key": f"{base}.decode_factor", "value": f"{cal.decode_factor:.4g}", "unit": "x roofline decode speed",
             "source": cal.source, "origin": "calibration"},
            {"key": f"{base}.ttft_factor", "value": f"{cal.ttft_factor:.4g}", "unit": "x roofline TTFT",
             "source": cal.source, "origin": "calibration"}]
    return out


def _frame(w: Workload, params: Params, *, api_model: str | None, api_provider: str | None,
           api_price: ApiPrice | None, gpus: int | None) -> tuple[Frame, dict[str, Any]]:
    days = params.days_per_month
    req_m = w.requests_per_day * days
    in_m = w.input_tokens_per_day * days
    out_m = w.output_tokens_per_day * days
    cached_m = w.cached_share * in_m
    mean_in = w.input_tokens_per_day / w.requests_per_day
    mean_out = w.output_tokens_per_day / w.requests_per_day
    p95 = w.p95_input if w.p95_input is not None else mean_in
    p99 = w.p99_input if w.p99_input is not None else p95
    mean_rps = w.requests_per_day / 86400.0
    p2m = w.peak_to_mean if w.peak_to_mean is not None else params.default_peak_to_mean
    notes = [] if w.peak_to_mean is not None or w.mode == "batch" else [
        f"no --peak-to-mean: design peak assumed {params.default_peak_to_mean:g}x the mean rate"]
    api: dict[str, Any] = {"monthly_cost_usd": None}
    cost: Decimal | None = None
    batch = w.mode == "batch"
    if api_price is not None:
        cached_price = api_price.cached_input_mtok if api_price.cached_input_mtok is not None else api_price.input_mtok
        mtok = Decimal("0.000001")
        parts = {"input": Decimal(repr(in_m - cached_m)) * api_price.input_mtok * mtok,
                 "cached_input": Decimal(repr(cached_m)) * cached_price * mtok,
                 "output": Decimal(repr(out_m)) * api_price.output_mtok * mtok}
        cost = sum(parts.values(), Decimal(0))
        api = {"monthly_cost_usd": _money(cost), "provider": api_provider, "model": api_model,
               "source": "prices given on the command line", "cost_by_kind_usd": {k: _money(v) for k, v in parts.items()},
               "prices_mtok": {"input": str(api_price.input_mtok), "cached_input": str(cached_price),
                               "output": str(api_price.output_mtok)}}
    elif api_model is not None:
        when = price_time(params.price_date)
        try:
            cost, prov, resolved = genai_cost(api_provider, api_model, requests=req_m, input_tokens=mean_in,
                                              cached_tokens=mean_in * w.cached_share, output_tokens=mean_out,
                                              batch=batch, when=when)
        except LookupError as exc:
            raise UsageError(f"--api-model {api_model!r}: {exc}", hint="pass --api-provider, or explicit prices") from None
        api_provider, api_model = prov, resolved
        per_req = cost / Decimal(repr(req_m)) if req_m else None
        api = {"monthly_cost_usd": _money(cost), "provider": prov, "model": resolved, "batch": batch,
               "per_request_usd": _money(per_req),
               "source": f"genai-prices: one representative request ({mean_in:,.0f} in, {mean_in * w.cached_share:,.0f} "
                         f"cached, {mean_out:,.0f} out) x {req_m:,.0f} requests, priced {params.price_date}"}
    current = None if cost is None and api_model is None else CurrentApi(
        provider=api_provider, model_ref=api_model, cost_month=cost, batch_share=1.0 if batch else 0.0, unpriced_share=0.0)
    frame = Frame(
        ids=["estimate"], workload=["estimate"], kind=[normalize_kind(w.kind)], kind_raw=[w.kind],
        sensitivity=[w.sensitivity], mode=[w.mode],
        context_band=[_band(mean_in)], workload_source=[None],
        requests_m=np.array([req_m]), input_m=np.array([in_m]), cached_m=np.array([cached_m]), output_m=np.array([out_m]),
        cached_known=np.array([True]), p95_in=np.array([p95]), max_tokens=np.array([p99 + mean_out]),
        mean_rps=np.array([mean_rps]), design_rps=np.array([mean_rps * p2m]), third_party_rule=np.array([False]),
        current=[current], notes=[notes], month_factor=[Decimal(repr(days))],
        forced_gpus=None if gpus is None else np.array([float(gpus)]),
        observed=[{"requests_per_day": w.requests_per_day}],
    )
    return frame, api


def _band(tokens: float) -> str:
    if tokens <= 8192:
        return "<=8K"
    if tokens <= 32768:
        return "8K-32K"
    return "32K-128K" if tokens <= 131072 else ">128K"


def _result(main: Scored, overall: Scored, w: Workload, api: dict[str, Any], params: Params, config: Config) -> dict[str, Any]:
    opts = main.options[0]
    sc = main.scores[0]
    sh = opts[3]
    det = sh.get("details") or {}
    costd = det.get("cost", {})
    fleet = det.get("fleet", {})
    capd = det.get("capacity", {})
    one_time = Decimal(repr(round((params.evaluation_weeks + params.self_host_weeks) * params.week_cost, 2)))
    current = sc["current_monthly_cost_usd"]
    full_cost = sh["cost"]
    gpu_only_cost = _dec(det.get("views", {}).get("gpu_only", {}).get("monthly_cost_usd"))

    def view(cost: Decimal | None, decision: str | None) -> dict[str, Any]:
        savings = None if (cost is None or current is None) else current - cost
        be = float(one_time / savings) if savings is not None and savings > 0 else None
        return {"self_host_monthly_cost_usd": _money(cost), "api_monthly_cost_usd": _money(current),
                "monthly_savings_usd": _money(savings), "breakeven_months": None if be is None else round(be, 2),
                "decision": decision}

    self_host = {
        "feasible": sh["feasible"], "reasons": sh["reasons"], "model": sh["model"], "gpu": sh["gpu"],
        "gpus": sh["gpus"], "replicas": sh["replicas"],
        "gpus_per_replica": det.get("deployment", {}).get("gpus_per_replica"),
        "precision": det.get("deployment", {}).get("precision"),
        "gpu_hours_per_month": fleet.get("gpu_hours_per_month"),
        "gpu_cost_usd": costd.get("gpu_cost_usd"), "spare_gpu_cost_usd": costd.get("spare_gpu_cost_usd"),
        "labor_cost_usd": costd.get("labor_cost_usd"), "observability_cost_usd": costd.get("observability_cost_usd"),
        "fallback_api_cost_usd": costd.get("fallback_api_cost_usd"),
        "monthly_cost_usd": _money(full_cost),
        "tokens_per_second_per_gpu": capd.get("tokens_per_second_per_gpu"),
        "capacity": capd, "fleet": fleet, "deployment": det.get("deployment"), "alternatives": det.get("alternatives", []),
        "excluded_models": det.get("excluded_models", {}),
    }
    compared = api.get("monthly_cost_usd") is not None
    if not compared:
        sc = {**sc, "decision": None, "decision_gpu_only": None, "breakeven_months": None, "monthly_savings_usd": None,
              "flips": [], "reasons": ["no API to compare with: pass --api-model/--api-provider or "
                                       "--api-input-usd-per-mtok/--api-output-usd-per-mtok"]}
    o_open = overall.options[0][2]
    o_opt = overall.options[0][1]
    osc = overall.scores[0]
    savings = sc["monthly_savings_usd"]
    return {
        "schema": SCHEMA,
        "workload": {"requests_per_day": w.requests_per_day, "input_tokens_per_day": w.input_tokens_per_day,
                     "output_tokens_per_day": w.output_tokens_per_day, "cached_share": w.cached_share,
                     "peak_to_mean": w.peak_to_mean, "p95_input": w.p95_input, "p99_input": w.p99_input, "mode": w.mode,
                     "kind": w.kind, "sensitivity": w.sensitivity,
                     "requests_per_month": round(float(main.frame.requests_m[0]), 2),
                     "design_peak_rps": round(float(main.frame.design_rps[0] * params.volume), 4),
                     "mean_rps": round(float(main.frame.mean_rps[0] * params.volume), 4)},
        "api": api,
        "self_host": self_host,
        "breakeven_months": sc["breakeven_months"],
        "decision": sc["decision"],
        "monthly_savings_usd": _money(savings),
        "one_time_cost_usd": _money(one_time),
        "reasons": sc["reasons"],
        "flips": sc["flips"],
        "views": {"gpu_only": view(gpu_only_cost, sc["decision_gpu_only"]), "full_tco": view(full_cost, sc["decision"])},
        "open_model_api": {"feasible": o_open["feasible"], "provider": o_open["provider"], "model": o_open["model"],
                           "monthly_cost_usd": _money(o_open["cost"]), "reasons": o_open["reasons"],
                           "alternatives": (o_open.get("details") or {}).get("alternatives", [])},
        "api_optimized": {"feasible": o_opt["feasible"], "model": o_opt["model"], "monthly_cost_usd": _money(o_opt["cost"]),
                          "reasons": o_opt["reasons"]},
        "overall": {"decision": osc["decision"] if compared else None, "chosen_option": osc["chosen_option"] if compared else None,
                    "monthly_savings_usd": _money(osc["monthly_savings_usd"]), "reasons": osc["reasons"] if compared else []},
        "assumptions": [r for r in config.assumption_rows() if r["key"].startswith(AREAS)],
    }


def _dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]], list[str]]:
    """The estimate for people: both views side by side, then the decision and what would flip it."""
    sh = result["self_host"]
    gpu_only, full = result["views"]["gpu_only"], result["views"]["full_tco"]

    def usd(v: Any) -> str:
        if v is None:
            return "-"
        return f"-${-float(v):,.0f}" if float(v) < 0 else f"${float(v):,.0f}"

    rows: list[list[Any]] = [
        ["API per month", usd(result["api"].get("monthly_cost_usd")), usd(result["api"].get("monthly_cost_usd"))],
        ["self-hosted per month", usd(gpu_only["self_host_monthly_cost_usd"]), usd(full["self_host_monthly_cost_usd"])],
        ["  GPU rent", usd(gpu_only["self_host_monthly_cost_usd"]), usd(sh.get("gpu_cost_usd"))],
        ["  labour", "-", usd(sh.get("labor_cost_usd"))],
        ["  observability", "-", usd(sh.get("observability_cost_usd"))],
        ["savings per month", usd(gpu_only["monthly_savings_usd"]), usd(full["monthly_savings_usd"])],
        ["break-even (months)", gpu_only["breakeven_months"] if gpu_only["breakeven_months"] is not None else "-",
         full["breakeven_months"] if full["breakeven_months"] is not None else "-"],
        ["decision", gpu_only["decision"] or "-", full["decision"] or "-"],
    ]
    lines = []
    if sh["feasible"]:
        lines.append(f"self-hosted: {sh['model']} on {sh['gpus']}x {sh['gpu']} ({sh['replicas']} replica(s), "
                     f"{sh['precision']}), {sh['tokens_per_second_per_gpu']} output tok/s per GPU")
    lines.extend(f"- {r}" for r in sh["reasons"] if not sh["feasible"])
    lines.extend(f"- {r}" for r in result["reasons"])
    lines.extend(f"- {f['sentence']}" for f in result["flips"])
    o = result["open_model_api"]
    if o["feasible"]:
        lines.append(f"hosted open model: {o['model']} on {o['provider']} for {usd(o['monthly_cost_usd'])}/month")
    return ["", "GPU rent only", "full cost of ownership"], rows, lines
