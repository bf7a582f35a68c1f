"""Synthetic traffic for the demo, the tests and the benchmarks: deterministic by seed.

One traffic model (`traffic`) produces request rows for a company's workloads; writers turn the same
rows into files in each real export format (`write`, `write_formats`), so tests can prove every
adapter reads the same traffic to the same totals. Everything is vectorised (numpy, pyarrow, polars):
millions of rows in seconds; Python loops run only over days, workloads or buckets, never rows.

Request-grain writers write every row they are given. Bucket and billing writers aggregate what they
are given (`write_formats` hands OpenAI formats the `openai` rows and Anthropic formats the
`anthropic` rows). Prices below are illustrative list prices for synthetic data only; planner never
prices from them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

DEFAULT_START = datetime(2026, 10, 1, tzinfo=UTC)
BLOCK_TOKENS = 512  # Mooncake hash block


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
    cached_prefix: int = 0         # tokens of a cached system prompt (a multiple of 512 keeps traces exact)
    mode: str = "interactive"      # interactive | batch
    burst: float = 1.0             # >1: minute-scale bursts of this factor
    pii_rate: float = 0.0          # share of prompts carrying a PII value
    failure_rate: float = 0.005
    project: str = "proj_default"
    template: str = "You are a helpful assistant."
    # optional shape, each off by default (the defaults reproduce the original traffic draw for draw)
    hour_profile: tuple[float, ...] | None = None  # 24 relative weights by UTC hour (None: the built-in shapes)
    weekend_factor: float | None = None  # volume on Saturdays and Sundays; None: 0.9 batch, 0.45 interactive
    key_alias: str | None = None   # the gateway key's alias (None: the workload name)
    turns: float = 0.0             # > 0: requests carry a session id, about this many turns per session
    tool_share: float = 0.0        # share of requests that call a tool (an MCP tool name on the row)
    pii_kinds: tuple[int, ...] = ()  # which PII values appear (0 email, 1 phone, 2 card, 3 SSN, 4 IBAN); () = all
    incidents: tuple[tuple[int, float, float, float], ...] = ()  # (day, start hour, hours, failure rate)


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
             cached_prefix=1024, pii_rate=0.4, project="proj_legal",
             template="Summarise the following contract for a lawyer, listing parties, term, and liabilities:"),
)

# illustrative USD per million tokens: input, cached input, cache write, output (synthetic data only)
PRICES: dict[str, tuple[float, float, float, float]] = {
    "gpt-4o-mini-2024-07-18": (0.15, 0.075, 0.15, 0.60),
    "gpt-4.1-mini": (0.40, 0.10, 0.40, 1.60),
    "claude-3-5-haiku-20241022": (0.80, 0.08, 1.00, 4.00),
    "claude-sonnet-4-20250514": (3.00, 0.30, 3.75, 15.00),
}
DEFAULT_PRICE = (1.0, 0.1, 1.25, 4.0)


def _arrivals(rng: np.random.Generator, w: Workload, days: int, scale: float, start: datetime) -> np.ndarray:
    """Seconds since the start for each request: weekday/hour seasonality, optional bursts."""
    hours = np.arange(24)
    if w.hour_profile is not None:
        hour_w = np.asarray(w.hour_profile, dtype=float)
    elif w.mode == "batch":
        hour_w = np.where((hours >= 1) & (hours < 5), 1.0, 0.02)
    else:
        hour_w = 0.15 + np.exp(-0.5 * ((hours - 14) / 3.5) ** 2)
    hour_w = hour_w / hour_w.sum()
    out = []
    for d in range(days):
        weekday = (start + timedelta(days=d)).weekday()
        weekend = w.weekend_factor if w.weekend_factor is not None else (0.9 if w.mode == "batch" else 0.45)
        factor = 1.0 if weekday < 5 else weekend
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


def _strs(values: np.ndarray) -> np.ndarray:
    return values.astype(str)


def _pii(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """One PII value per row, of the given kind (email, phone, card, SSN, IBAN): vectorised."""
    n = len(kind)
    email = np.char.add(np.char.add("jane.doe", _strs(rng.integers(100, 999, n))), "@example.com")
    phone = np.char.add("+1 415-555-", _strs(rng.integers(1000, 9999, n)))
    card = np.full(n, "4111 1111 1111 1111")
    ssn = np.char.add(np.char.add(np.char.add(_strs(rng.integers(100, 665, n)), "-"),
                                  np.char.add(_strs(rng.integers(10, 99, n)), "-")), _strs(rng.integers(1000, 9999, n)))
    iban = np.full(n, "DE89 3704 0044 0532 0130 00")
    return np.choose(kind, [email.astype(object), phone.astype(object), card.astype(object), ssn.astype(object),
                            iban.astype(object)])


Price = tuple[float, float | None, float | None, float]   # USD per million: input, cached, cache write, output
PriceOf = Callable[[str, bool], "Price | None"]
MCP_TOOLS = ("jira__search_issues", "github__get_pull_request", "datadog__query_metrics", "pagerduty__list_incidents",
             "confluence__get_page", "slack__post_message")


def traffic(days: int = 30, seed: int = 7, scale: float = 1.0,
            workloads: tuple[Workload, ...] = WORKLOADS, start: datetime = DEFAULT_START, *,
            prices: PriceOf | None = None, id_prefix: str = "req") -> pa.Table:
    """Request rows for every workload over `days` days, in time order.

    Columns (canonical names): request_id, ts (UTC), workload, provider, model, project, api_key_id,
    user_id, input_tokens (all input), cached_input_tokens, cache_write_tokens, output_tokens, status,
    latency_ms, ttft_ms, batch, billed_cost_usd (float: what a gateway would state), prompt, then
    session_id, tool (an MCP tool name or null) and key_alias (the gateway key's alias).
    Cache semantics are those of an unbounded prefix cache: the first request of a workload carrying its
    cached prefix writes it (cache_write_tokens), later ones read it (cached_input_tokens).
    `prices(model, batch)` gives the list prices a gateway states costs with (None: it does not know the
    model and states 0, as LiteLLM does); without it the illustrative `PRICES` are used.
    """
    rng = np.random.default_rng(seed)
    parts: list[dict[str, Any]] = []
    for wi, w in enumerate(workloads):
        t = _arrivals(rng, w, days, scale, start)
        n = len(t)
        if n == 0:
            continue
        inp = np.maximum(16, rng.lognormal(np.log(w.input_median), w.input_sigma, n)).astype(np.int64)
        inp = np.maximum(inp, w.cached_prefix + 16)
        out = np.maximum(1, rng.lognormal(np.log(w.output_median), w.output_sigma, n)).astype(np.int64)
        uses_prefix = (rng.random(n) < 0.9) & (w.cached_prefix > 0)
        failed = rng.random(n) < w.failure_rate
        out = np.where(failed, 0, out)
        latency = (inp * 0.02 + out * 18 + rng.gamma(2.0, 80, n)).round(1)
        ttft = (inp * 0.02 + rng.gamma(2.0, 60, n)).round(1)
        has_pii = rng.random(n) < w.pii_rate
        kinds = rng.integers(0, 5, n) if not w.pii_kinds else np.asarray(w.pii_kinds)[rng.integers(0, len(w.pii_kinds), n)]
        pii = _pii(rng, kinds)
        late = np.char.add(np.char.add("order ", _strs(rng.integers(10000, 99999, n))), " arrived late").astype(object)
        tail = np.where(has_pii, np.char.add(np.char.add("please contact ", pii.astype(str)), " about it").astype(object),
                        late)
        case = np.char.add(np.char.add(f"{w.template} case ", _strs(np.arange(n) % 97)), ": ").astype(object)
        users = rng.integers(1, 400, n)
        # the optional shapes draw from their own stream, so workloads without them keep their traffic
        aux = np.random.default_rng([seed, wi, 99])
        for day, hour, hours, rate in w.incidents:
            window = (t >= day * 86400 + hour * 3600) & (t < day * 86400 + (hour + hours) * 3600)
            failed |= window & (aux.random(n) < rate)
        out = np.where(failed, 0, out)
        parts.append({
            "t": t,
            "request_id": np.char.add(f"{id_prefix}-{seed}-{wi}-", np.char.zfill(_strs(np.arange(n)), 7)),
            "w": np.full(n, wi),
            "user_id": np.char.add("user_", _strs(users)),
            "session_id": _sessions(aux, t, users, w.turns, f"sess-{seed}-{wi}-"),
            "tool": np.where(aux.random(n) < w.tool_share, aux.choice(np.array(MCP_TOOLS, dtype=object), n), None)
            if w.tool_share > 0 else np.full(n, None, dtype=object),
            "input_tokens": inp,
            "uses_prefix": uses_prefix,
            "output_tokens": out,
            "failed": failed,
            "latency_ms": latency,
            "ttft_ms": ttft,
            "prompt": case + tail,
        })
    if not parts:
        raise ValueError("no traffic generated")
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(cols["t"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    wsel = cols["w"]
    prefix = np.array([w.cached_prefix for w in workloads], dtype=np.int64)[wsel]
    # the first prefix-carrying request of each workload writes the cache; the rest read it
    first = np.zeros(len(wsel), dtype=bool)
    for wi in range(len(workloads)):
        idx = np.flatnonzero((wsel == wi) & cols["uses_prefix"])
        if len(idx):
            first[idx[0]] = True
    cached = np.where(cols["uses_prefix"] & ~first, prefix, 0)
    write = np.where(first, prefix, 0)
    if prices is None:
        price = np.array([PRICES.get(w.model, DEFAULT_PRICE) for w in workloads])[wsel]
    else:
        price = np.array([_price_row(prices(w.model, w.mode == "batch")) for w in workloads])[wsel]
    inp, out = cols["input_tokens"], cols["output_tokens"]
    cost = ((inp - cached - write) * price[:, 0] + cached * price[:, 1] + write * price[:, 2] + out * price[:, 3]) / 1e6
    cost = np.where(cols["failed"], 0.0, np.round(cost, 10))
    start_us = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "us")
    ts = start_us + (cols["t"] * 1e6).astype("timedelta64[us]")

    def per_w(attr: str) -> np.ndarray:
        return np.array([getattr(w, attr) for w in workloads], dtype=object)[wsel]

    projects = per_w("project")
    return pa.table({
        "request_id": pa.array(cols["request_id"].astype(object), pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "workload": pa.array(per_w("name"), pa.string()),
        "provider": pa.array(per_w("provider"), pa.string()),
        "model": pa.array(per_w("model"), pa.string()),
        "project": pa.array(projects, pa.string()),
        "api_key_id": pa.array(np.char.add("key_", projects.astype(str)).astype(object), pa.string()),
        "user_id": pa.array(cols["user_id"].astype(object), pa.string()),
        "input_tokens": pa.array(inp, pa.int64()),
        "cached_input_tokens": pa.array(cached, pa.int64()),
        "cache_write_tokens": pa.array(write, pa.int64()),
        "output_tokens": pa.array(out, pa.int64()),
        "status": pa.array(np.where(cols["failed"], "error", "ok").astype(object), pa.string()),
        "latency_ms": pa.array(cols["latency_ms"], pa.float64()),
        "ttft_ms": pa.array(cols["ttft_ms"], pa.float64()),
        "batch": pa.array(per_w("mode") == "batch", pa.bool_()),
        "billed_cost_usd": pa.array(cost, pa.float64()),
        "prompt": pa.array(cols["prompt"], pa.string()),
        "session_id": pa.array(cols["session_id"], pa.string()),
        "tool": pa.array(cols["tool"], pa.string()),
        "key_alias": pa.array(np.array([w.key_alias or w.name for w in workloads], dtype=object)[wsel], pa.string()),
    })


def _price_row(p: Price | None) -> tuple[float, float, float, float]:
    """A price as four floats (cached and cache-write tokens at the input price when not listed); 0 if unknown."""
    if p is None:
        return (0.0, 0.0, 0.0, 0.0)
    inp, cached, write, out = p
    return (inp, inp if cached is None else cached, inp if write is None else write, out)


def _sessions(rng: np.random.Generator, t: np.ndarray, users: np.ndarray, turns: float, prefix: str) -> np.ndarray:
    """Session ids: a user's requests of one day, split so that sessions have about `turns` turns."""
    n = len(t)
    if turns <= 0 or n == 0:
        return np.full(n, None, dtype=object)
    order = np.lexsort((t, users))
    u, day = users[order], (t[order] // 86400).astype(np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (day[1:] != day[:-1]) | (rng.random(n - 1) < 1.0 / turns)
    ids = np.empty(n, dtype=object)
    ids[order] = np.char.add(prefix, _strs(np.cumsum(new))).astype(object)
    return ids


# ---------------------------------------------------------------- generic CSV

GENERIC_COLUMNS = {
    "request_id": "Request ID", "ts": "Timestamp", "workload": "Feature", "provider": "Vendor", "model": "Model",
    "project": "Team", "api_key_id": "Key", "user_id": "User", "input_tokens": "Prompt tokens",
    "cached_input_tokens": "Cached tokens", "cache_write_tokens": "Cache write tokens",
    "output_tokens": "Completion tokens", "status": "Status", "latency_ms": "Latency (ms)", "ttft_ms": "TTFT (ms)",
    "batch": "Batch", "billed_cost_usd": "Cost (USD)", "prompt": "Prompt",
}
GENERIC_MAPPING = dict(GENERIC_COLUMNS.items())


def write_generic_csv(table: pa.Table, path: Path) -> Path:
    """The traffic as a hand-rolled gateway log with human column names (needs a mapping)."""
    table = table.select([c for c in table.column_names if c in GENERIC_COLUMNS])
    renamed = table.rename_columns([GENERIC_COLUMNS[c] for c in table.column_names])
    ts = pc.strftime(table.column("ts"), format="%Y-%m-%dT%H:%M:%SZ")  # %S carries the microseconds
    renamed = renamed.set_column(renamed.column_names.index("Timestamp"), "Timestamp", ts)
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(renamed, path)
    return path


# ---------------------------------------------------------------- helpers for the writers

def _pl(table: pa.Table) -> Any:
    import polars as pl

    return pl.from_arrow(table)


def _hex(value: str, n: int = 64) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:n]


def _map(col: str, mapping: dict[str, str]) -> Any:
    import polars as pl

    return pl.col(col).replace_strict(mapping, default=pl.col(col), return_dtype=pl.String)


def _ts_text(fmt: str, offset_ms: Any = None) -> Any:
    """Timestamp column `ts` (+ a millisecond offset expression) as UTC text in `fmt` (chrono syntax)."""
    import polars as pl

    ts = pl.col("ts").dt.replace_time_zone(None)
    if offset_ms is not None:
        ts = ts + pl.duration(microseconds=(offset_ms * 1000).round(0).cast(pl.Int64))
    return ts.dt.strftime(fmt)


def _gzip(src: Path, dest: Path) -> None:
    with src.open("rb") as raw, dest.open("wb") as f, \
            gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=f, mtime=0) as gz:
        shutil.copyfileobj(raw, gz, 1 << 22)
    src.unlink()


