"""openrouter: OpenRouter generation records, the activity CSV export, and `/api/v1/activity` days.

- Generation records (`GET /api/v1/generation?id=...`): `{"data": {...}}` objects, one per line or in
  an array, or the bare objects. Tokens are the provider's own (`native_tokens_*`):
  `native_tokens_prompt` includes `native_tokens_cached`; `native_tokens_completion` includes
  `native_tokens_reasoning`. OpenRouter reports no cache writes: `cache_write_tokens` is NULL.
- Activity CSV export (one row per generation, from the Activity page): `tokens_*` columns.
- `GET /api/v1/activity` (`{"data": [...]}`, one row per day × model × endpoint): bucket grain.

`provider` is `openrouter` (who bills); the provider that served the call is `tags['serving_provider']`.
`total_cost` / `cost_total` / `usage` → `billed_cost_usd` (USD credits). Latency: a generation record's
`latency` is the total latency (the SDK reference: "Total latency in milliseconds"; its example has
`latency` = `generation_time` + `moderation_latency`); it has no time to first token. The activity
export has `generation_time_ms` (→ `latency_ms`) and `time_to_first_token_ms` (→ `ttft_ms`).
Shapes: `fixtures/openrouter/README.md`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.db import quote_ident, quote_literal
from planner.errors import InputError
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest import _records as rec
from planner.ingest._stage import FieldSource, MappedSource, RowCheck, commit, stage

if TYPE_CHECKING:
    import duckdb

FORMAT = "openrouter"

GENERATION = (
    "id", "upstream_id", "created_at", "model", "provider_name", "app_id", "external_user", "origin", "api_type",
    "router", "streamed", "cancelled", "is_byok", "finish_reason", "native_finish_reason", "latency",
    "generation_time", "moderation_latency", "tokens_prompt", "tokens_completion", "native_tokens_prompt",
    "native_tokens_completion", "native_tokens_reasoning", "native_tokens_cached", "num_media_prompt",
    "num_search_results", "total_cost", "cache_discount", "upstream_inference_cost", "service_tier", "data_region",
)
ACTIVITY_CSV = (
    "generation_id", "created_at", "cost_total", "cost_web_search", "cost_cache", "cost_file_processing",
    "byok_usage_inference", "tokens_prompt", "tokens_completion", "tokens_reasoning", "tokens_cached",
    "model_permaslug", "provider_name", "variant", "cancelled", "streamed", "user", "finish_reason_raw",
    "finish_reason_normalized", "generation_time_ms", "time_to_first_token_ms", "app_name", "api_key_name",
)
ACTIVITY_DAYS = (
    "date", "model", "model_permaslug", "endpoint_id", "provider_name", "usage", "byok_usage_inference",
    "requests", "prompt_tokens", "completion_tokens", "reasoning_tokens",
)
_KINDS = {"embeddings": "embeddings", "tts": "audio_speeches", "stt": "audio_transcriptions",
          "images": "images", "image": "images"}


def _shape_of_record(first: dict[str, Any] | None) -> str | None:
    if not first:
        return None
    if "native_tokens_prompt" in first or (str(first.get("id", "")).startswith("gen-") and "created_at" in first
                                           and "model" in first):
        return "generation"
    if all(k in first for k in ("date", "model_permaslug", "endpoint_id", "requests")):
        return "days"
    return None


def _shape_of_columns(cols: list[str]) -> str | None:
    if "generation_id" in cols and "created_at" in cols and ("cost_total" in cols or "tokens_prompt" in cols):
        return "activity_csv"
    return None


def shape(file: SourceFile) -> str | None:
    if file.container in ("json", "jsonl"):
        return _shape_of_record(rec.first_record(file.head, file.container, unwrap="data"))
    return _shape_of_columns(rec.columns_of(file.path, file.head, file.container))


def sniff(path: Path, head: bytes, container: str) -> bool:
    if container in ("json", "jsonl"):
        return _shape_of_record(rec.first_record(head, container, unwrap="data")) is not None
    return _shape_of_columns(rec.columns_of(path, head, container)) is not None


def _tags(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, f"nullif(trim({v}), '')") for k, v in pairs]


def _output_sql(completion: str, reasoning: str) -> str:
    """Completion tokens include reasoning; a row where reasoning exceeds them cannot, and is summed."""
    c, r = f"TRY_CAST({completion} AS BIGINT)", f"TRY_CAST({reasoning} AS BIGINT)"
    return f"CASE WHEN {r} > {c} THEN CAST({c} + {r} AS VARCHAR) ELSE {completion} END"


def _checks() -> list[RowCheck]:
    not_json, why = rec.not_json_check()
    return [RowCheck(not_json, "record", why)]


def generation_source(con: duckdb.DuckDBPyConnection, file: SourceFile) -> MappedSource:
    reader = rec.read(con, file, {c: c for c in GENERATION}, unwrap="data")
    relation = rec.layer(reader.relation, [("_output", _output_sql("native_tokens_completion", "native_tokens_reasoning"))])
    f = FieldSource
    error = "lower(finish_reason) = 'error' OR lower(native_finish_reason) = 'error'"
    kind = f"coalesce(MAP {{{', '.join(f'{quote_literal(k)}: {quote_literal(v)}' for k, v in _KINDS.items())}}}" \
           f"[lower(api_type)], 'completions')"
    fields = {
        "ts": f("created_at", "VARCHAR", "created_at"),
        "provider": f("'openrouter'", "VARCHAR"),
        "model": f("model", "VARCHAR", "model"),
        "user_id": f("external_user", "VARCHAR", "external_user"),
        "request_id": f("id", "VARCHAR", "id"),
        "input_tokens": f("native_tokens_prompt", "VARCHAR", "native_tokens_prompt"),
        "cached_input_tokens": f("native_tokens_cached", "VARCHAR", "native_tokens_cached"),
        "output_tokens": f("_output", "VARCHAR", "native_tokens_completion"),
        "reasoning_tokens": f("native_tokens_reasoning", "VARCHAR", "native_tokens_reasoning"),
        "service_tier": f("service_tier", "VARCHAR", "service_tier"),
        "status": f(f"CASE WHEN {error} THEN 'error' ELSE 'ok' END", "VARCHAR", "finish_reason"),
        "latency_ms": f("coalesce(latency, generation_time)", "VARCHAR", "latency"),
        "billed_cost_usd": f("total_cost", "VARCHAR", "total_cost"),
        "kind": f(kind, "VARCHAR", "api_type"),
    }
    tags = _tags([
        ("serving_provider", "provider_name"), ("upstream_id", "upstream_id"), ("app_id", "app_id"),
        ("origin", "origin"), ("api_type", "api_type"), ("router", "router"), ("streamed", "streamed"),
        ("cancelled", "cancelled"), ("is_byok", "is_byok"), ("finish_reason", "finish_reason"),
        ("native_finish_reason", "native_finish_reason"), ("tokens_prompt", "tokens_prompt"),
        ("tokens_completion", "tokens_completion"), ("upstream_inference_cost", "upstream_inference_cost"),
        ("cache_discount", "cache_discount"), ("moderation_latency", "moderation_latency"),
        ("generation_time", "generation_time"),
        ("num_media_prompt", "num_media_prompt"), ("num_search_results", "num_search_results"),
        ("data_region", "data_region"),
    ])
    record = [(c, quote_ident(c)) for c in GENERATION] + [("_bytes", "_bytes"), ("_start", "_start")]
    return MappedSource(relation=f"{relation} AS src", fields=fields, tags=tags, record=record, checks=_checks())


def activity_csv_source(con: duckdb.DuckDBPyConnection, file: SourceFile) -> MappedSource:
    reader = rec.read(con, file, {c: c for c in ACTIVITY_CSV})
    rec.require_columns(file, reader, ["generation_id", "created_at"], FORMAT)
    f = FieldSource
    finish = "coalesce(finish_reason_normalized, finish_reason_raw)"
    fields = {
        "ts": f("created_at", "VARCHAR", "created_at"),
        "provider": f("'openrouter'", "VARCHAR"),
        "model": f("model_permaslug", "VARCHAR", "model_permaslug"),
        "user_id": f('"user"', "VARCHAR", "user"),
        "api_key_id": f("api_key_name", "VARCHAR", "api_key_name"),
        "request_id": f("generation_id", "VARCHAR", "generation_id"),
        "input_tokens": f("tokens_prompt", "VARCHAR", "tokens_prompt"),
        "cached_input_tokens": f("tokens_cached", "VARCHAR", "tokens_cached"),
        "output_tokens": f(_output_sql("tokens_completion", "tokens_reasoning"), "VARCHAR", "tokens_completion"),
        "reasoning_tokens": f("tokens_reasoning", "VARCHAR", "tokens_reasoning"),
        "status": f(f"CASE WHEN lower({finish}) = 'error' THEN 'error' ELSE 'ok' END", "VARCHAR",
                    "finish_reason_normalized"),
        "latency_ms": f("generation_time_ms", "VARCHAR", "generation_time_ms"),
        "ttft_ms": f("time_to_first_token_ms", "VARCHAR", "time_to_first_token_ms"),
        "billed_cost_usd": f("cost_total", "VARCHAR", "cost_total"),
    }
    tags = _tags([
        ("serving_provider", "provider_name"), ("app_name", "app_name"), ("variant", "variant"),
        ("cancelled", "cancelled"), ("streamed", "streamed"), ("finish_reason", finish),
        ("cost_web_search", "cost_web_search"), ("cost_cache", "cost_cache"),
        ("cost_file_processing", "cost_file_processing"), ("byok_usage_inference", "byok_usage_inference"),
    ])
    record = [(c, quote_ident(c)) for c in ACTIVITY_CSV]
    return MappedSource(relation=f"{reader.relation} AS src", fields=fields, tags=tags, record=record)


def activity_days_source(con: duckdb.DuckDBPyConnection, file: SourceFile) -> MappedSource:
    reader = rec.read(con, file, {c: c for c in ACTIVITY_DAYS}, unwrap="data")
    f = FieldSource
    day = 'TRY_CAST(trim("date") AS DATE)'
    fields = {
        "ts": f('"date"', "VARCHAR", "date"),
        "ts_end": f(f"CAST({day} + INTERVAL 1 DAY AS VARCHAR)", "VARCHAR", "date"),
        "provider": f("'openrouter'", "VARCHAR"),
        "model": f("coalesce(model_permaslug, model)", "VARCHAR", "model_permaslug"),
        "requests": f("requests", "VARCHAR", "requests"),
        "input_tokens": f("prompt_tokens", "VARCHAR", "prompt_tokens"),
        "output_tokens": f(_output_sql("completion_tokens", "reasoning_tokens"), "VARCHAR", "completion_tokens"),
        "reasoning_tokens": f("reasoning_tokens", "VARCHAR", "reasoning_tokens"),
        "billed_cost_usd": f("usage", "VARCHAR", "usage"),
    }
    # dimensions only (a bucket's tags are part of its identity; see litellm.daily_source)
    tags = _tags([("serving_provider", "provider_name"), ("model_slug", "model"), ("endpoint_id", "endpoint_id")])
    record = [(c, quote_ident(c)) for c in ACTIVITY_DAYS] + [("_bytes", "_bytes"), ("_start", "_start")]
    checks = _checks() + [RowCheck(f'"date" IS NOT NULL AND {day} IS NULL', "ts",
                                   "'expected a date YYYY-MM-DD, got ' || to_json(left(\"date\", 40))", "date")]
    return MappedSource(relation=f"{reader.relation} AS src", fields=fields, tags=tags, record=record,
                        grain="bucket", checks=checks)


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    kind = shape(file)
    if kind == "days":
        source = activity_days_source(con, file)
    elif kind == "activity_csv" or (kind is None and file.container in ("csv", "parquet")):
        source = activity_csv_source(con, file)
    elif kind == "generation" or file.container in ("json", "jsonl"):
        source = generation_source(con, file)
    else:
        raise InputError(file.label, "not an openrouter export")
    stage(con, source, file.source_id, options)
    counts = commit(con, file.source_id, file.label, options.run_id, options=options)
    return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                      rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                      first_error=counts.first_error)
