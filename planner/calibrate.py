"""`planner calibrate FILE`: measured benchmark points replace default efficiencies per model x GPU.

Reads `vllm bench serve --save-result` JSON (one object, or JSON lines from `--append-result`) and
GuideLLM benchmark reports (`benchmarks[*].metrics.<metric>.successful.mean`). For each point the
roofline is evaluated at the benchmark's own conditions (mean input and output lengths, the
concurrency measured through Little's law) and compared with what was measured:

- decode_factor = estimated TPOT / measured TPOT: scales decode bandwidth and FLOPS of that
  deployment (> 1: the engine is faster than the default efficiencies say);
- ttft_factor = measured TTFT / raw estimated TTFT: replaces latency.ttft_overhead_factor for it.

Rows land in `calibrations`; scoring uses the latest file per model x GPU x GPUs (the median of its
points) and records each factor as an assumption of origin `calibration` with the file as source.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import capacity as cap
from planner.catalog import load_catalog
from planner.errors import InputError, UsageError

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

FACTOR_RANGE = (0.2, 5.0)
TTFT_RANGE = (0.3, 20.0)


@dataclass
class Point:
    """One measured benchmark point, normalised."""

    index: int
    served_model: str | None
    input_tokens: float
    output_tokens: float
    completed: int | None
    request_throughput: float
    output_throughput: float | None
    mean_ttft_ms: float
    p99_ttft_ms: float | None
    mean_tpot_ms: float
    mean_itl_ms: float | None
    mean_e2el_ms: float | None
    max_concurrency: float | None
    request_rate: str | None
    measured_concurrency: float | None = None     # GuideLLM reports it directly


def read_points(path: Path) -> tuple[str, list[Point]]:
    """(tool, points) from a vllm bench serve result or a GuideLLM report; InputError if neither."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text (expected a JSON benchmark result)") from None
    docs: list[Any]
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(str(path), f"invalid JSON ({exc.msg})", row=n) from None
    if len(docs) == 1 and isinstance(docs[0], dict) and isinstance(docs[0].get("benchmarks"), list):
        return "guidellm", [_guidellm_point(path, i, b) for i, b in enumerate(docs[0]["benchmarks"])]
    if len(docs) == 1 and isinstance(docs[0], list):
        docs = docs[0]
    points = []
    for i, d in enumerate(docs):
        if not isinstance(d, dict) or "request_throughput" not in d:
            raise InputError(str(path), "not a `vllm bench serve` result (no request_throughput) nor a GuideLLM report "
                                        "(no benchmarks list)", row=i + 1 if len(docs) > 1 else None)
        points.append(_vllm_point(path, i, d))
    return "vllm-bench-serve", points


def _num(path: Path, d: dict[str, Any], key: str, *, required: bool = True, row: int | None = None) -> float | None:
    v = d.get(key)
    if v is None:
        if required:
            raise InputError(str(path), "missing", field=key, row=row)
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(str(path), f"expected a number, got {v!r}", field=key, row=row) from None
    if not math.isfinite(x):
        raise InputError(str(path), f"expected a finite number, got {v!r}", field=key, row=row)
    return x


def _vllm_point(path: Path, i: int, d: dict[str, Any]) -> Point:
    row = i + 1
    completed = _num(path, d, "completed", row=row)
    assert completed is not None
    if completed <= 0:
        raise InputError(str(path), "no successful requests in this benchmark", field="completed", row=row)
    total_in = _num(path, d, "total_input_tokens", row=row)
    total_out = _num(path, d, "total_output_tokens", row=row)
    assert total_in is not None and total_out is not None
    conc = d.get("max_concurrency")
    return Point(
        index=i, served_model=d.get("model_id"), input_tokens=total_in / completed, output_tokens=total_out / completed,
        completed=int(completed), request_throughput=float(_num(path, d, "request_throughput", row=row) or 0.0),
        output_throughput=_num(path, d, "output_throughput", required=False, row=row),
        mean_ttft_ms=float(_num(path, d, "mean_ttft_ms", row=row) or 0.0),
        p99_ttft_ms=_num(path, d, "p99_ttft_ms", required=False, row=row),
        mean_tpot_ms=float(_num(path, d, "mean_tpot_ms", row=row) or 0.0),
        mean_itl_ms=_num(path, d, "mean_itl_ms", required=False, row=row),
        mean_e2el_ms=_num(path, d, "mean_e2el_ms", required=False, row=row),
        max_concurrency=None if conc is None else float(conc), request_rate=None if d.get("request_rate") is None
        else str(d.get("request_rate")),
    )