def _write_ndjson(df: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        tmp = path.with_name(path.name + ".part")
        df.write_ndjson(tmp)
        _gzip(tmp, path)
    else:
        df.write_ndjson(path)
    return path


def _anthropic(provider: Any) -> Any:
    return provider == "anthropic"


# ---------------------------------------------------------------- LiteLLM

LITELLM_COLUMNS = (
    "request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens", "startTime",
    "endTime", "request_duration_ms", "completionStartTime", "model", "model_id", "model_group",
    "custom_llm_provider", "api_base", "user", "metadata", "cache_hit", "cache_key", "request_tags", "team_id",
    "organization_id", "end_user", "requester_ip_address", "messages", "response", "session_id", "status",
    "mcp_namespaced_tool_name", "agent_id", "proxy_server_request",
)
API_BASES = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}


def _litellm_frame(table: pa.Table, *, as_json: bool) -> Any:
    """SpendLogs rows. Anthropic rows go through /v1/messages (`anthropic_messages`: cache excluded)."""
    import polars as pl

    df = _pl(table)
    keys = {k: _hex(k) for k in df["api_key_id"].unique().to_list()}
    anth = _anthropic(pl.col("provider"))

    def col_or_null(name: str) -> Any:
        return pl.col(name) if name in df.columns else pl.lit(None, dtype=pl.String)
    prompt_tokens = pl.when(anth).then(
        pl.col("input_tokens") - pl.col("cached_input_tokens") - pl.col("cache_write_tokens")
    ).otherwise(pl.col("input_tokens"))
    ok = pl.col("status") == "ok"
    usage = pl.struct(
        prompt_tokens=prompt_tokens, completion_tokens=pl.col("output_tokens"),
        total_tokens=prompt_tokens + pl.col("output_tokens"),
        prompt_tokens_details=pl.struct(cached_tokens=pl.col("cached_input_tokens")),
        completion_tokens_details=pl.struct(reasoning_tokens=pl.lit(0)),
        cache_read_input_tokens=pl.when(anth).then(pl.col("cached_input_tokens")),
        cache_creation_input_tokens=pl.when(anth).then(pl.col("cache_write_tokens")),
    )
    metadata = pl.struct(
        user_api_key=_map("api_key_id", keys),
        user_api_key_alias=pl.col("key_alias") if "key_alias" in df.columns else pl.col("workload"),
        user_api_key_team_id=pl.col("project"), status=pl.when(ok).then(pl.lit("success")).otherwise(pl.lit("failure")),
        usage_object=usage,
    )
    messages = pl.concat_list(pl.struct(role=pl.lit("user"), content=pl.col("prompt")))
    tags = pl.concat_list(pl.col("workload"))
    if as_json:
        fmt, empty = "%Y-%m-%dT%H:%M:%S%.6f", pl.lit(None, dtype=pl.String)
        metadata_col, messages_col, tags_col = metadata, messages, tags
        response = pl.lit(None, dtype=pl.String)
    else:
        fmt, empty = "%Y-%m-%d %H:%M:%S%.3f", pl.lit(None, dtype=pl.String)
        metadata_col = metadata.struct.json_encode()
        messages_col = pl.struct(m=messages).struct.json_encode().str.slice(5).str.strip_suffix("}")
        tags_col = pl.struct(t=tags).struct.json_encode().str.slice(5).str.strip_suffix("}")
        response = pl.lit("{}")
    return df.select(
        request_id=pl.col("request_id"),
        call_type=pl.when(anth).then(pl.lit("anthropic_messages")).otherwise(pl.lit("acompletion")),
        api_key=_map("api_key_id", keys),
        spend=pl.col("billed_cost_usd"),
        total_tokens=prompt_tokens + pl.col("output_tokens"),
        prompt_tokens=prompt_tokens,
        completion_tokens=pl.col("output_tokens"),
        startTime=_ts_text(fmt),
        endTime=_ts_text(fmt, pl.col("latency_ms")),
        request_duration_ms=pl.col("latency_ms").round(0).cast(pl.Int64),
        completionStartTime=pl.when(ok).then(_ts_text(fmt, pl.col("ttft_ms"))),
        model=pl.col("model"),
        model_id=pl.concat_str(pl.lit("dep-"), pl.col("model")),
        model_group=pl.col("model").str.replace(r"-\d{4}-?\d{2}-?\d{2}$", ""),
        custom_llm_provider=pl.col("provider"),
        api_base=_map("provider", API_BASES),
        user=pl.col("user_id"),
        metadata=metadata_col,
        cache_hit=pl.lit("False"),
        cache_key=empty,
        request_tags=tags_col,
        team_id=pl.col("project"),
        organization_id=empty,
        end_user=empty,
        requester_ip_address=empty,
        messages=messages_col,
        response=response,
        session_id=col_or_null("session_id"),
        status=pl.when(ok).then(pl.lit("success")).otherwise(pl.lit("failure")),
        mcp_namespaced_tool_name=col_or_null("tool"),
        agent_id=empty,
        proxy_server_request=response,
    )


