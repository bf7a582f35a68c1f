"""anthropic-usage and anthropic-cost: the Anthropic Admin API usage report and cost report, as saved.

Shapes (platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages, .../cost_report/retrieve):
`{"data": [{"starting_at": RFC 3339, "ending_at": RFC 3339, "results": [...]}], "has_more", "next_page"}`;
buckets are snapped to UTC minutes, hours or days and end exclusive.

anthropic-usage: one usage row per result (grain `bucket`). The report splits input into
`uncached_input_tokens`, `cache_read_input_tokens` and `cache_creation.ephemeral_{5m,1h}_input_tokens`;
canonical `input_tokens` is their sum, with cache reads and writes also in their own columns. There is
no request count: `requests` stays NULL. `workspace_id` is the project (NULL is also the default
workspace: it stays NULL); `service_tier = 'batch'` is batch use; other group-by dimensions and the
server-tool counts go to `tags`.

anthropic-cost: one `charges` line per result. `amount` is a decimal STRING in cents: it is read as a
decimal and divided by 100, never through a float.
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
    Leaf,
    count_checks,
    extra_dims_sql,
    first_json_value,
    grouping_warnings,
    head_text,
    leaf_text,
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

USAGE = "anthropic-usage"
COST = "anthropic-cost"
PROVIDER = "anthropic"

UNCACHED = "uncached_input_tokens"
CACHE_READ = "cache_read_input_tokens"
CACHE_5M = "cache_creation.ephemeral_5m_input_tokens"
CACHE_1H = "cache_creation.ephemeral_1h_input_tokens"
OUTPUT = "output_tokens"
INPUT_PARTS = (UNCACHED, CACHE_READ, CACHE_5M, CACHE_1H)
REQUIRED = (*INPUT_PARTS, OUTPUT)
MAPPED = {OUTPUT, CACHE_READ, "model", "workspace_id", "api_key_id", "account_id", "service_tier"}

_STARTING = re.compile(r'"starting_at"\s*:')
_USAGE_KEYS = re.compile(r'"(uncached_input_tokens|cache_read_input_tokens|cache_creation)"\s*:')
_COST_KEYS = re.compile(r'"amount"\s*:')
_RESULTS = re.compile(r'"results"\s*:')
_CURRENCY = re.compile(r'"currency"\s*:')
_INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
              "UHUGEINT"}


def _int_sql(leaf: Leaf | None) -> str:
    """A token count as BIGINT (NULL when absent or not a whole number; the checks say why)."""
    if leaf is None:
        return "CAST(NULL AS BIGINT)"
    if leaf.type.upper() in _INT_TYPES:
        return f"CAST({leaf.sql} AS BIGINT)"
    return (f"CASE WHEN regexp_full_match({leaf.text}, '\\d+(\\.0+)?') "
            f"THEN CAST(TRY_CAST({leaf.text} AS DOUBLE) AS BIGINT) END")


# ---------------------------------------------------------------- anthropic-usage

class AnthropicUsage:
    """`anthropic-usage`: Messages usage report pages, one row per bucket result."""

    format = USAGE

    def sniff(self, path: Path, head: bytes, container: str) -> bool:
        if container not in ("json", "jsonl"):
            return False
        text = head_text(head)
        if not _STARTING.search(text):
            # a report with no bucket at all: exactly the Anthropic envelope, nothing else (it loads 0 rows)
            first = first_json_value(text)
            return isinstance(first, dict) and set(first) == {"data", "has_more", "next_page"} and first["data"] == []
        if _USAGE_KEYS.search(text):
            return True
        # buckets with no results look alike in both reports: claim them here (they load 0 rows)
        return bool(_RESULTS.search(text) and not _COST_KEYS.search(text))

    def build(self, con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> MappedSource:
        res = read_results(con, file, start="starting_at", end="ending_at", what="Anthropic usage report")
        leaves = res.leaves
        parts = [_int_sql(leaves.get(p)) for p in INPUT_PARTS]
        label = " + ".join(INPUT_PARTS)

        def src(path: str) -> FieldSource:
            leaf = leaves.get(path)
            if leaf is None:
                return FieldSource(sql="CAST(NULL AS VARCHAR)", type="VARCHAR", column=path)
            return FieldSource(sql=leaf.sql, type=leaf.type, column=path)

        tier = leaf_text(leaves, "service_tier")
        fields: dict[str, FieldSource] = {
            "ts": FieldSource(sql=f"src.{BUCKET_START}", type=res.start_type, column="starting_at"),
            "ts_end": FieldSource(sql=f"src.{BUCKET_END}", type=res.end_type, column="ending_at"),
            "provider": FieldSource(sql=quote_literal(PROVIDER), type="VARCHAR"),
            "kind": FieldSource(sql="'messages'", type="VARCHAR"),
            "input_tokens": FieldSource(sql=" + ".join(parts), type="BIGINT", column=label),
            "cached_input_tokens": FieldSource(sql=parts[1], type="BIGINT", column=CACHE_READ),
            "cache_write_tokens": FieldSource(sql=f"{parts[2]} + {parts[3]}", type="BIGINT",
                                              column=f"{CACHE_5M} + {CACHE_1H}"),
            "output_tokens": FieldSource(sql=_int_sql(leaves.get(OUTPUT)), type="BIGINT", column=OUTPUT),
            "model": src("model"),
            "project": src("workspace_id"),
            "api_key_id": src("api_key_id"),
            "user_id": src("account_id"),
            "service_tier": src("service_tier"),
            "batch": FieldSource(sql=f"CASE WHEN lower({tier}) = 'batch' THEN 'true' WHEN {tier} IS NOT NULL "
                                     f"THEN 'false' END", type="VARCHAR", column="service_tier"),
        }
        for target, value in options.sets.items():
            fields[target] = FieldSource(sql=quote_literal(value), type="VARCHAR")
        tags = [(p, leaf.text) for p, leaf in leaves.items() if p not in MAPPED]
        key_tags = tuple(p for p, _ in tags if not leaves[p].numeric and p not in INPUT_PARTS)
        targets = {UNCACHED: "input_tokens", CACHE_READ: "cached_input_tokens", CACHE_5M: "cache_write_tokens",
                   CACHE_1H: "cache_write_tokens", OUTPUT: "output_tokens"}
        checks: list[Check] = []
        for part in REQUIRED:
            absent = f"_rec.{quote_ident(part)} IS NULL" if part in leaves else "true"
            checks.append((absent, targets[part], part, quote_literal(f"missing {part}")))
        numeric = {p for p, leaf in leaves.items() if p.endswith(("_tokens", "_requests"))}
        checks += count_checks(leaves, numeric | set(REQUIRED), targets)
        return MappedSource(relation=res.relation, fields=fields, tags=tags,
                            record=record_sql(leaves, "starting_at", "ending_at"), grain="bucket", field_checks=checks,
                            key_tags=key_tags)

    def load(self, con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
        refuse_mapping(options, USAGE, allow_sets=True)
        opts = dataclasses.replace(options, ts_unit=None, ts_origin=None)
        source = self.build(con, file, opts)
        stage(con, source, file.source_id, opts)
        warnings = usage_warnings(con, "true")
        warnings += grouping_warnings(con, "stages/usage_grouping_overlap",
                                      {"source_id": file.source_id, "dim_tags": list(source.key_tags or ())})
        counts = commit(con, file.source_id, file.label, options.run_id, options=options)
        return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                          rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                          first_error=counts.first_error, warnings=warnings)


# ---------------------------------------------------------------- anthropic-cost

TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
}
COST_MAPPED = {"amount", "currency", "description", "model", "service_tier", "workspace_id"}
_DECIMAL = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"


class AnthropicCost:
    """`anthropic-cost`: cost report pages, one `charges` line per bucket result."""

    format = COST

    def sniff(self, path: Path, head: bytes, container: str) -> bool:
        if container not in ("json", "jsonl"):
            return False
        text = head_text(head)
        return bool(_STARTING.search(text) and _COST_KEYS.search(text) and _CURRENCY.search(text)
                    and not _USAGE_KEYS.search(text))

    def build(self, con: duckdb.DuckDBPyConnection, file: SourceFile) -> charges.ChargeSource:
        res = read_results(con, file, start="starting_at", end="ending_at", what="Anthropic cost report")
        leaves = res.leaves

        def src(path: str) -> FieldSource:
            leaf = leaves.get(path)
            if leaf is None:
                return FieldSource(sql="CAST(NULL AS VARCHAR)", type="VARCHAR", column=path)
            return FieldSource(sql=leaf.sql, type=leaf.type, column=path)

        cost_type = f"lower({leaf_text(leaves, 'cost_type')})"
        token_type = leaf_text(leaves, "token_type")
        description = leaf_text(leaves, "description")
        direction = "CASE " + " ".join(f"WHEN {token_type} = {quote_literal(k)} THEN {quote_literal(v)}"
                                       for k, v in TOKEN_TYPES.items()) + " END"
        is_tokens = (f"CASE WHEN {cost_type} IS NOT NULL THEN {cost_type} = 'tokens' "
                     f"WHEN {token_type} IS NOT NULL THEN true "
                     f"WHEN {description} IS NOT NULL THEN regexp_matches(lower({description}), 'token') END")
        fields: dict[str, FieldSource] = {
            "period_start": FieldSource(sql=f"src.{BUCKET_START}", type=res.start_type, column="starting_at"),
            "period_end": FieldSource(sql=f"src.{BUCKET_END}", type=res.end_type, column="ending_at"),
            "provider": FieldSource(sql=quote_literal(PROVIDER), type="VARCHAR"),
            "provider_name": FieldSource(sql="'Anthropic'", type="VARCHAR"),
            "billed_cost": src("amount"),
            "currency": src("currency"),
            "description": src("description"),
            "model": src("model"),
            "project": src("workspace_id"),
            "service_tier": src("service_tier"),
            "token_type": FieldSource(sql=direction, type="VARCHAR", column="token_type"),
            "is_llm_tokens": FieldSource(sql=is_tokens, type="BOOLEAN", column="cost_type"),
        }
        tags = tags_map_sql([(p, leaf.text) for p, leaf in leaves.items() if p not in COST_MAPPED])
        checks: list[Check] = []
        if "amount" in leaves:
            raw = '_rec."amount"'
            checks.append((f"{raw} IS NOT NULL AND NOT regexp_full_match(trim({raw}), {quote_literal(_DECIMAL)})",
                           "billed_cost", "amount",
                           f"'expected a decimal string of cents, got ' || {value_sql(raw)}"))
        key = [leaf_text(leaves, "workspace_id"), description,
               cost_type, leaf_text(leaves, "model"), leaf_text(leaves, "service_tier"), token_type,
               leaf_text(leaves, "context_window"), leaf_text(leaves, "inference_geo"),
               f"upper({leaf_text(leaves, 'currency')})",
               extra_dims_sql(leaves, COST_MAPPED | {"cost_type", "token_type", "context_window", "inference_geo"})]
        return charges.ChargeSource(relation=res.relation, format=COST, fields=fields, key=key, tags=tags,
                                    record=record_sql(leaves, "starting_at", "ending_at"), checks=checks,
                                    scales={"billed_cost": "0.01"})

    def load(self, con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
        refuse_mapping(options, COST, allow_sets=False)
        opts = dataclasses.replace(options, ts_unit=None, ts_origin=None)
        charges.stage(con, self.build(con, file), file.source_id, opts)
        overlap = grouping_warnings(con, "stages/charges_grouping_overlap", {"source_id": file.source_id})
        counts = charges.commit(con, file.label, options.run_id)
        return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                          rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                          first_error=counts.first_error, warnings=counts.warnings + overlap)


ADAPTERS = {USAGE: AnthropicUsage(), COST: AnthropicCost()}
