"""The demo company: a month of one fintech's LLM traffic, as the exports its teams would hand over.

Acme Financial runs twelve workloads on three providers and exports them six ways:

- a LiteLLM proxy (spend logs with prompts) in front of the product and internal apps: support chat,
  the consumer app's assistant, receipt OCR, a fine-tuned dispute classifier the price snapshot does not
  know, the research team's nightly digest, and an operations agent nobody declared (planner finds it by
  its prompt template);
- direct OpenAI integrations, exported with the organization Usage API (hourly buckets, three pulls:
  two overlap, and one started a day late, leaving a gap the Costs API does not have), and the Costs API;
- the research workspace's direct Anthropic traffic (usage report, two overlapping pulls) and the
  Anthropic cost report;
- Bedrock invocation logs of the legal team's contract reviews (one gzipped file per day, as S3
  receives them) and the AWS FOCUS export that bills them.

High volumes live in the bucket exports (few rows each); shapes, prompts, PII and bursts live in the
request logs. Bills are computed at the list prices of the price snapshot planner ships (`LIST_PRICES`,
checked against it by a test), so priced usage reconciles with the invoices except where the exports
really differ. Everything is drawn from `seed`: the same arguments give byte-identical files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planner import generate as gen
from planner.generate import Price, Workload, Written

NAME = "Acme Financial"
ACCOUNT = "111122223333"
FT_MODEL = "ft:gpt-4.1-mini-2025-04-14:acme:disputes:CqT7x2Lk"

# USD per million tokens (input, cached input, cache write, output) by model and tier: the list prices of
# genai-prices 0.2.3 in October 2026 (tests/test_company.py checks that bills computed with them reconcile
# with planner's own pricing).
# A cache-write price of None bills writes as input (OpenAI). The fine-tuned model is billed by OpenAI at
# fine-tuning prices but is unknown to the snapshot: planner lists it as unpriced.
LIST_PRICES: dict[str, dict[str, Price]] = {
    "gpt-4.1-2025-04-14": {"standard": (2.0, 0.5, None, 8.0), "batch": (1.0, 0.5, None, 4.0)},
    "gpt-4.1-mini-2025-04-14": {"standard": (0.4, 0.1, None, 1.6), "batch": (0.2, 0.1, None, 0.8)},
    "gpt-4o-2024-08-06": {"standard": (2.5, 1.25, None, 10.0), "batch": (1.25, 1.25, None, 5.0)},
    "text-embedding-3-large": {"standard": (0.13, None, None, 0.0)},
    FT_MODEL: {"standard": (0.8, 0.2, None, 3.2)},
    "claude-sonnet-4-5-20250929": {"standard": (3.0, 0.3, 3.75, 15.0), "batch": (1.5, 0.15, 1.875, 7.5)},
    "claude-opus-4-1-20250805": {"standard": (15.0, 1.5, 18.75, 75.0), "batch": (7.5, 0.75, 9.375, 37.5)},
    "claude-sonnet-4-20250514": {"standard": (3.0, 0.3, 3.75, 15.0)},
}


def billed_price(model: str, batch: bool) -> Price | None:
    """What the provider bills: every model, at its tier."""
    tiers = LIST_PRICES.get(model)
    if tiers is None:
        return None
    return tiers["batch"] if batch and "batch" in tiers else tiers["standard"]


def gateway_price(model: str, batch: bool) -> Price | None:
    """What LiteLLM states as `spend`: its price map has no fine-tuned model (it then states 0)."""
    return None if model == FT_MODEL else billed_price(model, batch)


def _hours(peak: float, width: float, floor: float = 0.08) -> tuple[float, ...]:
    """24 weights by UTC hour: a floor plus a bump around `peak` that wraps around midnight."""
    h = np.arange(24)
    dist = np.minimum(np.abs(h - peak), 24 - np.abs(h - peak))
    return tuple(float(x) for x in floor + np.exp(-0.5 * (dist / width) ** 2))


def _window(start: int, end: int) -> tuple[float, ...]:
    """24 weights: traffic only in hours [start, end) (a nightly job)."""
    return tuple(1.0 if start <= h < end else 0.0 for h in range(24))


US_DAY = _hours(16.0, 3.2)          # 9:00-17:00 US Eastern, peak 12:00 ET
US_EVENING = _hours(1.0, 3.5)       # the consumer app: evenings in the US
NIGHT = _window(1, 5)               # nightly jobs, 01:00-05:00 UTC

SUPPORT_PROMPT = ("You are Acme Financial's support assistant. Answer from the help-centre articles below, in the "
                  "customer's language; never ask for a full card number or a password; hand over to a human when "
                  "the customer asks or when money has left the account. Articles: ")
AGENT_PROMPT = ("You are Opsy, Acme's on-call operations agent. You can call the tools listed below (Jira, GitHub, "
                "Datadog, PagerDuty, Confluence, Slack). Investigate the alert, gather evidence with tools, propose "
                "a remediation and write the incident timeline. Tool schemas follow. Alert: ")

# request-grain workloads behind the LiteLLM proxy (the virtual key's alias names the app)
GATEWAY: tuple[Workload, ...] = (
    Workload("support-chat", "openai", "gpt-4.1-mini-2025-04-14", 1000, 3300, 0.3, 280, 0.5, cached_prefix=2048,
             pii_rate=0.14, pii_kinds=(0, 0, 1, 1, 2), failure_rate=0.004, project="team-support",
             template=SUPPORT_PROMPT, hour_profile=US_DAY, key_alias="support-bot", turns=3.0),
    Workload("app-assistant", "openai", "gpt-4o-2024-08-06", 2000, 4500, 0.55, 300, 0.6, cached_prefix=1536,
             burst=6.0, pii_rate=0.05, pii_kinds=(0, 1), project="team-app", hour_profile=US_EVENING,
             weekend_factor=1.15, key_alias="pal-app", turns=4.0,
             template="You are Pal, the friendly money assistant in the Acme app. Keep answers short. Chat so far:"),
    Workload("ops-agent", "anthropic", "claude-sonnet-4-5-20250929", 700, 48000, 0.3, 900, 0.5, tool_share=0.85,
             pii_rate=0.01, pii_kinds=(0,), failure_rate=0.01, project="team-platform", template=AGENT_PROMPT,
             hour_profile=_hours(15.0, 4.0), weekend_factor=0.2, key_alias="platform-shared",
             incidents=((20, 14.0, 0.75, 0.35),)),
    Workload("receipt-ocr", "openai", "gpt-4.1-2025-04-14", 250, 1700, 0.25, 220, 0.4, pii_rate=0.2, pii_kinds=(0,),
             project="team-expenses", hour_profile=_hours(17.0, 3.5), weekend_factor=0.5, key_alias="expense-ocr",
             template="Read the attached receipt image and return merchant, date, currency, total and VAT as JSON:"),
    Workload("dispute-triage", "openai", FT_MODEL, 350, 900, 0.4, 6, 0.3, pii_rate=0.7, pii_kinds=(2, 2, 0, 1),
             project="team-disputes", hour_profile=US_DAY, weekend_factor=0.3, key_alias="disputes-triage",
             template="Classify this card dispute as fraud, merchant_error, not_received or other. Dispute:"),
    Workload("earnings-digest", "anthropic", "claude-opus-4-1-20250805", 160, 21000, 0.25, 2600, 0.35,
             project="team-research", hour_profile=NIGHT, weekend_factor=0.0, key_alias="research-digest",
             template="Analyse the earnings-call transcript below for Acme's analysts: guidance changes, risks, "
                      "and what changed since last quarter, with quotes. Transcript:"),
)

# request-grain workloads in the legal team's AWS account (Bedrock invocation logs)
BEDROCK: tuple[Workload, ...] = (
    Workload("contract-review", "aws", "claude-sonnet-4-20250514", 60, 110000, 0.3, 1500, 0.4, pii_rate=0.5,
             pii_kinds=(0, 1, 0, 1, 4), project="legal", hour_profile=_hours(15.0, 3.0), weekend_factor=0.15,
             template="Review the attached contract for Acme Legal: parties, term, termination, liabilities, "
                      "unusual clauses, and a one-page summary. Contract text:"),
)


@dataclass(frozen=True)
class BucketWorkload:
    """Traffic that only a provider's usage export sees: hourly sums, no prompts."""

    name: str
    provider: str
    model: str
    project: str                  # OpenAI project id / Anthropic workspace id
    requests_per_day: float       # on a weekday
    input_median: float
    input_sigma: float
    output_median: float
    output_sigma: float
    hour_profile: tuple[float, ...]
    cached_share: float = 0.0     # share of input read from the provider's prompt cache
    batch: bool = False           # sent through the provider's batch API
    weekend_factor: float = 0.5
    kind: str = "completions"     # OpenAI usage kind: completions | embeddings


