"""Synthetic traffic for the demo, the tests and the benchmarks: deterministic by seed.

One traffic model (`traffic`) produces request rows for a company's workloads; writers turn it into
files in real export formats. Vectorised with numpy: millions of rows in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

DEFAULT_START = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Workload:
    name: str
    provider: str
    model: str
    requests_per_day: float
    input_median: float            # tokens; lognormal
    input_sigma: float
    output_median: float
    output_sigma: float
    cached_prefix: int = 0         # tokens of a cached system prompt
    mode: str = "interactive"      # interactive | batch
    burst: float = 1.0             # >1: minute-scale bursts of this factor
    pii_rate: float = 0.0          # share of prompts carrying a PII value
    failure_rate: float = 0.005
    project: str = "proj_default"
    template: str = "You are a helpful assistant."


WORKLOADS: tuple[Workload, ...] = (
    Workload("support-chat", "openai", "gpt-4o-mini-2024-07-18", 1800, 3200, 0.35, 380, 0.5, cached_prefix=2048,
             pii_rate=0.15, project="proj_support",
             template="You are Acme's support agent. Answer from the knowledge base below. Customer message:"),
    Workload("ticket-extraction", "anthropic", "claude-3-5-haiku-20241022", 900, 4800, 0.3, 420, 0.3, mode="batch",
             pii_rate=0.3, project="proj_ops",
             template="Extract the fields order_id, product, issue_type and refund_amount as JSON from this ticket:"),
    Workload("consumer-chat", "openai", "gpt-4.1-mini", 1200, 1400, 0.6, 350, 0.6, burst=6.0, pii_rate=0.05,
             project="proj_app", template="You are Pal, a friendly assistant in the Acme app. Conversation so far:"),
    Workload("contract-summaries", "anthropic", "claude-sonnet-4-20250514", 60, 90000, 0.5, 1200, 0.4,
             pii_rate=0.4, project="proj_legal",
             template="Summarise the following contract for a lawyer, listing parties, term, and liabilities:"),
)


def _arrivals(rng: np.random.Generator, w: Workload, days: int, scale: float) -> np.ndarray:
    """Seconds since the start for each request: weekday/hour seasonality, optional bursts."""
    hours = np.arange(24)
    if w.mode == "batch":
        hour_w = np.where((hours >= 1) & (hours < 5), 1.0, 0.02)
    else:
        hour_w = 0.15 + np.exp(-0.5 * ((hours - 14) / 3.5) ** 2)
    hour_w = hour_w / hour_w.sum()
    out = []
    for d in range(days):
        weekday = (DEFAULT_START + timedelta(days=d)).weekday()
        factor = 1.0 if weekday < 5 else (0.9 if w.mode == "batch" else 0.45)
        n = rng.poisson(w.requests_per_day * factor * scale)
        if n == 0:
            continue
        hour = rng.choice(24, size=n, p=hour_w)
        sec = rng.random(n) * 3600
        if w.burst > 1.0:
            # a few burst minutes per day take a share of the day's traffic
            k = max(1, n // 200)
            centers = rng.choice(24 * 60, size=k)
            in_burst = rng.random(n) < min(0.5, (w.burst - 1) / (w.burst + 20))
            pick = centers[rng.integers(0, k, size=n)]
            hour = np.where(in_burst, pick // 60, hour)
            sec = np.where(in_burst, (pick % 60) * 60 + rng.random(n) * 60, sec)
        out.append(d * 86400 + hour * 3600 + sec)
    return np.sort(np.concatenate(out)) if out else np.array([], dtype=float)


_PII = (
    lambda rng: f"jane.doe{rng.integers(100, 999)}@example.com",
    lambda rng: f"+1 415-555-{rng.integers(1000, 9999)}",
    lambda rng: "4111 1111 1111 1111",
    lambda rng: f"{rng.integers(100, 665)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}",
    lambda rng: "DE89 3704 0044 0532 0130 00",
)


def traffic(days: int = 30, seed: int = 7, scale: float = 1.0,
            workloads: tuple[Workload, ...] = WORKLOADS, start: datetime = DEFAULT_START) -> pa.Table:
    """Request rows for every workload over `days` days (columns in canonical names + prompt)."""
    rng = np.random.default_rng(seed)
    parts: list[dict[str, Any]] = []
    for wi, w in enumerate(workloads):
        t = _arrivals(rng, w, days, scale)
        n = len(t)
        if n == 0:
            continue
        inp = np.maximum(16, rng.lognormal(np.log(w.input_median), w.input_sigma, n)).astype(np.int64)
        inp = np.maximum(inp, w.cached_prefix + 16)
        out = np.maximum(1, rng.lognormal(np.log(w.output_median), w.output_sigma, n)).astype(np.int64)
        cached = np.where(rng.random(n) < 0.9, w.cached_prefix, 0).astype(np.int64)
        failed = rng.random(n) < w.failure_rate
        out = np.where(failed, 0, out)
        latency = (inp * 0.02 + out * 18 + rng.gamma(2.0, 80, n)).round(1)
        ttft = (inp * 0.02 + rng.gamma(2.0, 60, n)).round(1)
        has_pii = rng.random(n) < w.pii_rate
        pii_kind = rng.integers(0, len(_PII), n)
        prompts = [
            f"{w.template} case {i % 97}: " + (f"please contact {_PII[pii_kind[i]](rng)} about it" if has_pii[i]
                                                else f"order {rng.integers(10000, 99999)} arrived late")
            for i in range(n)
        ]
        ts = [start + timedelta(seconds=float(s)) for s in t]
        parts.append({
            "request_id": [f"req-{seed}-{wi}-{i:07d}" for i in range(n)],
            "ts": ts,
            "workload": [w.name] * n,
            "provider": [w.provider] * n,
            "model": [w.model] * n,
            "project": [w.project] * n,
            "api_key_id": [f"key_{w.project}"] * n,
            "user_id": [f"user_{u}" for u in rng.integers(1, 400, n)],
            "input_tokens": inp,
            "cached_input_tokens": cached,
            "output_tokens": out,
            "status": np.where(failed, "error", "ok"),
            "latency_ms": latency,
            "ttft_ms": ttft,
            "batch": [w.mode == "batch"] * n,
            "prompt": prompts,
        })
    if not parts:
        raise ValueError("no traffic generated")
    cols = {k: [v for p in parts for v in p[k]] for k in parts[0]}
    table = pa.table(cols)
    order = np.argsort(np.array([x.timestamp() for x in cols["ts"]]), kind="stable")
    return table.take(pa.array(order))


def write_generic_csv(table: pa.Table, path: Path) -> Path:
    """The traffic as a hand-rolled gateway log with human column names (needs a mapping)."""
    renamed = table.rename_columns([GENERIC_COLUMNS.get(c, c) for c in table.column_names])
    ts = pa.array([t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z" for t in table.column("ts").to_pylist()])
    renamed = renamed.set_column(renamed.column_names.index("Timestamp"), "Timestamp", ts)
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(renamed, path)
    return path


GENERIC_COLUMNS = {
    "request_id": "Request ID", "ts": "Timestamp", "workload": "Feature", "provider": "Vendor", "model": "Model",
    "project": "Team", "api_key_id": "Key", "user_id": "User", "input_tokens": "Prompt tokens",
    "cached_input_tokens": "Cached tokens", "output_tokens": "Completion tokens", "status": "Status",
    "latency_ms": "Latency (ms)", "ttft_ms": "TTFT (ms)", "batch": "Batch", "prompt": "Prompt",
}
GENERIC_MAPPING = dict(GENERIC_COLUMNS.items())