def write_litellm_csv(table: pa.Table, path: Path) -> Path:
    """`COPY "LiteLLM_SpendLogs" TO ... CSV HEADER` with `store_prompts_in_spend_logs` on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _litellm_frame(table, as_json=False).write_csv(path, null_value="")
    return path


def write_litellm_json(table: pa.Table, path: Path) -> Path:
    """What the proxy's `/spend/logs` API returns: a JSON array of rows, JSON columns as objects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _litellm_frame(table, as_json=True).write_json(path)
    return path


# ---------------------------------------------------------------- Bedrock

BEDROCK_IDS = {
    "claude-3-5-haiku-20241022": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "claude-sonnet-4-20250514": "us.anthropic.claude-sonnet-4-20250514-v1:0",
}


def write_bedrock(table: pa.Table, path: Path, account: str = "111122223333") -> Path:
    """Model invocation logs as S3 delivers them: gzipped JSON Lines, Converse operations."""
    import polars as pl

    df = _pl(table)
    uncached = pl.col("input_tokens") - pl.col("cached_input_tokens") - pl.col("cache_write_tokens")
    ok = pl.col("status") == "ok"
    out = df.select(
        schemaType=pl.lit("ModelInvocationLog"),
        schemaVersion=pl.lit("1.0"),
        timestamp=_ts_text("%Y-%m-%dT%H:%M:%SZ"),
        accountId=pl.lit(account),
        identity=pl.struct(arn=pl.concat_str(pl.lit(f"arn:aws:sts::{account}:assumed-role/"), pl.col("project"),
                                              pl.lit("/"), pl.col("user_id"))),
        region=pl.lit("us-east-1"),
        requestId=pl.col("request_id"),
        operation=pl.lit("Converse"),
        modelId=_map("model", BEDROCK_IDS),
        errorCode=pl.when(~ok).then(pl.lit("ModelErrorException")),
        input=pl.struct(
            inputContentType=pl.lit("application/json"),
            inputBodyJson=pl.struct(messages=pl.concat_list(pl.struct(
                role=pl.lit("user"), content=pl.concat_list(pl.struct(text=pl.col("prompt")))))),
            inputTokenCount=uncached,
            cacheReadInputTokenCount=pl.col("cached_input_tokens"),
            cacheWriteInputTokenCount=pl.col("cache_write_tokens"),
        ),
        output=pl.struct(
            outputContentType=pl.lit("application/json"),
            outputBodyJson=pl.struct(
                stopReason=pl.when(ok).then(pl.lit("end_turn")),
                metrics=pl.struct(latencyMs=pl.col("latency_ms").round(0).cast(pl.Int64)),
                usage=pl.struct(inputTokens=uncached, outputTokens=pl.col("output_tokens"),
                                cacheReadInputTokens=pl.col("cached_input_tokens"),
                                cacheWriteInputTokens=pl.col("cache_write_tokens")),
            ),
            outputTokenCount=pl.col("output_tokens"),
        ),
    )
    return _write_ndjson(out, path)