DIRECT: tuple[BucketWorkload, ...] = (
    BucketWorkload("kyc-extraction", "openai", "gpt-4.1-2025-04-14", "proj_kyc", 125_000, 3000, 0.35, 320, 0.3,
                   NIGHT, batch=True, weekend_factor=0.6),
    BucketWorkload("claims-copilot", "openai", "gpt-4.1-2025-04-14", "proj_claims", 42_000, 6800, 0.45, 430, 0.5,
                   _hours(15.0, 3.0, floor=0.02), cached_share=0.22, weekend_factor=0.15),
    BucketWorkload("news-summaries", "openai", "gpt-4.1-2025-04-14", "proj_content", 18_000, 2400, 0.3, 240, 0.3,
                   _hours(13.0, 5.0, floor=0.35), weekend_factor=0.8),
    BucketWorkload("doc-embeddings", "openai", "text-embedding-3-large", "proj_search", 60_000, 800, 0.5, 1, 0.0,
                   _hours(14.0, 5.0, floor=0.3), weekend_factor=0.4, kind="embeddings"),
    BucketWorkload("research-analyst", "anthropic", "claude-opus-4-1-20250805", "wrkspc_research", 600, 9000, 0.5,
                   1200, 0.5, _hours(14.0, 3.0), cached_share=0.55, weekend_factor=0.1),
)