def _guidellm_point(path: Path, i: int, b: dict[str, Any]) -> Point:
    metrics = b.get("metrics") if isinstance(b, dict) else None
    if not isinstance(metrics, dict):
        raise InputError(str(path), "benchmark without metrics", row=i + 1)

    def mean(name: str, required: bool = True) -> float | None:
        m = metrics.get(name)
        v = None
        if isinstance(m, dict):
            s = m.get("successful", m)
            v = s.get("mean") if isinstance(s, dict) else None
        if v is None:
            if required:
                raise InputError(str(path), "missing successful.mean", field=f"metrics.{name}", row=i + 1)
            return None
        return float(v)

    latency_s = mean("request_latency", required=False)
    return Point(
        index=i, served_model=_find_model(b), input_tokens=float(mean("prompt_token_count") or 0.0),
        output_tokens=float(mean("output_token_count") or 0.0), completed=None,
        request_throughput=float(mean("requests_per_second") or 0.0),
        output_throughput=mean("output_tokens_per_second", required=False),
        mean_ttft_ms=float(mean("time_to_first_token_ms") or 0.0), p99_ttft_ms=None,
        mean_tpot_ms=float(mean("time_per_output_token_ms", required=False) or mean("inter_token_latency_ms") or 0.0),
        mean_itl_ms=mean("inter_token_latency_ms", required=False),
        mean_e2el_ms=None if latency_s is None else latency_s * 1000.0,
        max_concurrency=None, request_rate=None, measured_concurrency=mean("request_concurrency", required=False),
    )


def _find_model(obj: Any, depth: int = 0) -> str | None:
    """GuideLLM puts the served model under a few names depending on its version; look for one."""
    if depth > 4 or not isinstance(obj, dict):
        return None
    for key in ("model", "backend_model", "model_id", "model_name"):
        v = obj.get(key)
        if isinstance(v, str) and v:
            return v
    for v in obj.values():
        found = _find_model(v, depth + 1)
        if found:
            return found
    return None


@dataclass
class CalibrationRow:
    point: Point
    model: str
    gpu: str
    gpus: int
    concurrency: float
    est_tpot_ms: float
    est_ttft_ms: float
    est_output_throughput: float
    decode_factor: float
    ttft_factor: float
    warnings: list[str]


def calibrate_points(points: list[Point], *, model: str, gpu: str, gpus: int, settings: cap.Settings,
                     precision: str | None = None) -> list[CalibrationRow]:
    """Compare each point with the roofline at its own conditions."""
    catalog = load_catalog()
    m, g = catalog.model(model), catalog.gpu(gpu)
    raw = cap.Settings(**{**settings.__dict__, "throughput_factor": 1.0})
    dep = cap.build_deployment(m, g, gpus, raw, precision=precision)
    if isinstance(dep, str):
        raise UsageError(f"{m.id} on {gpus}x {g.id}: {dep}")
    rows = []
    for p in points:
        if p.mean_tpot_ms <= 0 or p.request_throughput <= 0:
            raise UsageError(f"benchmark {p.index + 1}: needs a positive TPOT and request throughput to calibrate")
        e2el = p.mean_e2el_ms if p.mean_e2el_ms else p.mean_ttft_ms + p.mean_tpot_ms * max(p.output_tokens - 1.0, 0.0)
        conc = p.measured_concurrency or p.request_throughput * e2el / 1000.0
        if p.max_concurrency:
            conc = min(conc, p.max_concurrency)
        conc = max(conc, 1.0)
        t_pre = cap.prefill_time(dep, p.input_tokens)
        step = cap.step_time(dep, conc, p.input_tokens, p.output_tokens)
        rho = min(p.request_throughput * t_pre, 0.95)
        est_tpot = step / (1.0 - rho)
        est_ttft = t_pre * (1.0 + rho / (2.0 * (1.0 - rho)))
        bb = t_pre * (1.0 + conc) + p.output_tokens * step
        lam = 2.0 * conc / (bb + math.sqrt(max(bb * bb - 2.0 * conc * t_pre * t_pre, 0.0)))
        warnings = []
        decode = est_tpot * 1000.0 / p.mean_tpot_ms
        ttft = (p.mean_ttft_ms / 1000.0) / est_ttft if est_ttft > 0 else 1.0
        if not FACTOR_RANGE[0] <= decode <= FACTOR_RANGE[1]:
            warnings.append(f"benchmark {p.index + 1}: decode factor {decode:.2f} clamped to {FACTOR_RANGE}")
            decode = min(max(decode, FACTOR_RANGE[0]), FACTOR_RANGE[1])
        elif not 0.5 <= decode <= 2.0:
            warnings.append(f"benchmark {p.index + 1}: measured decode is {decode:.2f}x the estimate; check --model/--gpu/--gpus")
        ttft = min(max(ttft, TTFT_RANGE[0]), TTFT_RANGE[1])
        if p.served_model and catalog.model_for_repo(p.served_model) not in (None, m):
            warnings.append(f"benchmark {p.index + 1}: served model {p.served_model} does not look like {m.id}")
        rows.append(CalibrationRow(p, m.id, g.id, gpus, conc, est_tpot * 1000.0, est_ttft * 1000.0,
                                   lam * p.output_tokens, decode, ttft, warnings))
    return rows