# ---------------------------------------------------------------- OpenRouter

PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google", "aws": "Amazon Bedrock"}


def _slug() -> Any:
    import polars as pl

    return pl.concat_str(pl.col("provider"), pl.lit("/"), pl.col("model"))


def write_openrouter(table: pa.Table, path: Path) -> Path:
    """Generation records as `GET /api/v1/generation` returns them, one `{"data": ...}` per line."""
    import polars as pl

    df = _pl(table)
    ok = pl.col("status") == "ok"
    data = pl.struct(
        id=pl.concat_str(pl.lit("gen-"), pl.col("request_id")),
        upstream_id=pl.lit(None, dtype=pl.String),
        total_cost=pl.col("billed_cost_usd"),
        cache_discount=pl.lit(None, dtype=pl.Float64),
        upstream_inference_cost=pl.lit(None, dtype=pl.Float64),
        created_at=_ts_text("%Y-%m-%dT%H:%M:%S%.6f+00:00"),
        model=_slug(),
        app_id=pl.lit(None, dtype=pl.Int64),
        streamed=pl.lit(True),
        cancelled=pl.lit(False),
        provider_name=_map("provider", PROVIDER_NAMES),
        latency=pl.col("latency_ms"),
        moderation_latency=pl.lit(None, dtype=pl.Float64),
        generation_time=pl.col("latency_ms"),
        finish_reason=pl.when(ok).then(pl.lit("stop")).otherwise(pl.lit("error")),
        native_finish_reason=pl.when(ok).then(pl.lit("stop")).otherwise(pl.lit("error")),
        tokens_prompt=pl.col("input_tokens"),
        tokens_completion=pl.col("output_tokens"),
        native_tokens_prompt=pl.col("input_tokens"),
        native_tokens_completion=pl.col("output_tokens"),
        native_tokens_completion_images=pl.lit(0),
        native_tokens_reasoning=pl.lit(0),
        native_tokens_cached=pl.col("cached_input_tokens"),
        num_media_prompt=pl.lit(None, dtype=pl.Int64),
        num_media_completion=pl.lit(0),
        num_search_results=pl.lit(None, dtype=pl.Int64),
        origin=pl.lit("https://app.example.com/"),
        usage=pl.col("billed_cost_usd"),
        is_byok=pl.lit(False),
        external_user=pl.col("user_id"),
        api_type=pl.lit("completions"),
        service_tier=pl.lit(None, dtype=pl.String),
        data_region=pl.lit("global"),
    )
    return _write_ndjson(df.select(data=data), path)