GATEWAY_PROJECT = {"openai": "proj_gateway", "anthropic": "wrkspc_gateway"}


# ---------------------------------------------------------------- the company's own planner.toml

CONFIG = '''\
# planner.toml of the demo company (Acme Financial): what its platform team declared about its traffic.
# `planner demo` runs with this file unless you pass --config.

[sensitivity]
# provider usage exports carry no prompt text: their rows are internal unless a rule below says more
default = "internal"

[[sensitivity.rules]]
# KYC documents and insurance claims carry customer identities: compliance classes them regulated
where = "project in ('proj_kyc', 'proj_claims')"
sensitivity = "regulated"

[[sensitivity.rules]]
# news summaries are written from public articles
where = "project = 'proj_content'"
sensitivity = "public"

# direct integrations, by OpenAI project or Anthropic workspace
[[workloads.rules]]
name = "kyc-extraction"
where = "project = 'proj_kyc'"
kind = "extraction"

[[workloads.rules]]
name = "claims-copilot"
where = "project = 'proj_claims'"
kind = "rag_qa"

[[workloads.rules]]
name = "news-summaries"
where = "project = 'proj_content'"

[[workloads.rules]]
name = "doc-embeddings"
where = "project = 'proj_search'"

[[workloads.rules]]
name = "research-analyst"
where = "project = 'wrkspc_research'"
kind = "reasoning"

# apps behind the LiteLLM proxy, by the alias of their virtual key
[[workloads.rules]]
name = "support-chat"
where = "tags['key_alias'] = 'support-bot'"

[[workloads.rules]]
name = "app-assistant"
where = "tags['key_alias'] = 'pal-app'"

[[workloads.rules]]
name = "receipt-ocr"
where = "tags['key_alias'] = 'expense-ocr'"
kind = "vision"

[[workloads.rules]]
name = "dispute-triage"
where = "tags['key_alias'] = 'disputes-triage'"

[[workloads.rules]]
# a nightly job, sent one request at a time (not through the batch API)
name = "earnings-digest"
where = "tags['key_alias'] = 'research-digest'"
kind = "reasoning"
mode = "batch"

# the legal team's AWS account
[[workloads.rules]]
name = "contract-review"
where = "provider = 'aws'"
'''


# ---------------------------------------------------------------- traffic

