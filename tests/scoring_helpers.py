"""Synthetic upstream tables for scoring tests: `segments` (segmentation), `api_price_book` (pricing)
and a `usage_enriched` that carries segment_id and cost (both placeholders until those branches merge).

Created with CREATE ... IF NOT EXISTS in the test database only, never in a migration.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

SEGMENTS_DDL = """
create table if not exists segments (
    segment_id varchar, workload varchar, workload_source varchar, workload_kind varchar, sensitivity varchar,
    context_band varchar, mode varchar, requests bigint, failed_requests bigint, input_tokens bigint,
    cached_input_tokens bigint, output_tokens bigint, cost_usd decimal(38, 10), first_ts timestamp, last_ts timestamp,
    p50_input double, p95_input double, p99_input double, p50_output double, p95_output double, p99_output double,
    cached_share double, mean_per_minute double, peak_per_minute double, peak_to_mean double,
    variance_to_mean double, empty_minutes bigint, longest_idle_s double, coarse_timestamps boolean, run_id varchar
)
"""

PRICE_BOOK_DDL = """
create table if not exists api_price_book (
    provider varchar, model_ref varchar, catalog_model varchar, variant varchar,
    input_mtok decimal(38, 10), cached_input_mtok decimal(38, 10), cache_write_mtok decimal(38, 10),
    output_mtok decimal(38, 10), long_context_start bigint, long_input_mtok decimal(38, 10),
    long_cached_input_mtok decimal(38, 10), long_output_mtok decimal(38, 10), snapshot_date date, source varchar
)
"""

# usage_enriched as the pricing and segmentation stages will fill it: cost and segment per row
ENRICHED_VIEW = """
create or replace view usage_enriched as
select
    u.*,
    cast(null as varchar) as price_key,
    u.billed_cost_usd as cost_usd,
    u.billed_cost_usd is not null as priced,
    '<=8K' as context_band,
    case when u.batch then 'batch' else 'interactive' end as mode,
    u.workload as segment_id
