"""Saved admin-API pages (OpenAI Usage/Costs, Anthropic usage/cost reports) as one flat relation.

A saved export can be one page object (`{"data": [bucket, ...], "has_more": ...}`), a JSON array of
pages, JSONL of pages, or a bare list of buckets (JSON array or JSONL), gzip or zstd. Every bucket
carries its window (`start_time`/`end_time` or `starting_at`/`ending_at`) and `results`; each
result becomes one record of the relation, stamped with its bucket's window, numbered from 1 in
file order (page, bucket, result). DuckDB's JSON reader does all of it: no Python loop over rows.

Also the helpers the page adapters share: row checks, the raw record, warnings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.db import quote_ident, quote_literal
from planner.errors import InputError, UsageError

if TYPE_CHECKING:
    import duckdb

    from planner.ingest import IngestOptions, SourceFile

MAX_OBJECT_BYTES = 1 << 28  # 256 MiB: one saved page may hold every result of a long query (DuckDB
# reserves twice this per object, and the engine runs under a 1 GB memory limit)
BUCKET_START = "_bucket_start"
BUCKET_END = "_bucket_end"
_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|"
                      r"FLOAT|DOUBLE|REAL|DECIMAL.*)$")


@dataclass(frozen=True)
class Leaf:
    """One scalar field of a result: its dotted path as written, SQL over `src`, DuckDB type."""

    path: str
    sql: str
    type: str

    @property
    def numeric(self) -> bool:
        return bool(_NUMERIC.match(self.type.upper()))

    @property
    def text(self) -> str:
        """The value as text, NULL when absent (JSON strings unquoted, objects as JSON text)."""
        t = self.type.upper()
        if t == "VARCHAR":
            return self.sql
        if t == "JSON":
            return f"json_extract_string({self.sql}, '$')"
        if t.startswith(("STRUCT", "MAP", "UNION")) or t.endswith("]"):
            return f"CAST(to_json({self.sql}) AS VARCHAR)"
        return f"CAST({self.sql} AS VARCHAR)"


@dataclass(frozen=True)
class Results:
    """The flat relation over every result, and what its fields are."""

    relation: str               # FROM clause, aliased `src`, exposing `_row`, the bucket window and the fields
    leaves: dict[str, Leaf]     # dotted path -> leaf (nested objects flattened: `cache_creation.ephemeral_5m_input_tokens`)
    start_type: str
    end_type: str
    empty: bool                 # no result in any bucket


def _reader(file: SourceFile, columns: list[tuple[str, str]] | None = None) -> str:
    """read_json over the file: inferring the schema from every record, or with the schema given."""
    comp = f", compression = {quote_literal(file.compression)}" if file.compression else ""
    common = f"format = 'auto', maximum_object_size = {MAX_OBJECT_BYTES}{comp}"
    if columns is None:
        return (f"read_json({quote_literal(str(file.path))}, {common}, sample_size = -1, "
                f"field_appearance_threshold = 0, map_inference_threshold = -1)")
    schema = ", ".join(f"{quote_literal(name)}: {quote_literal(_concrete(t))}" for name, t in columns)
    return f"read_json({quote_literal(str(file.path))}, {common}, columns = {{{schema}}})"


_NULL_TYPE = re.compile(r'"NULL"(?=\s*(?:,|\)|\[|$))')


def _concrete(sql_type: str) -> str:
    """A type DuckDB accepts in `columns`: fields that were null in every record are read as VARCHAR."""
    return _NULL_TYPE.sub("VARCHAR", sql_type)


def _describe(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {sql}").fetchall()]


def _struct_fields(con: duckdb.DuckDBPyConnection, relation: str, expr: str) -> list[tuple[str, str]]:
    """(name, type) of the members of a STRUCT-typed expression."""
    return _describe(con, f"SELECT unnest({expr}) FROM {relation} LIMIT 0")


def read_results(con: duckdb.DuckDBPyConnection, file: SourceFile, *, start: str, end: str,
                 what: str) -> Results:
    """Flatten pages/buckets/results of `file`; `start`/`end` name the bucket window keys."""
    if file.container not in ("json", "jsonl"):
        raise InputError(file.label, f"{what} exports are JSON pages; this file is {file.container.upper()}",
                         hint="save the API responses as returned (JSON or JSONL), or load this file with its own format")
    try:
        described = _describe(con, f"SELECT * FROM {_reader(file)}")
    except Exception as exc:
        raise _parse_error(file, exc) from None
    # the schema is inferred once, from every record (one full pass); every later query reads with it
    reader = _reader(file, described)
    top = dict(described)
    has_pages = "data" in top
    has_buckets = "results" in top and start in top
    if has_pages and has_buckets:
        raise InputError(file.label, f"mixes whole pages and bare buckets; save one {what} shape per file")
    if has_pages:
        data_type = top["data"].upper()
        if data_type in _NULL_TYPES or (data_type == "JSON[]" and _all_empty(con, f"SELECT data AS x FROM {reader}")):
            return _empty(file)
        if not data_type.startswith("STRUCT(") or not data_type.endswith("[]"):
            raise InputError(file.label, f"`data` is not a list of buckets ({top['data']})",
                             hint=f"expected {what} pages: {{\"data\": [{{\"{start}\": ..., \"results\": [...]}}]}}")
        buckets = (f"SELECT _pg.ordinality AS _p, _bk.ordinality AS _b, _bk.unnest AS _bucket "
                   f"FROM {reader} WITH ORDINALITY AS _pg, unnest(_pg.data) WITH ORDINALITY AS _bk")
        bucket_fields = dict(_describe(con, f"SELECT _bucket.* FROM ({buckets}) LIMIT 0"))
        window = f"_bucket.{quote_ident(start)}", f"_bucket.{quote_ident(end)}", "_bucket.results"
    elif has_buckets:
        buckets = f"SELECT ordinality AS _p, 1 AS _b, * EXCLUDE (ordinality) FROM {reader} WITH ORDINALITY"
        bucket_fields = top
        window = quote_ident(start), quote_ident(end), "results"
    else:
        raise InputError(file.label, f"no buckets found (top-level keys: {', '.join(list(top)[:8]) or 'none'})",
                         hint=f"expected {what} pages {{\"data\": [...]}} or a list of buckets with "
                              f"\"{start}\" and \"results\"")
    for key in (start, "results"):
        if key not in bucket_fields:
            raise InputError(file.label, f"buckets have no `{key}`", hint=f"expected {what} buckets with "
                                                                            f"\"{start}\", \"{end}\" and \"results\"")
    results_type = bucket_fields["results"].upper()
    if results_type in _NULL_TYPES or (results_type == "JSON[]" and _all_empty(
            con, f"SELECT {window[2]} AS x FROM ({buckets})")):
        return _empty(file)
    if not results_type.startswith("STRUCT(") or not results_type.endswith("[]"):
        raise InputError(file.label, f"bucket `results` is not a list of objects ({bucket_fields['results']})")
    end_sql = window[1] if end in bucket_fields else "NULL"
    flat = (
        f"WITH _buckets AS ({buckets}), "
        f"_results AS (SELECT _p, _b, _rs.ordinality AS _i, {window[0]} AS {BUCKET_START}, {end_sql} AS {BUCKET_END}, "
        f"_rs.unnest AS _res FROM _buckets, unnest({window[2]}) WITH ORDINALITY AS _rs) "
        f"SELECT row_number() OVER (ORDER BY _p, _b, _i) AS _row, {BUCKET_START}, {BUCKET_END}, unnest(_res) "
        f"FROM _results"
    )
    relation = f"({flat}) AS src"
    try:
        columns = _describe(con, f"SELECT * FROM {relation}")
    except Exception as exc:
        raise _parse_error(file, exc) from None
    types = dict(columns)
    leaves: dict[str, Leaf] = {}
    for name, sql_type in columns:
        if name in ("_row", BUCKET_START, BUCKET_END):
            continue
        _flatten(con, relation, name, f"src.{quote_ident(name)}", sql_type, leaves)
    return Results(relation=relation, leaves=leaves, start_type=types[BUCKET_START],
                   end_type=types[BUCKET_END], empty=False)


_NULL_TYPES = ('"NULL"[]', "NULL[]", '"NULL"', "NULL")


def _all_empty(con: duckdb.DuckDBPyConnection, select_x: str) -> bool:
    """Every list `x` is empty or null (a file of empty pages reads its lists as JSON[])."""
    row = con.execute(f"SELECT coalesce(max(len(x)), 0) FROM ({select_x})").fetchone()
    return not row or not row[0]


def _flatten(con: duckdb.DuckDBPyConnection, relation: str, path: str, sql: str, sql_type: str,
             out: dict[str, Leaf]) -> None:
    if sql_type.upper().startswith("STRUCT("):
        for member, member_type in _struct_fields(con, relation, sql):
            _flatten(con, relation, f"{path}.{member}", f"{sql}.{quote_ident(member)}", member_type, out)
        return
    out[path] = Leaf(path=path, sql=sql, type=sql_type)


def _empty(file: SourceFile) -> Results:
    relation = (f"(SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS {BUCKET_START}, "
                f"CAST(NULL AS VARCHAR) AS {BUCKET_END} WHERE false) AS src")
    return Results(relation=relation, leaves={}, start_type="VARCHAR", end_type="VARCHAR", empty=True)


def _parse_error(file: SourceFile, exc: Exception) -> Exception:
    import duckdb

    if isinstance(exc, duckdb.Error):
        message = " ".join(str(exc).split())[:300]
        return InputError(file.label, f"cannot parse: {message}")
    return exc


# ---------------------------------------------------------------- sniffing helpers

def head_text(head: bytes) -> str:
    return head.lstrip(b"\xef\xbb\xbf").decode("utf-8", errors="replace")


def json_keys_in(text: str) -> set[str]:
    """Every object key appearing in the head (the head may be cut mid-document)."""
    return set(re.findall(r'"([A-Za-z_][A-Za-z0-9_.]*)"\s*:', text))


def first_json_value(text: str) -> object | None:
    """The first complete JSON value of the head, or None when it is cut."""
    try:
        value, _ = json.JSONDecoder().raw_decode(text.lstrip())
        return value
    except ValueError:
        return None


def leaf_text(leaves: dict[str, Leaf], path: str) -> str:
    """The text of a result field, or a typed NULL when no result in the file has it."""
    leaf = leaves.get(path)
    return leaf.text if leaf else "CAST(NULL AS VARCHAR)"


def extra_dims_sql(leaves: dict[str, Leaf], skip: set[str]) -> str:
    """The non-null values of every other non-numeric field, as JSON text: a stable key part whether a
    file has such a field or not (absent and null give the same `{}`)."""
    extra = sorted(p for p, leaf in leaves.items() if p not in skip and not leaf.numeric)
    if not extra:
        return "'{}'"
    entries = ", ".join(f"struct_pack(k := {quote_literal(p)}, v := {leaves[p].text})" for p in extra)
    return (f"CAST(to_json(map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))) AS VARCHAR)")


def tags_map_sql(entries: list[tuple[str, str]]) -> str | None:
    """MAP(VARCHAR, VARCHAR) of the non-null (key, text expression) pairs, or None when there are none."""
    if not entries:
        return None
    packed = ", ".join(f"struct_pack(k := {quote_literal(k)}, v := {expr})" for k, expr in entries)
    return f"map_from_entries(list_filter([{packed}], lambda e: e.v IS NOT NULL))"


def grouping_warnings(con: duckdb.DuckDBPyConnection, statement: str, params: dict[str, object]) -> list[str]:
    """Say when the staged file overlaps stored rows cut by another group_by (see the SQL for why)."""
    from planner.db import load_sql

    out = []
    rows = con.execute(load_sql(statement), params).fetchall()
    for provider, kind, mine, theirs, my_width, their_width, files, first in rows:
        what = f"{provider} {kind}" if kind else provider
        if mine != theirs:
            cut = f"another group_by (this file: {', '.join(mine) or 'none'}; loaded: {', '.join(theirs) or 'none'})"
        else:
            cut = f"another bucket width (this file: {my_width}; loaded: {their_width})"
        out.append(f"overlaps {files} loaded file(s) (first: {first}) for the same {what} periods, exported with "
                   f"{cut}: both cut the same traffic, so sums over both count it twice; keep one cut per period")
    return out


# ---------------------------------------------------------------- shared by the page adapters

Check = tuple[str, str, str | None, str]  # (condition, field, source column, reason SQL): MappedSource.field_checks
_INT_TEXT = r"\d+(\.0+)?"


def _is_int_type(t: str) -> bool:
    return t.upper() in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                         "UINTEGER", "UBIGINT", "UHUGEINT"}


def value_sql(expr: str) -> str:
    """A raw value for a rejection reason: quoted, short, redacted."""
    from planner import sensitivity

    return f"'\"' || {sensitivity.redact_sql(f'left({expr}, 40)', numbers=False)} || '\"'"


def count_checks(leaves: dict[str, Leaf], names: set[str], field_for: dict[str, str]) -> list[Check]:
    """Stage checks: each present integer measure must be a non-negative whole number."""
    out = []
    for path in sorted(names & set(leaves)):
        leaf = leaves[path]
        raw = f"_rec.{quote_ident(path)}"
        cond = (f"starts_with({raw}, '-')" if _is_int_type(leaf.type)
                else f"{raw} IS NOT NULL AND NOT regexp_full_match({raw}, {quote_literal(_INT_TEXT)})")
        out.append((cond, field_for.get(path, f"tags.{path}"), path,
                    f"'expected a non-negative integer, got ' || {value_sql(raw)}"))
    return out


def record_sql(leaves: dict[str, Leaf], start: str, end: str) -> list[tuple[str, str]]:
    """The raw result as text, with its bucket window: what `rejected.raw` shows."""
    rec = [(start, f"CAST(src.{BUCKET_START} AS VARCHAR)"), (end, f"CAST(src.{BUCKET_END} AS VARCHAR)")]
    return rec + [(path, leaf.text) for path, leaf in leaves.items()]


def refuse_mapping(options: IngestOptions, fmt: str, *, allow_sets: bool) -> None:
    """Provider formats map themselves: `--map` is an error; `--set` only where constants make sense."""
    if options.mapping:
        raise UsageError(f"--map applies to --format generic only, not {fmt}",
                         hint=f"{fmt} fields are mapped by the adapter (see docs/adapters-billing.md)")
    if options.sets and not allow_sets:
        raise UsageError(f"--set does not apply to {fmt} (billing lines are loaded as billed)")


def usage_warnings(con: duckdb.DuckDBPyConnection, model_kinds: str) -> list[str]:
    """Notes on the staged usage rows: results that name no model cannot be priced."""
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE model IS NULL), count(*) FROM _stage "
        f"WHERE _err_reason IS NULL AND ({model_kinds})"
    ).fetchone()
    if row and row[0]:
        return [f"{row[0]} of {row[1]} result(s) name no model (exported without group_by=model?): model left "
                f"NULL, those rows cannot be priced"]
    return []