# ---------------------------------------------------------------- Mooncake

def hash_ids(table: pa.Table, block: int = BLOCK_TOKENS) -> pa.ListArray:
    """One id per `block`-token block of each prompt; a workload's cached prefix shares its ids.

    Rows that read or write the workload's cached prefix start with that prefix's blocks, so a
    Mooncake reader derives exactly the traffic's cached tokens (for prefixes that are whole blocks).
    """
    inp = table.column("input_tokens").to_numpy()
    carries = (table.column("cached_input_tokens").to_numpy() > 0) | (table.column("cache_write_tokens").to_numpy() > 0)
    workload = table.column("workload").to_numpy(zero_copy_only=False)
    prefix = np.maximum(table.column("cached_input_tokens").to_numpy(), table.column("cache_write_tokens").to_numpy())
    names, wid = np.unique(workload, return_inverse=True)
    k = np.where(carries, prefix // block, 0)
    prefix_blocks = np.zeros(len(names), dtype=np.int64)
    np.maximum.at(prefix_blocks, wid, k)
    base = np.concatenate([[0], np.cumsum(prefix_blocks)])[:-1]          # first prefix id per workload
    n_blocks = -(-inp // block)
    offsets = np.concatenate([[0], np.cumsum(n_blocks)])
    total = int(offsets[-1])
    pos = np.arange(total) - np.repeat(offsets[:-1], n_blocks)
    values = np.arange(total, dtype=np.int64) + int(prefix_blocks.sum())  # fresh ids after every prefix
    shared = pos < np.repeat(k, n_blocks)
    values[shared] = np.repeat(base[wid], n_blocks)[shared] + pos[shared]
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32() if total < 2**31 else pa.int64()),
                                    pa.array(values, pa.int64()))