from usage as u
"""

# unit prices (USD per million) as genai-prices 0.2.3 lists them (capacity.md §4)
BOOK = [
    ("anthropic", "claude-sonnet-4-5", None, "standard", "3", "0.30", "3.75", "15"),
    ("anthropic", "claude-sonnet-4-5", None, "batch", "1.5", "0.15", None, "7.5"),
    ("anthropic", "claude-haiku-4-5", None, "standard", "1", "0.10", "1.25", "5"),
    ("anthropic", "claude-haiku-4-5", None, "batch", "0.5", "0.05", None, "2.5"),
    ("openai", "gpt-5-mini", None, "standard", "0.25", "0.025", None, "2"),
    ("openai", "gpt-5-mini", None, "batch", "0.125", "0.0125", None, "1"),
    ("groq", "llama-3.3-70b-versatile", "llama-3.3-70b", "standard", "0.59", None, None, "0.79"),
    ("novita", "meta-llama/llama-3.3-70b-instruct", "llama-3.3-70b", "standard", "0.135", None, None, "0.40"),
    ("groq", "openai/gpt-oss-120b", "gpt-oss-120b", "standard", "0.15", "0.075", None, "0.60"),
    ("groq", "openai/gpt-oss-120b", "gpt-oss-120b", "batch", "0.075", "0.0375", None, "0.30"),
    ("groq", "llama-3.1-8b-instant", "llama-3.1-8b", "standard", "0.05", None, None, "0.08"),
    ("openrouter", "qwen/qwen3-32b", "qwen3-32b", "standard", "0.14", "0.09", None, "0.40"),
]

T0 = datetime(2026, 10, 1)


def setup_tables(con: Any, *, price_book: bool = True) -> None:
    con.execute(SEGMENTS_DDL)
    con.execute(ENRICHED_VIEW)
    if price_book:
        con.execute(PRICE_BOOK_DDL)
        con.execute("delete from api_price_book")
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                             "where table_name = 'api_price_book'").fetchall()}
        if "offer_kind" in columns:  # the pricing stage's real table
            con.executemany(
                "insert into api_price_book (provider, model_ref, catalog_model, variant, input_mtok, "
                "cached_input_mtok, cache_write_mtok, output_mtok, snapshot_date, source, offer_kind, open_weights, "
                "basis) values (?, ?, ?, ?, ?, ?, ?, ?, date '2026-11-20', 'test book', "
                "case when ? is null then 'current' else 'open_model' end, ? is not null, 'test')",
                [(*row, row[2], row[2]) for row in BOOK])
        else:
            con.executemany("insert into api_price_book (provider, model_ref, catalog_model, variant, input_mtok, "
                            "cached_input_mtok, cache_write_mtok, output_mtok, snapshot_date, source) "
                            "values (?, ?, ?, ?, ?, ?, ?, ?, date '2026-11-20', 'test book')", BOOK)


def segment(segment_id: str, *, requests: int = 600_000, input_per: float = 3600, output_per: float = 400,
            cached_share: float = 0.6, kind: str | None = "chat", sensitivity: str | None = "internal",
            mode: str = "interactive", days: float = 30, peak_to_mean: float = 2.9, cost_usd: Decimal | None = None,
            provider: str = "anthropic", model: str = "claude-sonnet-4-5", p99_input: float | None = None,
            workload_source: str = "rule", batch: bool = False, coarse: bool = False) -> dict[str, Any]:
    """One segment and the usage row behind it (priced at `model`'s book price unless cost_usd is given)."""
    inp = int(requests * input_per)
    cached = int(inp * cached_share)
    out = int(requests * output_per)
    if cost_usd is None:
        price = {r[1]: r for r in BOOK if r[3] == ("batch" if batch else "standard")}.get(model)
        if price is not None:
            i, c, o = (Decimal(price[4]), Decimal(price[5] or price[4]), Decimal(price[7]))
            cost_usd = ((inp - cached) * i + cached * c + out * o) * Decimal("0.000001")
    minutes = days * 24 * 60
    return {
        "segment_id": segment_id, "workload": segment_id, "workload_source": workload_source, "workload_kind": kind,
        "sensitivity": sensitivity, "context_band": "<=8K" if input_per <= 8192 else "8K-32K", "mode": mode,
        "requests": requests, "failed_requests": 0, "input_tokens": inp, "cached_input_tokens": cached,
        "output_tokens": out, "cost_usd": cost_usd, "first_ts": T0, "last_ts": T0 + timedelta(days=days),
        "p50_input": input_per, "p95_input": input_per * 1.5, "p99_input": p99_input or input_per * 2,
        "p50_output": output_per, "p95_output": output_per * 1.5, "p99_output": output_per * 2,
        "cached_share": cached_share, "mean_per_minute": requests / minutes,
        "peak_per_minute": requests / minutes * peak_to_mean, "peak_to_mean": peak_to_mean, "variance_to_mean": 1.0,
        "empty_minutes": 0, "longest_idle_s": 60.0, "coarse_timestamps": coarse,
        "_provider": provider, "_model": model, "_batch": batch,
    }


def minute_profile(requests: int, days: float = 30, *, peak_mult: float = 1.0, peak_share: float = 0.0,
                   idle_share: float = 0.0) -> list[dict[str, int]]:
    """A per-minute arrival histogram (`segments.minute_histogram`) with a known shape: `idle_share` of the
    minutes empty, `peak_share` of them at `peak_mult` x the base rate, the rest at the base rate; the
    arrivals add up to about `requests`."""
    minutes = int(round(days * 1440))
    idle = int(round(minutes * idle_share))
    peaks = int(round(minutes * peak_share))
    base_minutes = minutes - idle - peaks
    base = max(int(round(requests / (base_minutes + peaks * peak_mult))), 1)
    hist = [{"arrivals": base, "minutes": base_minutes}]
    if peaks:
        hist.append({"arrivals": int(round(base * peak_mult)), "minutes": peaks})
    if idle:
        hist.insert(0, {"arrivals": 0, "minutes": idle})
    return hist


def insert_segments(con: Any, run_id: str, segments: list[dict[str, Any]]) -> None:
    """segments rows for the run, plus one usage row per segment carrying its provider, model and cost."""
    cols = [c for c in segments[0] if not c.startswith("_")]
    con.executemany(
        f"insert into segments ({', '.join(cols)}, run_id) values ({', '.join('?' for _ in cols)}, ?)",
        [[s[c] for c in cols] + [run_id] for s in segments],
    )
    con.executemany(
        "insert into usage (event_id, source_id, source_row, grain, ts, provider, model, model_ref, workload, requests, "
        "input_tokens, cached_input_tokens, output_tokens, batch, status, billed_cost_usd, sensitivity) "
        "values (CAST(md5(?) AS UUID), 'test', 1, 'bucket', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?)",
        [[f"{run_id}:{s['segment_id']}", s["first_ts"], s["_provider"], s["_model"], s["_model"], s["segment_id"],
          s["requests"], s["input_tokens"], s["cached_input_tokens"], s["output_tokens"], s["_batch"], s["cost_usd"],
          s["sensitivity"]] for s in segments],
    )