def bucket_traffic(workloads: tuple[BucketWorkload, ...] = DIRECT, *, days: int = 30, seed: int = 7,
                   scale: float = 1.0, start: datetime = gen.DEFAULT_START) -> pa.Table:
    """Hourly sums per workload: ts (the hour), workload, provider, model, project, batch, kind, requests,
    input/cached/cache-write/output tokens. Each request is drawn (lognormal sizes), then summed."""
    rng = np.random.default_rng([seed, 2])
    start_h = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "h")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("hour", "w", "requests", "input", "cached", "output")}
    for wi, w in enumerate(workloads):
        weights = np.asarray(w.hour_profile, dtype=float)
        weights = weights / weights.sum()
        for d in range(days):
            weekday = (start + timedelta(days=d)).weekday()
            lam = w.requests_per_day * scale * (1.0 if weekday < 5 else w.weekend_factor) * weights
            n = rng.poisson(lam)
            total = int(n.sum())
            if total == 0:
                continue
            inp = np.maximum(8, rng.lognormal(math.log(w.input_median), w.input_sigma, total)).astype(np.int64)
            out = np.maximum(1, rng.lognormal(math.log(w.output_median), w.output_sigma, total)).astype(np.int64)
            if w.kind == "embeddings":
                out = np.zeros(total, dtype=np.int64)
            which = np.repeat(np.arange(24), n)
            keep = n > 0
            sums_in = np.bincount(which, weights=inp, minlength=24)[keep].astype(np.int64)
            cols["hour"].append(np.arange(24)[keep] + 24 * d)
            cols["w"].append(np.full(int(keep.sum()), wi))
            cols["requests"].append(n[keep])
            cols["input"].append(sums_in)
            cols["cached"].append(np.floor(sums_in * w.cached_share).astype(np.int64))
            cols["output"].append(np.bincount(which, weights=out, minlength=24)[keep].astype(np.int64))
    flat = {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in cols.items()}
    wsel = flat["w"].astype(np.int64)

    def per_w(attr: str, dtype: type = object) -> np.ndarray:
        return np.array([getattr(w, attr) for w in workloads], dtype=dtype)[wsel]

    ts = (start_h + flat["hour"].astype("timedelta64[h]")).astype("datetime64[us]")
    table = pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "workload": pa.array(per_w("name"), pa.string()),
        "provider": pa.array(per_w("provider"), pa.string()),
        "model": pa.array(per_w("model"), pa.string()),
        "project": pa.array(per_w("project"), pa.string()),
        "batch": pa.array(per_w("batch", bool), pa.bool_()),
        "kind": pa.array(per_w("kind"), pa.string()),
        "requests": pa.array(flat["requests"].astype(np.int64), pa.int64()),
        "input_tokens": pa.array(flat["input"], pa.int64()),
        "cached_input_tokens": pa.array(flat["cached"], pa.int64()),
        "cache_write_tokens": pa.array(np.zeros(len(wsel), dtype=np.int64), pa.int64()),
        "output_tokens": pa.array(flat["output"], pa.int64()),
    })
    return table.sort_by([("ts", "ascending"), ("workload", "ascending")])


def request_traffic(*, days: int = 30, seed: int = 7, scale: float = 1.0,
                    start: datetime = gen.DEFAULT_START) -> tuple[pa.Table, pa.Table]:
    """The gateway's and Bedrock's request rows (with prompts)."""
    gateway = gen.traffic(days=days, seed=seed, scale=scale, workloads=GATEWAY, start=start, prices=gateway_price,
                          id_prefix="litellm")
    bedrock = gen.traffic(days=days, seed=seed + 1000, scale=scale, workloads=BEDROCK, start=start,
                          prices=billed_price, id_prefix="bedrock")
    return gateway, bedrock


def weekday_request_rows() -> float:
    """Request-grain rows on a weekday at scale 1 (what `--rows-per-day` scales)."""
    return sum(w.requests_per_day for w in GATEWAY + BEDROCK)


# ---------------------------------------------------------------- exports

@dataclass(frozen=True)
class Pulls:
    """The time windows each export covers, in days from the start (fractions allowed)."""

    openai: tuple[tuple[float, float], ...]
    partial_hour: float | None     # the first OpenAI pull ran mid-hour: its last bucket is incomplete
    litellm: tuple[tuple[float, float], ...]
    anthropic: tuple[tuple[float, float], ...]
    bedrock: tuple[tuple[float, float], ...]

    @classmethod
    def for_days(cls, days: int) -> Pulls:
        if days < 8:
            whole = ((0.0, float(days)),)
            return cls(whole, None, whole, whole, whole)
        a, b = max(3, round(days * 0.4)), days // 2
        half = days // 2 + 1
        return cls(openai=((0.0, a), (a - 2.0, b + 0.25), (b + 1.0, float(days))), partial_hour=a - 1 / 24,
                   litellm=((0.0, half), (half - 1.0, float(days))),
                   anthropic=((0.0, half), (half - 1.0, float(days))),
                   bedrock=((0.0, float(half)), (float(half), float(days))))


def _at(start: datetime, days: float) -> datetime:
    return start + timedelta(days=days)