def write_mooncake(table: pa.Table, path: Path, origin: datetime | None = None) -> Path:
    """A replay trace: ms since `origin` (default: midnight UTC of the first request), lengths, hash_ids."""
    import polars as pl

    ts = table.column("ts")
    if origin is None:
        first = pc.min(ts).as_py()
        origin = first.replace(hour=0, minute=0, second=0, microsecond=0)
    origin_us = np.datetime64(origin.astimezone(UTC).replace(tzinfo=None), "us")
    offset_us = (ts.to_numpy().astype("datetime64[us]") - origin_us).astype(np.int64)
    df = pl.from_arrow(pa.table({
        "timestamp": pa.array(offset_us // 1000, pa.int64()),   # floor: never moves a request to the next day
        "input_length": table.column("input_tokens"),
        "output_length": table.column("output_tokens"),
        "hash_ids": hash_ids(table),
    }))
    return _write_ndjson(df.select(pl.all()), path)


# ---------------------------------------------------------------- bucketed usage and billing

def _aggregate(table: pa.Table, width: str, keys: list[str]) -> list[dict[str, Any]]:
    """Sums per time bucket (`1h` | `1d`) and keys: the few rows a usage or cost page holds. A table with a
    `requests` column holds pre-aggregated rows (each stands for that many requests)."""
    import polars as pl

    df = _pl(table).with_columns(bucket=pl.col("ts").dt.replace_time_zone(None).dt.truncate(width))
    agg = df.group_by(["bucket", *keys]).agg(
        requests=pl.col("requests").sum() if "requests" in df.columns else pl.len(),
        input_tokens=pl.col("input_tokens").sum(),
        cached_input_tokens=pl.col("cached_input_tokens").sum(),
        cache_write_tokens=pl.col("cache_write_tokens").sum(),
        output_tokens=pl.col("output_tokens").sum(),
    ).sort(["bucket", *keys])
    return agg.to_dicts()


def _epoch(t: datetime) -> int:
    return int(t.replace(tzinfo=UTC).timestamp())


def _rfc3339(t: datetime) -> str:
    return t.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


Window = tuple[datetime, datetime]   # [start, end) in UTC: what one API pull covered


def _bucket_starts(table: pa.Table, step: timedelta, window: Window | None = None) -> list[datetime]:
    if window is not None:
        first, last = (w.astimezone(UTC).replace(tzinfo=None) for w in window)
        last -= timedelta(microseconds=1)
    else:
        lo, hi = pc.min_max(table.column("ts")).values()
        first = lo.as_py().replace(tzinfo=None, minute=0, second=0, microsecond=0)
        last = hi.as_py().replace(tzinfo=None)
    if step >= timedelta(days=1):
        first = first.replace(hour=0)
    out = []
    t = first
    while t <= last:
        out.append(t)
        t += step
    return out


def _in_window(table: pa.Table, window: Window | None) -> pa.Table:
    if window is None:
        return table
    ts = table.column("ts")
    lo = pa.scalar(window[0].astimezone(UTC), ts.type)
    hi = pa.scalar(window[1].astimezone(UTC), ts.type)
    return table.filter(pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi)))


def _pages(buckets: list[Any], per_page: int) -> Iterable[tuple[list[Any], bool, str | None]]:
    chunks = [buckets[i:i + per_page] for i in range(0, len(buckets), per_page)] or [[]]
    for i, chunk in enumerate(chunks):
        more = i + 1 < len(chunks)
        yield chunk, more, (f"page_{_hex(str(i + 1), 16)}" if more else None)