def run_calibrate(con: duckdb.DuckDBPyConnection, config: Config, path: Path, *, model: str | None, gpu: str, gpus: int,
                  precision: str | None = None, run_id: str | None = None) -> tuple[list[CalibrationRow], str]:
    """Read FILE, compute factors, store them (one transaction). Returns rows and the tool name."""
    from datetime import UTC, datetime

    from planner.db import load_sql, transaction

    tool, points = read_points(path)
    if not points:
        raise InputError(str(path), "no benchmark points")
    catalog = load_catalog()
    if model is None:
        served = next((p.served_model for p in points if p.served_model), None)
        found = catalog.model_for_repo(served) if served else None
        if found is None:
            raise UsageError(f"{path}: cannot tell which catalog model was benchmarked"
                             + (f" ({served})" if served else ""), hint="pass --model (e.g. --model llama-3.3-70b)")
        model = found.id
    rows = calibrate_points(points, model=model, gpu=gpu, gpus=gpus, settings=cap.Settings.from_config(config),
                            precision=precision)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        for r in rows:
            p = r.point
            con.execute(load_sql("stages/calibrate_insert"), {
                "calibration_id": hashlib.sha256(f"{digest}:{r.model}:{r.gpu}:{r.gpus}:{p.index}".encode()).hexdigest(),
                "imported_at": now, "path": str(path), "file_sha256": digest, "tool": tool, "benchmark_index": p.index,
                "model": r.model, "gpu": r.gpu, "gpus": r.gpus, "served_model": p.served_model,
                "input_tokens": p.input_tokens, "output_tokens": p.output_tokens, "max_concurrency": p.max_concurrency,
                "request_rate": p.request_rate, "completed": p.completed, "request_throughput": p.request_throughput,
                "output_throughput": p.output_throughput, "mean_ttft_ms": p.mean_ttft_ms, "p99_ttft_ms": p.p99_ttft_ms,
                "mean_tpot_ms": p.mean_tpot_ms, "mean_itl_ms": p.mean_itl_ms, "mean_e2el_ms": p.mean_e2el_ms,
                "est_tpot_ms": r.est_tpot_ms, "est_ttft_ms": r.est_ttft_ms, "est_output_throughput": r.est_output_throughput,
                "decode_factor": r.decode_factor, "ttft_factor": r.ttft_factor, "run_id": run_id,
            })
    return rows, tool


def summary(rows: list[CalibrationRow]) -> tuple[list[str], list[list[Any]]]:
    headers = ["benchmark", "model", "gpus", "in", "out", "concurrency", "tpot_ms", "est_tpot_ms", "decode_factor",
               "ttft_ms", "est_ttft_ms", "ttft_factor"]
    body = [[r.point.index + 1, r.model, f"{r.gpus}x {r.gpu}", f"{r.point.input_tokens:.0f}", f"{r.point.output_tokens:.0f}",
             f"{r.concurrency:.1f}", f"{r.point.mean_tpot_ms:.1f}", f"{r.est_tpot_ms:.1f}", f"{r.decode_factor:.2f}",
             f"{r.point.mean_ttft_ms:.0f}", f"{r.est_ttft_ms:.0f}", f"{r.ttft_factor:.2f}"] for r in rows]
    return headers, body


def to_json(rows: list[CalibrationRow], tool: str, path: Path) -> dict[str, Any]:
    return {"file": str(path), "tool": tool, "points": [
        {"benchmark": r.point.index + 1, "model": r.model, "gpu": r.gpu, "gpus": r.gpus,
         "input_tokens": r.point.input_tokens, "output_tokens": r.point.output_tokens, "concurrency": r.concurrency,
         "measured": {"request_throughput": r.point.request_throughput, "output_throughput": r.point.output_throughput,
                      "mean_tpot_ms": r.point.mean_tpot_ms, "mean_ttft_ms": r.point.mean_ttft_ms},
         "estimated": {"tpot_ms": round(r.est_tpot_ms, 3), "ttft_ms": round(r.est_ttft_ms, 3),
                       "output_throughput": round(r.est_output_throughput, 3)},
         "decode_factor": round(r.decode_factor, 4), "ttft_factor": round(r.ttft_factor, 4), "warnings": r.warnings}
        for r in rows]}


def calibrations_from_db(path: Path | None) -> tuple[dict[tuple[str, str, int], cap.Calibration], str | None]:
    """Calibrations stored in a planner database, for `planner estimate`; ({}, why) when unavailable."""
    from planner import db as dbmod
    from planner.errors import PlannerError
    from planner.score import read_calibrations

    target = Path(path) if path is not None else dbmod.default_db_path()
    if not target.exists():
        return {}, None
    try:
        con = dbmod.connect(target, read_only=True)
    except PlannerError as exc:
        return {}, f"calibrations in {target} not used: {exc}"
    try:
        cals, _ = read_calibrations(con)
    finally:
        con.close()
    return cals, None