def _name(prefix: str, start: datetime, lo: float, hi: float, suffix: str) -> str:
    last = _at(start, hi) - timedelta(seconds=1)
    return f"{prefix}_{_at(start, lo):%Y-%m-%d}_{last:%Y-%m-%d}{suffix}"


def _slice(table: pa.Table, start: datetime, lo: float, hi: float) -> pa.Table:
    ts = table.column("ts")
    return table.filter(pc.and_(pc.greater_equal(ts, pa.scalar(_at(start, lo), ts.type)),
                                pc.less(ts, pa.scalar(_at(start, hi), ts.type))))


def _ok(table: pa.Table) -> pa.Table:
    return table.filter(pc.equal(table.column("status"), "ok"))


def _where(table: pa.Table, column: str, value: object) -> pa.Table:
    return table.filter(pc.equal(table.column(column), value))


def _incomplete_last_hour(table: pa.Table, hour: datetime) -> pa.Table:
    """The pull ran at half past: the hour it ran in holds about half of its requests so far."""
    ts = table.column("ts")
    last = pc.equal(ts, pa.scalar(hour, ts.type))
    out = table
    for col in ("requests", "input_tokens", "cached_input_tokens", "output_tokens"):
        values = table.column(col)
        halved = pc.cast(pc.floor(pc.divide(pc.cast(values, pa.float64()), 2.0)), pa.int64())
        out = out.set_column(out.column_names.index(col), col, pc.if_else(last, halved, values))
    return out


def _billing_rows(gateway: pa.Table, bedrock: pa.Table, buckets: pa.Table) -> pa.Table:
    """What each provider bills: successful requests and every bucket, summed the way the writers sum them.
    Gateway traffic is billed to the gateway's own OpenAI project / Anthropic workspace."""
    cols = ["ts", "provider", "model", "project", "batch", "requests", "input_tokens", "cached_input_tokens",
            "cache_write_tokens", "output_tokens"]

    def requests_of(t: pa.Table, project: str | None) -> pa.Table:
        t = _ok(t)
        ones = pa.array(np.ones(t.num_rows, dtype=np.int64), pa.int64())
        proj = pa.array([project] * t.num_rows, pa.string()) if project else t.column("project")
        return pa.table({**{c: t.column(c) for c in cols if c not in ("requests", "project")},
                         "requests": ones, "project": proj}).select(cols)

    parts = []
    for provider, project in GATEWAY_PROJECT.items():
        parts.append(requests_of(_where(gateway, "provider", provider), project))
    parts.append(requests_of(bedrock, None))
    parts.append(buckets.select(cols))
    return pa.concat_tables([p.cast(parts[-1].schema) for p in parts])


