"""openai-usage and openai-costs: OpenAI organization Usage API and Costs API pages, as saved.

Shapes (openai/openai-openapi `UsageResponse`, `UsageTimeBucket`, `Usage*Result`, `CostsResult`):
`{"object": "page", "data": [{"object": "bucket", "start_time": s, "end_time": s, "results": [...]}],
"has_more", "next_page"}`; times are Unix seconds, UTC, the bucket covers [start_time, end_time).

openai-usage: one usage row per result (grain `bucket`). `input_tokens` is already all input (cache
reads and writes included), so it is kept as is and the cache parts go to their own columns; the
per-modality breakdown and every measure of the non-token kinds (images, characters, seconds, bytes,
sessions, searches) stay in `tags`. Group-by fields are NULL unless the export was grouped by them and
stay NULL: a missing model is never invented.

openai-costs: one `charges` line per result. `amount.value` is dollars as a JSON float: it is read
through its shortest text into DECIMAL, never summed as a float.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from planner.db import quote_ident, quote_literal
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest import _charges as charges
from planner.ingest._pages import (
    BUCKET_END,
    BUCKET_START,
    Check,
    count_checks,
    extra_dims_sql,
    grouping_warnings,
    head_text,
    read_results,
    record_sql,
    refuse_mapping,
    tags_map_sql,
    usage_warnings,
    value_sql,
)
from planner.ingest._stage import FieldSource, MappedSource, commit, stage

if TYPE_CHECKING:
    import duckdb

USAGE = "openai-usage"
COSTS = "openai-costs"
PROVIDER = "openai"

# result kind (from `object`: organization.usage.<kind>.result) -> measures the spec requires
REQUIRED: dict[str, tuple[str, ...]] = {
    "completions": ("input_tokens", "output_tokens", "num_model_requests"),
    "embeddings": ("input_tokens", "num_model_requests"),
    "moderations": ("input_tokens", "num_model_requests"),
    "images": ("images", "num_model_requests"),
    "audio_speeches": ("characters", "num_model_requests"),
    "audio_transcriptions": ("seconds", "num_model_requests"),
    "vector_stores": ("usage_bytes",),
    "code_interpreter_sessions": ("num_sessions",),
    "file_searches": ("num_requests",),
    "web_searches": ("num_model_requests", "num_requests"),
}
KINDS = tuple(REQUIRED)
# kinds whose num_model_requests are API calls of their own; web search calls happen inside requests
# already counted under completions, so there they stay in tags and never add to `requests`
REQUEST_KINDS = ("completions", "embeddings", "moderations", "images", "audio_speeches", "audio_transcriptions")
INPUT_KINDS = ("completions", "embeddings", "moderations")
OUTPUT_KINDS = ("completions",)
# integer measures: checked as counts, kept out of a bucket's identity
MEASURES = {
    "input_tokens", "input_cached_tokens", "input_cache_write_tokens", "input_uncached_tokens", "output_tokens",
    "input_text_tokens", "input_audio_tokens", "input_image_tokens", "input_cached_text_tokens",
    "input_cached_audio_tokens", "input_cached_image_tokens", "output_text_tokens", "output_audio_tokens",
    "output_image_tokens", "num_model_requests", "images", "characters", "seconds", "usage_bytes", "num_sessions",
    "num_requests",
}
# result fields that land in canonical columns (never in tags)
MAPPED = {"object", "input_tokens", "input_cached_tokens", "input_cache_write_tokens", "output_tokens", "model",
          "project_id", "user_id", "api_key_id", "batch", "service_tier"}
_USAGE_OBJECT = re.compile(r'"object"\s*:\s*"organization\.usage\.[a-z_]+\.result"')
_COSTS_OBJECT = re.compile(r'"object"\s*:\s*"organization\.costs\.result"')
_BUCKET = re.compile(r'"object"\s*:\s*"bucket"')
_PAGE = re.compile(r'"object"\s*:\s*"page"')
_OBJ = '_rec."object"'


def _first_result_object(text: str) -> str | None:
    """`usage` or `costs`: which kind of result object the head shows first (a file is what it starts as)."""
    usage, costs = _USAGE_OBJECT.search(text), _COSTS_OBJECT.search(text)
    if usage and (not costs or usage.start() < costs.start()):
        return "usage"
    return "costs" if costs else None


def start_time_checks(start: str) -> list[Check]:
    """Unix milliseconds where the API writes seconds: say so instead of 'in the future'."""
    raw = f"_rec.{quote_ident(start)}"
    return [(f"regexp_full_match({raw}, '\\d{{12,}}')", "ts", start,
             quote_literal(f"{start} looks like Unix milliseconds; the API writes Unix seconds"))]


# ---------------------------------------------------------------- openai-usage

class OpenAIUsage:
    """`openai-usage`: Usage API pages for every kind, one row per bucket result."""

    format = USAGE

    def sniff(self, path: Path, head: bytes, container: str) -> bool:
        if container not in ("json", "jsonl"):
            return False
        text = head_text(head)
        first = _first_result_object(text)
        if first is not None:
            return first == "usage"
        # a page whose buckets are all empty, or with no bucket at all, looks the same for usage and costs:
        # claim it here (it loads 0 rows)
        return bool((_BUCKET.search(text) and '"start_time"' in text and '"results"' in text) or _PAGE.search(text))

    def build(self, con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> MappedSource:
        res = read_results(con, file, start="start_time", end="end_time", what="OpenAI Usage API")
        leaves = res.leaves
        obj = leaves.get("object")
        kind_of = (f"CASE WHEN regexp_extract({obj.text}, '^organization\\.usage\\.([a-z_]+)\\.result$', 1) IN "
                   f"({', '.join(quote_literal(k) for k in KINDS)}) "
                   f"THEN regexp_extract({obj.text}, '^organization\\.usage\\.([a-z_]+)\\.result$', 1) END"
                   if obj else "CAST(NULL AS VARCHAR)")
        inner = res.relation.removesuffix(" AS src")
        relation = f"(SELECT *, {kind_of} AS _kind FROM {inner} AS src) AS src"

        def leaf_src(path: str, kinds: tuple[str, ...] | None = None) -> FieldSource:
            leaf = leaves.get(path)
            if leaf is None:
                return FieldSource(sql="CAST(NULL AS BIGINT)", type="BIGINT", column=path)
            if kinds is None:
                return FieldSource(sql=leaf.sql, type=leaf.type, column=path)
            in_kinds = ", ".join(quote_literal(k) for k in kinds)
            return FieldSource(sql=f"CASE WHEN src._kind IN ({in_kinds}) THEN {leaf.sql} END", type=leaf.type,
                               column=path)

        fields: dict[str, FieldSource] = {
            "ts": FieldSource(sql=f"src.{BUCKET_START}", type=res.start_type, column="start_time"),
            "ts_end": FieldSource(sql=f"src.{BUCKET_END}", type=res.end_type, column="end_time"),
            "provider": FieldSource(sql=quote_literal(PROVIDER), type="VARCHAR"),
            "kind": FieldSource(sql="src._kind", type="VARCHAR", column="object"),
            "requests": leaf_src("num_model_requests", REQUEST_KINDS),
            "input_tokens": leaf_src("input_tokens", INPUT_KINDS),
            "cached_input_tokens": leaf_src("input_cached_tokens", OUTPUT_KINDS),
            "cache_write_tokens": leaf_src("input_cache_write_tokens", OUTPUT_KINDS),
            "output_tokens": leaf_src("output_tokens", OUTPUT_KINDS),
        }
        for target, path in (("model", "model"), ("project", "project_id"), ("user_id", "user_id"),
                             ("api_key_id", "api_key_id"), ("batch", "batch"), ("service_tier", "service_tier")):
            if path in leaves:
                fields[target] = leaf_src(path)
        for target, value in options.sets.items():
            fields[target] = FieldSource(sql=quote_literal(value), type="VARCHAR")

        tags: list[tuple[str, str]] = []
        for path, leaf in leaves.items():
            if path in MAPPED:
                continue
            if path == "num_model_requests":
                in_kinds = ", ".join(quote_literal(k) for k in REQUEST_KINDS)
                tags.append((path, f"CASE WHEN src._kind NOT IN ({in_kinds}) THEN {leaf.text} END"))
            else:
                tags.append((path, leaf.text))
        key_tags = tuple(p for p, _ in tags if p not in MEASURES and not leaves[p].numeric)

        checks: list[Check] = [
            ('_rec."object" IS NULL', "kind", "object",
             quote_literal("missing object (the result type, e.g. organization.usage.completions.result)")),
            ("_rec.\"object\" = 'organization.costs.result'", "kind", "object",
             quote_literal("a Costs API result in a usage file: load it with --format openai-costs")),
            ("kind IS NULL", "kind", "object", f"'unknown result object ' || {value_sql(_OBJ)}"),
        ] if obj else [("true", "kind", "object",
                        quote_literal("missing object (the result type, e.g. organization.usage.completions.result)"))]
        canonical_of = {"input_tokens": "input_tokens", "output_tokens": "output_tokens",
                        "num_model_requests": "requests", "input_cached_tokens": "cached_input_tokens",
                        "input_cache_write_tokens": "cache_write_tokens"}
        for kind, measures in REQUIRED.items():
            for m in measures:
                absent = f'_rec.{quote_ident(m)} IS NULL' if m in leaves else "true"
                target = canonical_of.get(m, f"tags.{m}")
                if m == "num_model_requests" and kind not in REQUEST_KINDS:
                    target = f"tags.{m}"
                checks.append((f"kind = {quote_literal(kind)} AND {absent}", target, m,
                               quote_literal(f"missing {m} (required in {kind} results)")))
        checks += count_checks(leaves, MEASURES, canonical_of) + start_time_checks("start_time")
        return MappedSource(relation=relation, fields=fields, tags=tags, record=record_sql(leaves, "start_time", "end_time"),
                            grain="bucket", field_checks=checks, key_tags=key_tags)

    def load(self, con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
        refuse_mapping(options, USAGE, allow_sets=True)
        opts = dataclasses.replace(options, ts_unit="s", ts_origin=None)
        source = self.build(con, file, opts)
        stage(con, source, file.source_id, opts)
        warnings = usage_warnings(con, "kind IN ('completions', 'embeddings', 'moderations', 'images', "
                                       "'audio_speeches', 'audio_transcriptions', 'web_searches')")
        warnings += grouping_warnings(con, "stages/usage_grouping_overlap",
                                      {"source_id": file.source_id, "dim_tags": list(source.key_tags or ())})
        counts = commit(con, file.source_id, file.label, options.run_id, options=options)
        return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                          rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                          first_error=counts.first_error, warnings=warnings)


# ---------------------------------------------------------------- openai-costs

_TIER = r"^\s*([A-Za-z_]+)\s*\|\s*"
_HEAD = r"^\s*(?:[A-Za-z_]+\s*\|\s*)?([^,]+?)\s*(?:,|$)"
_DIRECTIONS = (
    ("cache_read", r"cached input|cache read|cached"),
    ("cache_write", r"cache writes?|cached writes?|cache creation"),
    ("input", r"input"),
    ("output", r"output"),
)


def line_item_relation(inner: str) -> str:
    """`inner` (a FROM clause aliased `src` with a `_li_line` column) plus what a Costs `line_item` says:
    `_li_model`, `_li_modality`, `_li_direction`, `_li_tier`. Handles `gpt-4o-mini-2024-07-18, input`,
    `priority | gpt-5, cached input, long context`, `gpt-image-1 image, output`, `whisper-1, audio`,
    `web search tool calls`. Each step is computed once per line, in layers."""
    directions = "CASE " + " ".join(
        f"WHEN regexp_full_match(_li_rest, {quote_literal('(' + pattern + ')( tokens?)?')}) THEN {quote_literal(name)}"
        for name, pattern in _DIRECTIONS) + " END"
    layer1 = (f"regexp_extract(_li_line, {quote_literal(_HEAD)}, 1) AS _li_head, "
              f"contains(_li_line, ',') AS _li_comma, "
              f"lower(regexp_extract(_li_line, '^[^,]*,\\s*([^,]+)', 1)) AS _li_rest, "
              f"nullif(lower(regexp_extract(_li_line, {quote_literal(_TIER)}, 1)), '') AS _li_tier")
    layer2 = ("regexp_extract(_li_head, '^(\\S+)', 1) AS _li_first, "
              "nullif(lower(regexp_extract(_li_head, '^\\S+\\s+(text|audio|image)$', 1)), '') AS _li_modality, "
              f"{directions} AS _li_dir")
    layer3 = ("CASE WHEN _li_comma AND regexp_full_match(_li_first, '[a-z0-9][a-z0-9._:/-]*') "
              "AND regexp_matches(_li_first, '[0-9-]') THEN _li_first END AS _li_model")
    layer4 = "CASE WHEN _li_model IS NOT NULL THEN _li_dir END AS _li_direction"
    out = inner
    for layer in (layer1, layer2, layer3, layer4):
        out = f"(SELECT *, {layer} FROM {out}) AS src"
    return out


class OpenAICosts:
    """`openai-costs`: Costs API pages, one `charges` line per bucket result."""

    format = COSTS

    def sniff(self, path: Path, head: bytes, container: str) -> bool:
        return container in ("json", "jsonl") and _first_result_object(head_text(head)) == "costs"

    def build(self, con: duckdb.DuckDBPyConnection, file: SourceFile) -> charges.ChargeSource:
        res = read_results(con, file, start="start_time", end="end_time", what="OpenAI Costs API")
        leaves = res.leaves

        def text(path: str) -> str:
            leaf = leaves.get(path)
            return leaf.text if leaf else "CAST(NULL AS VARCHAR)"

        def src(path: str) -> FieldSource:
            leaf = leaves.get(path)
            if leaf is None:
                return FieldSource(sql="CAST(NULL AS VARCHAR)", type="VARCHAR", column=path)
            return FieldSource(sql=leaf.sql, type=leaf.type, column=path)

        line = "src._li_line"
        inner = res.relation.removesuffix(" AS src")
        relation = line_item_relation(f"(SELECT *, nullif(trim({text('line_item')}), '') AS _li_line FROM {inner} AS src)"
                                      f" AS src")
        unit = text("quantity_unit")
        unit_tokens = f"regexp_matches(lower({unit}), 'token')"
        token_line = "(src._li_direction IS NOT NULL AND coalesce(src._li_modality, 'text') = 'text')"
        # true when the unit or the line item says tokens; unknown (NULL) when the result names neither
        is_tokens = (f"CASE WHEN {unit} IS NOT NULL THEN {unit_tokens} OR {token_line} "
                     f"WHEN {line} IS NOT NULL THEN {token_line} OR regexp_matches(lower({line}), 'token') END")
        fields: dict[str, FieldSource] = {
            "period_start": FieldSource(sql=f"src.{BUCKET_START}", type=res.start_type, column="start_time"),
            "period_end": FieldSource(sql=f"src.{BUCKET_END}", type=res.end_type, column="end_time"),
            "provider": FieldSource(sql=quote_literal(PROVIDER), type="VARCHAR"),
            "provider_name": FieldSource(sql="'OpenAI'", type="VARCHAR"),
            "billed_cost": src("amount.value"),
            "currency": src("amount.currency"),
            "description": FieldSource(sql=line, type="VARCHAR", column="line_item"),
            "project": src("project_id"),
            "api_key_id": src("api_key_id"),
            "model": FieldSource(sql="src._li_model", type="VARCHAR", column="line_item"),
            "token_type": FieldSource(sql="src._li_direction", type="VARCHAR", column="line_item"),
            "service_tier": FieldSource(sql="src._li_tier", type="VARCHAR", column="line_item"),
            "source_quantity": src("quantity"),
            "source_unit": src("quantity_unit"),
            "is_llm_tokens": FieldSource(sql=is_tokens, type="BOOLEAN", column="line_item"),
        }
        mapped = {"object", "amount.value", "amount.currency", "line_item", "project_id", "api_key_id", "quantity",
                  "quantity_unit"}
        tags = tags_map_sql([(p, leaf.text) for p, leaf in leaves.items() if p not in mapped])
        obj = leaves.get("object")
        checks: list[Check] = []
        if obj:
            checks.append(("_rec.\"object\" IS NOT NULL AND _rec.\"object\" <> 'organization.costs.result'", "description",
                           "object", f"'not a costs result: ' || {value_sql(_OBJ)} || "
                                     f"' (usage pages load with --format openai-usage)'"))
        checks += [(c, "period_start", col, reason) for c, _, col, reason in start_time_checks("start_time")]
        record = record_sql(leaves, "start_time", "end_time")
        key = [line, text("project_id"), text("api_key_id"),
               f"upper({text('amount.currency')})", extra_dims_sql(leaves, mapped)]
        return charges.ChargeSource(relation=relation, format=COSTS, fields=fields, key=key, tags=tags,
                                    record=record, checks=checks)

    def load(self, con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
        refuse_mapping(options, COSTS, allow_sets=False)
        opts = dataclasses.replace(options, ts_unit="s", ts_origin=None)
        source = self.build(con, file)
        charges.stage(con, source, file.source_id, opts)
        overlap = grouping_warnings(con, "stages/charges_grouping_overlap", {"source_id": file.source_id})
        counts = charges.commit(con, file.label, options.run_id, currency_label="amount.currency")
        return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                          rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                          first_error=counts.first_error, warnings=counts.warnings + overlap)


ADAPTERS = {USAGE: OpenAIUsage(), COSTS: OpenAICosts()}