def _write_lines(path: Path, docs: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")
    return path


def write_openai_usage(table: pa.Table, path: Path, *, window: Window | None = None, batch: bool = False,
                       kind: str = "completions") -> Path:
    """`/v1/organization/usage/completions` pages (JSONL), `bucket_width=1h`, `group_by=model,project_id`
    (plus `batch` with `batch=True`). `window`: the pull's [start, end), empty buckets included, as the
    API returns them. `kind="embeddings"`: `/usage/embeddings` pages (input tokens and requests only)."""
    table = _in_window(table, window)
    groups: dict[datetime, list[dict[str, Any]]] = {}
    for g in _aggregate(table, "1h", ["model", "project", *(["batch"] if batch else [])]):
        if kind == "embeddings":
            result: dict[str, Any] = {
                "object": "organization.usage.embeddings.result", "input_tokens": g["input_tokens"],
                "num_model_requests": g["requests"], "project_id": g["project"], "user_id": None,
                "api_key_id": None, "model": g["model"],
            }
        else:
            result = {
                "object": "organization.usage.completions.result",
                "input_tokens": g["input_tokens"], "output_tokens": g["output_tokens"],
                "input_cached_tokens": g["cached_input_tokens"],
                "input_cache_write_tokens": g["cache_write_tokens"],
                "input_uncached_tokens": g["input_tokens"] - g["cached_input_tokens"] - g["cache_write_tokens"],
                "input_audio_tokens": 0, "output_audio_tokens": 0,
                "num_model_requests": g["requests"], "project_id": g["project"], "user_id": None,
                "api_key_id": None, "model": g["model"], "batch": g["batch"] if batch else None, "service_tier": None,
            }
        groups.setdefault(g["bucket"], []).append(result)
    buckets = [{"object": "bucket", "start_time": _epoch(t), "end_time": _epoch(t + timedelta(hours=1)),
                "results": groups.get(t, [])} for t in _bucket_starts(table, timedelta(hours=1), window)]
    return _write_lines(path, ({"object": "page", "data": chunk, "has_more": more, "next_page": nxt}
                               for chunk, more, nxt in _pages(buckets, 168)))


def _cost_lines(g: dict[str, Any], prices: PriceOf | None = None) -> list[tuple[str, int, Decimal]]:
    """(direction, tokens, USD) for one aggregate, at the illustrative prices (or `prices(model, batch)`)."""
    if prices is None:
        price: tuple[float, ...] = PRICES.get(g["model"], DEFAULT_PRICE)
    else:
        price = _price_row(prices(g["model"], bool(g.get("batch"))))
    p_in, p_cached, p_write, p_out = (Decimal(str(x)) for x in price)
    uncached = g["input_tokens"] - g["cached_input_tokens"] - g["cache_write_tokens"]
    mtok = Decimal("0.000001")
    return [(d, n, n * p * mtok) for d, n, p in (
        ("input", uncached, p_in), ("cached input", g["cached_input_tokens"], p_cached),
        ("cache write", g["cache_write_tokens"], p_write), ("output", g["output_tokens"], p_out)) if n]


def write_openai_costs(table: pa.Table, path: Path, *, prices: PriceOf | None = None) -> Path:
    """`/v1/organization/costs` pages (JSONL), daily buckets, `group_by=line_item,project_id`.

    With `prices`, batch traffic is billed at its own prices on `batch | <model>, <direction>` lines."""
    groups: dict[datetime, list[dict[str, Any]]] = {}
    for g in _aggregate(table, "1d", ["model", "project", *(["batch"] if prices else [])]):
        tier = "batch | " if g.get("batch") else ""
        for direction, tokens, usd in _cost_lines(g, prices):
            groups.setdefault(g["bucket"], []).append({
                "object": "organization.costs.result",
                "amount": {"value": float(usd.quantize(Decimal("0.0000000001"))), "currency": "usd"},
                "line_item": f"{tier}{g['model']}, {direction}", "project_id": g["project"], "api_key_id": None,
                "quantity": tokens, "quantity_unit": "tokens",
            })
    buckets = [{"object": "bucket", "start_time": _epoch(t), "end_time": _epoch(t + timedelta(days=1)),
                "results": groups.get(t, [])} for t in _bucket_starts(table, timedelta(days=1))]
    return _write_lines(path, ({"object": "page", "data": chunk, "has_more": more, "next_page": nxt}
                               for chunk, more, nxt in _pages(buckets, 180)))


def _tier(batch: bool) -> str:
    return "batch" if batch else "standard"


def write_anthropic_usage(table: pa.Table, path: Path, *, window: Window | None = None) -> Path:
    """`/v1/organizations/usage_report/messages` pages (JSONL), `1h`, grouped by model, workspace, tier."""
    table = _in_window(table, window)
    groups: dict[datetime, list[dict[str, Any]]] = {}
    for g in _aggregate(table, "1h", ["model", "project", "batch"]):
        groups.setdefault(g["bucket"], []).append({
            "uncached_input_tokens": g["input_tokens"] - g["cached_input_tokens"] - g["cache_write_tokens"],
            "cache_creation": {"ephemeral_5m_input_tokens": g["cache_write_tokens"], "ephemeral_1h_input_tokens": 0},
            "cache_read_input_tokens": g["cached_input_tokens"], "output_tokens": g["output_tokens"],
            "server_tool_use": {"web_search_requests": 0}, "api_key_id": None, "workspace_id": g["project"],
            "model": g["model"], "service_tier": _tier(g["batch"]), "context_window": None,
        })
    buckets = [{"starting_at": _rfc3339(t), "ending_at": _rfc3339(t + timedelta(hours=1)), "results": groups.get(t, [])}
               for t in _bucket_starts(table, timedelta(hours=1), window)]
    return _write_lines(path, ({"data": chunk, "has_more": more, "next_page": nxt}
                               for chunk, more, nxt in _pages(buckets, 168)))


_ANTHROPIC_TOKEN_TYPES = {"input": "uncached_input_tokens", "cached input": "cache_read_input_tokens",
                          "cache write": "cache_creation.ephemeral_5m_input_tokens", "output": "output_tokens"}
_ANTHROPIC_LABELS = {"input": "Input Tokens", "cached input": "Input Tokens, Cache Hit",
                     "cache write": "Input Tokens, Cache Write (5m)", "output": "Output Tokens"}


def write_anthropic_cost(table: pa.Table, path: Path, *, prices: PriceOf | None = None) -> Path:
    """`/v1/organizations/cost_report` pages (JSONL), daily, `group_by[]=description,workspace_id`.

    `amount` is a decimal string in cents, as the API writes it.
    """
    groups: dict[datetime, list[dict[str, Any]]] = {}
    for g in _aggregate(table, "1d", ["model", "project", "batch"]):
        for direction, _tokens, usd in _cost_lines(g, prices):
            cents = (usd * 100).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
            groups.setdefault(g["bucket"], []).append({
                "amount": str(cents), "currency": "USD", "cost_type": "tokens",
                "description": f"{g['model']} Usage - {_ANTHROPIC_LABELS[direction]}", "model": g["model"],
                "service_tier": _tier(g["batch"]), "token_type": _ANTHROPIC_TOKEN_TYPES[direction],
                "context_window": "0-200k", "workspace_id": g["project"],
            })
    buckets = [{"starting_at": _rfc3339(t), "ending_at": _rfc3339(t + timedelta(days=1)), "results": groups.get(t, [])}
               for t in _bucket_starts(table, timedelta(days=1))]
    return _write_lines(path, ({"data": chunk, "has_more": more, "next_page": nxt}
                               for chunk, more, nxt in _pages(buckets, 31)))


FOCUS_COLUMNS = (
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency", "BillingAccountId",
    "ChargeCategory", "ChargeClass", "ChargeFrequency", "ChargeDescription", "ChargePeriodStart", "ChargePeriodEnd",
    "BillingPeriodStart", "BillingPeriodEnd", "ServiceName", "ServiceCategory", "ServiceSubcategory", "ProviderName",
    "PublisherName", "InvoiceIssuerName", "SkuId", "SkuPriceId", "SkuMeter", "ConsumedQuantity", "ConsumedUnit",
    "PricingQuantity", "PricingUnit", "ListUnitPrice", "ContractedUnitPrice", "RegionId", "RegionName",
    "ResourceId", "ResourceName", "SubAccountId", "SubAccountName", "Tags",
)
_FOCUS_METERS = {"input": "Input Tokens", "cached input": "Cache Read Input Tokens",
                 "cache write": "Cache Write Input Tokens", "output": "Output Tokens"}


def write_focus(table: pa.Table, path: Path, provider: str = "AWS", service: str = "Amazon Bedrock",
                account: str = "111122223333", *, prices: PriceOf | None = None) -> Path:
    """A FOCUS 1.2 cost and usage CSV: one Usage row per day × model × token direction (1K-token pricing)."""
    import csv

    rows = []
    for g in _aggregate(table, "1d", ["model", "project", *(["batch"] if prices else [])]):
        day: datetime = g["bucket"]
        month = day.replace(day=1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        for direction, tokens, usd in _cost_lines(g, prices):
            cost = str(usd.quantize(Decimal("0.0000000001")))
            unit_price = str((usd / tokens * 1000).quantize(Decimal("0.0000000001")))
            sku = _hex(f"{g['model']}|{direction}", 12).upper()
            rows.append({
                "BilledCost": cost, "EffectiveCost": cost, "ListCost": cost, "ContractedCost": cost,
                "BillingCurrency": "USD", "BillingAccountId": account, "ChargeCategory": "Usage", "ChargeClass": "",
                "ChargeFrequency": "Usage-Based", "ChargeDescription": f"{g['model']} {_FOCUS_METERS[direction]}",
                "ChargePeriodStart": _rfc3339(day), "ChargePeriodEnd": _rfc3339(day + timedelta(days=1)),
                "BillingPeriodStart": _rfc3339(month), "BillingPeriodEnd": _rfc3339(next_month),
                "ServiceName": service, "ServiceCategory": "AI and Machine Learning",
                "ServiceSubcategory": "Generative AI", "ProviderName": provider, "PublisherName": provider,
                "InvoiceIssuerName": provider, "SkuId": sku, "SkuPriceId": sku + "-OD",
                "SkuMeter": _FOCUS_METERS[direction], "ConsumedQuantity": tokens, "ConsumedUnit": "Tokens",
                "PricingQuantity": str(Decimal(tokens) / 1000), "PricingUnit": "1K Tokens",
                "ListUnitPrice": unit_price, "ContractedUnitPrice": unit_price, "RegionId": "us-east-1",
                "RegionName": "US East (N. Virginia)", "ResourceId": g["model"], "ResourceName": g["model"],
                "SubAccountId": account, "SubAccountName": "acme-prod",
                "Tags": json.dumps({"project": g["project"]}, separators=(",", ":")),
            })
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FOCUS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


# ---------------------------------------------------------------- all formats

REQUEST_FORMATS = ("generic", "litellm-csv", "litellm-json", "bedrock", "openrouter", "mooncake")
BILLING_FORMATS = ("openai-usage", "openai-costs", "anthropic-usage", "anthropic-cost", "focus")
FILE_NAMES = {
    "generic": "gateway-requests.csv", "litellm-csv": "litellm_spend_logs.csv",
    "litellm-json": "litellm_spend_logs.json", "bedrock": "bedrock_invocations.jsonl.gz",
    "openrouter": "openrouter_generations.jsonl", "mooncake": "mooncake_trace.jsonl",
    "openai-usage": "openai_usage_completions.jsonl", "openai-costs": "openai_costs.jsonl",
    "anthropic-usage": "anthropic_usage_messages.jsonl", "anthropic-cost": "anthropic_cost_report.jsonl",
    "focus": "focus_cost_and_usage.csv",
}
# the adapter that reads each file (--format), and extra ingest options it needs
INGEST_FORMATS = {
    "generic": "generic", "litellm-csv": "litellm", "litellm-json": "litellm", "bedrock": "bedrock",
    "openrouter": "openrouter", "mooncake": "mooncake", "openai-usage": "openai-usage",
    "openai-costs": "openai-costs", "anthropic-usage": "anthropic-usage", "anthropic-cost": "anthropic-cost",
    "focus": "focus",
}
_PROVIDER_OF = {"openai-usage": "openai", "openai-costs": "openai", "anthropic-usage": "anthropic",
                "anthropic-cost": "anthropic"}


def write(table: pa.Table, fmt: str, path: Path, *, origin: datetime | None = None) -> Path:
    """Write `table` in one format (request formats: every row; billing formats: aggregated)."""
    writers = {
        "generic": write_generic_csv, "litellm-csv": write_litellm_csv, "litellm-json": write_litellm_json,
        "bedrock": write_bedrock, "openrouter": write_openrouter,
        "openai-usage": write_openai_usage, "openai-costs": write_openai_costs,
        "anthropic-usage": write_anthropic_usage, "anthropic-cost": write_anthropic_cost, "focus": write_focus,
    }
    if fmt == "mooncake":
        return write_mooncake(table, path, origin)
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}")
    return writers[fmt](table, path)


@dataclass(frozen=True)
class Written:
    format: str
    path: Path
    rows: int          # traffic rows the file holds


def write_formats(table: pa.Table, out: Path, formats: Iterable[str] = REQUEST_FORMATS + BILLING_FORMATS, *,
                  origin: datetime | None = None) -> list[Written]:
    """Each format into `out/<file name>`; OpenAI/Anthropic billing formats get that provider's rows."""
    done = []
    for fmt in formats:
        rows = table
        if fmt in _PROVIDER_OF:
            rows = table.filter(pc.equal(table.column("provider"), _PROVIDER_OF[fmt]))
            if rows.num_rows == 0:
                continue
        done.append(Written(fmt, write(rows, fmt, out / FILE_NAMES[fmt], origin=origin), rows.num_rows))
    return done


def rows_per_day_scale(rows_per_day: int, workloads: tuple[Workload, ...] = WORKLOADS) -> float:
    """The `scale` that gives about `rows_per_day` requests on a weekday."""
    return rows_per_day / sum(w.requests_per_day for w in workloads)


def generate_exports(out: Path, *, days: int = 30, seed: int = 7, rows_per_day: int | None = None,
                     formats: Iterable[str] | None = None, start: datetime = DEFAULT_START) -> list[Written]:
    """`planner generate`: one traffic model written in each requested format under `out`."""
    from planner.errors import UsageError

    chosen = list(formats) if formats else list(REQUEST_FORMATS + BILLING_FORMATS)
    unknown = [f for f in chosen if f not in FILE_NAMES]
    if unknown:
        raise UsageError(f"--formats: unknown format {unknown[0]!r}",
                         hint="formats: " + ", ".join(REQUEST_FORMATS + BILLING_FORMATS))
    scale = rows_per_day_scale(rows_per_day) if rows_per_day else 1.0
    table = traffic(days=days, seed=seed, scale=scale, start=start)
    return write_formats(table, out, chosen, origin=start)