def generate_company(out: Path, *, days: int = 30, seed: int = 7, scale: float = 1.0,
                     start: datetime = gen.DEFAULT_START, config: bool = True) -> list[Written]:
    """Write the company's exports under `out` (one folder per source), `out/README.md` saying where each
    came from, and (with `config`) `out/planner.toml`, the rules its platform team declared."""
    out.mkdir(parents=True, exist_ok=True)
    gateway, bedrock = request_traffic(days=days, seed=seed, scale=scale, start=start)
    buckets = bucket_traffic(days=days, seed=seed, scale=scale, start=start)
    pulls = Pulls.for_days(days)
    written: list[Written] = []

    def note(fmt: str, path: Path, rows: int) -> None:
        written.append(Written(fmt, path, rows))

    # LiteLLM proxy: two dumps of LiteLLM_SpendLogs that share a day
    for lo, hi in pulls.litellm:
        part = _slice(gateway, start, lo, hi)
        path = out / "litellm" / _name("LiteLLM_SpendLogs", start, lo, hi, ".csv")
        note("litellm-csv", gen.write_litellm_csv(part, path), part.num_rows)

    # OpenAI direct projects: hourly usage pulls of completions and embeddings (overlapping, one incomplete
    # hour, one started late); each pull saves both endpoints' pages in one file
    openai = _where(buckets, "provider", "openai")
    for i, (lo, hi) in enumerate(pulls.openai):
        part = _slice(openai, start, lo, hi)
        if i == 0 and pulls.partial_hour is not None:
            part = _incomplete_last_hour(part, _at(start, pulls.partial_hour))
        path = out / "openai" / _name("usage", start, lo, hi, ".jsonl")
        window = (_at(start, lo), _at(start, hi))
        gen.write_openai_usage(_where(part, "kind", "completions"), path, window=window, batch=True)
        embeddings = path.with_name(path.name + ".part")
        gen.write_openai_usage(_where(part, "kind", "embeddings"), embeddings, window=window, kind="embeddings")
        with path.open("ab") as f:
            f.write(embeddings.read_bytes())
        embeddings.unlink()
        note("openai-usage", path, part.num_rows)

    billing = _billing_rows(gateway, bedrock, buckets)
    for provider, fmt, writer in (("openai", "openai-costs", gen.write_openai_costs),
                                  ("anthropic", "anthropic-cost", gen.write_anthropic_cost)):
        rows = _where(billing, "provider", provider)
        name = "costs" if provider == "openai" else "cost_report"
        path = out / provider / _name(name, start, 0, days, ".jsonl")
        note(fmt, writer(rows, path, prices=billed_price), rows.num_rows)

    # Anthropic research workspace: two usage-report pulls that share a day
    research = _where(buckets, "provider", "anthropic")
    for lo, hi in pulls.anthropic:
        part = _slice(research, start, lo, hi)
        path = out / "anthropic" / _name("usage_report_messages", start, lo, hi, ".jsonl")
        gen.write_anthropic_usage(part, path, window=(_at(start, lo), _at(start, hi)))
        note("anthropic-usage", path, part.num_rows)

    # Bedrock: the legal account's S3 logging prefix, synced twice a month (each sync's daily objects
    # concatenated into one gzip stream); FOCUS bills them
    for lo, hi in pulls.bedrock:
        part = _slice(bedrock, start, lo, hi)
        path = out / "aws" / "bedrock" / _name("model_invocations", start, lo, hi, ".jsonl.gz")
        note("bedrock", gen.write_bedrock(part, path, account=ACCOUNT), part.num_rows)
    aws = _where(billing, "provider", "aws")
    path = out / "aws" / "focus" / _name("focus_cost_and_usage", start, 0, days, ".csv")
    note("focus", gen.write_focus(aws, path, account=ACCOUNT, prices=billed_price), aws.num_rows)

    (out / "README.md").write_text(readme(days, start, pulls), encoding="utf-8")
    if config:
        (out / "planner.toml").write_text(CONFIG, encoding="utf-8")
    return written


def readme(days: int, start: datetime, pulls: Pulls) -> str:
    """Where each export came from (planner skips this file when it walks the folder)."""
    lines = [f"# {NAME}: {days} days of LLM exports from {start:%Y-%m-%d} (synthetic)", "",
             "Generated by `planner generate` (planner/company.py); deterministic by seed.", "",
             "| folder | what | how it was exported |", "| --- | --- | --- |",
             "| litellm/ | LiteLLM proxy spend logs, prompts stored | `\\copy \"LiteLLM_SpendLogs\" TO ... CSV HEADER`, "
             "in dumps that share a day |",
             "| openai/usage_* | OpenAI Usage API, the direct projects (`project_ids[]` = proj_kyc, proj_claims, "
             "proj_content, proj_search): completions and embeddings pages, `bucket_width=1h`, "
             "`group_by=project_id,model,batch` | pulls that overlap; the first ran at half past its last hour |",
             "| openai/costs_* | OpenAI Costs API, whole organization, `group_by=line_item,project_id` | one pull |",
             "| anthropic/usage_report_* | Anthropic usage report, research workspace, `1h` | pulls that share a day |",
             "| anthropic/cost_report_* | Anthropic cost report, whole organization | one pull |",
             "| aws/bedrock/ | Bedrock model invocation logs (legal account) from the S3 logging bucket | "
             "synced twice, each sync's objects concatenated |",
             "| aws/focus/ | AWS FOCUS 1.2 cost and usage export, Bedrock lines | one file |", ""]
    if pulls.partial_hour is not None:
        gap_from = _at(start, pulls.openai[1][1])
        gap_to = _at(start, pulls.openai[2][0])
        lines += [f"The OpenAI usage pulls leave {gap_from:%Y-%m-%d %H:%M} to {gap_to:%Y-%m-%d %H:%M} UTC uncovered "
                  "(the third pull started a day late); the Costs API bills those hours. planner's reconciliation "
                  "flags that day.", ""]
    return "\n".join(lines)


def scale_for(rows_per_day: int | None) -> float:
    return 1.0 if not rows_per_day else rows_per_day / weekday_request_rows()
