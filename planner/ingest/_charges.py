"""Map a staged relation of billed line items onto `charges`, validate in SQL, upsert.

The billing twin of `_stage.py`: an adapter describes where each charge field comes from (a SQL
expression over its reader, with its type and the column named in errors), which values form the
line's natural key, and its tags; this module builds one query that parses and checks every line in
a single pass, then runs the fixed statements in `sql/stages/charges_*.sql`.

Identity: `charge_id` hashes the adapter's natural key (bucket or charge period, line item, project,
SKU, ...), so a re-export of an overlapping period maps onto the same ids. A stored line whose
re-exported copy differs (a day that was still running when first exported) is replaced by it; an
identical copy counts as a duplicate. Where one file may hold several lines with the same key
(FOCUS has no line id) each occurrence keeps its own id, so distinct charges are never merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from planner import sensitivity
from planner.db import load_sql, quote_ident, quote_literal
from planner.ingest._stage import FieldSource, _text, typed_sql

if TYPE_CHECKING:
    import duckdb

    from planner.ingest import IngestOptions

ChargeKind = Literal["ts", "money", "qty", "str", "lstr", "currency", "bool"]

CHARGE_FIELDS: dict[str, ChargeKind] = {
    "period_start": "ts",
    "period_end": "ts",
    "provider": "lstr",
    "provider_name": "str",
    "service": "str",
    "sku": "str",
    "charge_category": "str",
    "charge_class": "str",
    "description": "str",
    "project": "str",
    "api_key_id": "str",
    "sub_account_id": "str",
    "sub_account_name": "str",
    "region": "str",
    "resource_id": "str",
    "model": "str",
    "token_type": "lstr",
    "service_tier": "lstr",
    "billed_cost": "money",
    "effective_cost": "money",
    "list_cost": "money",
    "currency": "currency",
    "source_quantity": "qty",
    "source_unit": "str",
    "is_llm_tokens": "bool",
}

_SQL_TYPES: dict[ChargeKind, str] = {
    "ts": "TIMESTAMP", "money": "DECIMAL(38, 10)", "qty": "DECIMAL(38, 10)", "str": "VARCHAR",
    "lstr": "VARCHAR", "currency": "VARCHAR", "bool": "BOOLEAN",
}
_INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
              "UBIGINT", "UHUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
MAX_AMOUNT = Decimal(10) ** 27  # DECIMAL(38, 10) holds 28 integer digits


@dataclass
class ChargeSource:
    """What a billing adapter hands to the stage."""

    relation: str                               # FROM clause exposing `_row` (1-based record number)
    format: str                                 # the adapter's format name (part of every charge_id)
    fields: dict[str, FieldSource]
    key: list[str]                              # SQL over the reader: the line's natural key (besides its period)
    tags: str | None = None                     # SQL MAP(VARCHAR, VARCHAR) expression, or None (empty map)
    record: list[tuple[str, str]] = field(default_factory=list)   # (name, text expression): the raw line
    required: tuple[str, ...] = ("period_start", "billed_cost", "currency")
    checks: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # as MappedSource.checks
    occurrences: bool = False                   # True: equal keys in one file are distinct lines (FOCUS)
    scales: dict[str, str] = field(default_factory=dict)  # money field -> multiplier literal (cents: 0.01)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (condition, note): loaded, but worth saying


def _kind(name: str) -> ChargeKind:
    return CHARGE_FIELDS[name]


def decimal_sql(src: FieldSource, scale: str | None = None) -> str:
    """A money or quantity value as DECIMAL(38, 10), exactly: floats go through their shortest text.

    `scale` is a decimal literal the value is multiplied by (`0.01` for amounts in cents); the value is
    parsed with two extra digits first so the scaled result keeps ten.
    """
    t = src.type.upper().split("(")[0]
    wide = "DECIMAL(38, 12)" if scale else "DECIMAL(38, 10)"
    if t in _INT_TYPES or t == "DECIMAL":
        value = f"TRY_CAST({src.sql} AS {wide})"
    else:
        # DuckDB's decimal cast accepts exactly what a number in an export looks like, but for `1_000`
        x = f"CAST({src.sql} AS VARCHAR)" if t in _FLOAT_TYPES else _text(src)
        value = f"CASE WHEN NOT contains({x}, '_') THEN TRY_CAST(trim({x}) AS {wide}) END"
    return f"CAST({value} * {scale} AS DECIMAL(38, 10))" if scale else value


def typed_charge_sql(name: str, src: FieldSource, options: IngestOptions, scale: str | None = None) -> str:
    kind = _kind(name)
    t = src.type.upper()
    if kind == "ts":
        return typed_sql("ts", src, options)
    if kind in ("money", "qty"):
        return decimal_sql(src, scale)
    if kind == "str":
        return _text(src)
    if kind == "lstr":
        return f"lower({_text(src)})"
    if kind == "currency":
        return f"upper({_text(src)})"
    if kind == "bool":
        if t == "BOOLEAN":
            return src.sql
        x = f"lower({_text(src)})"
        return f"CASE WHEN {x} IN ('true', 't', '1', 'yes') THEN true WHEN {x} IN ('false', 'f', '0', 'no') THEN false END"
    raise AssertionError(kind)


def unit_norm_sql(unit: str) -> str:
    """A unit lower-cased, without thousands commas, underscores and repeated spaces (`1,000_Tokens` -> `1000 tokens`)."""
    return f"lower(trim(regexp_replace(replace({unit}, ',', ''), '[_\\s]+', ' ', 'g')))"


def unit_scale_sql(unit: str, normalized: bool = False) -> str:
    """How many tokens one unit of `unit` is, when it is a token or plain count unit; else NULL.

    `Tokens`, `1K Tokens`, `1M tokens`, `1000 Tokens`, `1,000 tokens`, `1000_tokens`, `million_tokens`,
    `1K` and `Units`/`Count` (on a line that says tokens) all qualify; `Hours` or `GB` do not.
    """
    x = unit if normalized else unit_norm_sql(unit)
    pattern = r"(\d+(\.\d+)?)? ?(k|m|b|thousand|million|billion)? ?(tokens?|units?|counts?)?"
    number = f"coalesce(TRY_CAST(regexp_extract({x}, '^(\\d+(\\.\\d+)?)', 1) AS DECIMAL(38, 10)), 1)"
    suffix = f"regexp_extract({x}, '^[0-9.]* ?(k|m|b|thousand|million|billion)\\b', 1)"
    mult = (f"CASE {suffix} WHEN 'k' THEN 1000 WHEN 'thousand' THEN 1000 WHEN 'm' THEN 1000000 "
            f"WHEN 'million' THEN 1000000 WHEN 'b' THEN 1000000000 WHEN 'billion' THEN 1000000000 ELSE 1 END")
    return (f"CASE WHEN {x} <> '' AND regexp_full_match({x}, {quote_literal(pattern)}) "
            f"THEN CAST({number} * {mult} AS DECIMAL(38, 10)) END")


def _needs_raw(name: str, src: FieldSource, source: ChargeSource) -> bool:
    """The raw text is kept only where a check quotes it: parsed kinds and required fields."""
    kind = _kind(name)
    if kind == "bool" and src.type.upper() == "BOOLEAN":
        return False
    return kind in ("ts", "money", "qty", "bool", "currency") or name in source.required


def _error_cases(source: ChargeSource, options: IngestOptions) -> list[str]:
    cases: list[str] = []

    def err(fieldname: str, reason_sql: str) -> str:
        src = source.fields.get(fieldname)
        col = src.column if src is not None else None
        return (f"{{'field': {quote_literal(fieldname)}, 'column': {quote_literal(col) if col else 'NULL'}, "
                f"'reason': {reason_sql}}}")

    def value(name: str) -> str:
        raw = sensitivity.redact_sql(f'left("_r_{name}", 40)', numbers=False)
        return "'\"' || " + raw + " || '\"'"

    for cond, fieldname, column, reason in source.checks:
        cases.append(f"WHEN {cond} THEN {{'field': {quote_literal(fieldname)}, "
                     f"'column': {quote_literal(column) if column else 'NULL'}, 'reason': {reason}}}")
    for name in source.required:
        if name in source.fields:
            cases.append(f'WHEN "_r_{name}" IS NULL THEN ' + err(name, quote_literal(f"missing {name}")))
        else:
            cases.append("WHEN true THEN " + err(name, quote_literal(f"missing {name}")))
    expected = {"ts": "unparseable timestamp ", "money": "expected an amount, got ", "qty": "expected a number, got ",
                "bool": "expected true or false, got "}
    for name, src in source.fields.items():
        kind = _kind(name)
        if kind in expected and _needs_raw(name, src, source):
            cases.append(f'WHEN "_r_{name}" IS NOT NULL AND "{name}" IS NULL THEN '
                         + err(name, f"{quote_literal(expected[kind])} || {value(name)}"))
        if kind in ("money", "qty"):
            cases.append(f'WHEN abs("{name}") >= {MAX_AMOUNT} THEN ' + err(name, quote_literal("implausibly large")))
    if "currency" in source.fields:
        cases.append("WHEN currency IS NOT NULL AND NOT regexp_full_match(currency, '[A-Z]{3}') THEN "
                     + err("currency", f"'expected a 3-letter ISO 4217 code, got ' || {value('currency')}"))
    if not options.allow_any_ts:
        cases.append(f"WHEN period_start < TIMESTAMP {quote_literal(options.min_ts)} THEN "
                     + err("period_start", quote_literal(f"charge period before {options.min_ts} "
                                                         "(or pass --allow-any-ts)")))
    if "period_end" in source.fields:
        cases.append("WHEN period_end < period_start THEN " + err("period_end", quote_literal("end before start")))
    return cases


def build_charges_sql(source: ChargeSource, source_id: str, options: IngestOptions) -> str:
    """One SELECT that parses, checks and identifies every line of `source`."""
    parsed = ["_row AS source_row"]
    raw_fields = [name for name, src in source.fields.items() if _needs_raw(name, src, source)]
    for name, src in source.fields.items():
        if name in raw_fields:
            parsed.append(f'{_text(src)} AS "_r_{name}"')
        parsed.append(f'{typed_charge_sql(name, src, options, source.scales.get(name))} AS "{name}"')
    parsed.append(f"{source.tags} AS tags" if source.tags else "CAST(MAP {} AS MAP(VARCHAR, VARCHAR)) AS tags")
    parsed.append("[" + ", ".join(f"CAST({k} AS VARCHAR)" for k in source.key) + "] AS _keyparts")
    rec = ", ".join(f"{quote_ident(k)} := {expr}" for k, expr in source.record) or "_row := _row"
    parsed.append(f"struct_pack({rec}) AS _rec")

    def col(name: str) -> str:
        if name in source.fields:
            return f'"{name}"'
        return f"CAST(NULL AS {_SQL_TYPES[_kind(name)]})"

    # the period is part of every line's identity, taken parsed (CSV text and Parquet timestamps agree)
    key = (f"md5(to_json([{quote_literal(source.format)}, CAST({col('period_start')} AS VARCHAR), "
           f"CAST({col('period_end')} AS VARCHAR)]) || to_json(_keyparts)) AS _key")
    scale = unit_scale_sql("_unit_norm", normalized=True)
    converts = f"coalesce({col('is_llm_tokens')}, false) AND {col('source_quantity')} IS NOT NULL AND _scale IS NOT NULL"
    canon = [f"{col(name)} AS {name}" for name in CHARGE_FIELDS]
    canon += [
        "tags", "_key",
        f"CASE WHEN {col('currency')} = 'USD' THEN {col('billed_cost')} END AS billed_cost_usd",
        f"CASE WHEN {converts} THEN CAST({col('source_quantity')} * _scale AS DECIMAL(38, 10)) "
        f"ELSE {col('source_quantity')} END AS consumed_quantity",
        f"CASE WHEN {converts} THEN 'tokens' WHEN {col('source_quantity')} IS NOT NULL THEN {col('source_unit')} "
        f"END AS consumed_unit",
        "_scale",
    ]
    raws = [f'"_r_{name}"' for name in raw_fields]
    cases = "\n            ".join(_error_cases(source, options))
    raw = sensitivity.redact_sql("to_json(_rec)", numbers=False)
    notes = ("list_filter([" + ", ".join(f"CASE WHEN {cond} THEN {quote_literal(note)} END" for cond, note in source.notes)
             + "], lambda n: n IS NOT NULL)") if source.notes else "CAST([] AS VARCHAR[])"
    return f"""
WITH
src AS (SELECT * FROM {source.relation}),
parsed AS (
    SELECT {", ".join(parsed)}
    FROM src
),
normalized AS (
    SELECT *, {unit_norm_sql(col("source_unit"))} AS _unit_norm FROM parsed
),
scaled AS (
    SELECT * EXCLUDE (_keyparts, _unit_norm), {scale} AS _scale, {key} FROM normalized
),
canonical AS (
    SELECT source_row, _rec, {", ".join(canon + raws)}
    FROM scaled
),
checked AS (
    SELECT *,
        CASE
            {cases}
        END AS _err
    FROM canonical
)
SELECT
    md5(_key || ':1') AS charge_id,
    {quote_literal(source_id)} AS source_id,
    * EXCLUDE (_rec, _err, _scale{"".join(", " + r for r in raws)}),
    _err.field AS _err_field,
    _err.column AS _err_column,
    _err.reason AS _err_reason,
    CASE WHEN _err IS NOT NULL THEN left({raw}, {int(options.raw_max_bytes)}) END AS _raw,
    {notes} AS _notes
FROM checked
"""


def stage(con: duckdb.DuckDBPyConnection, source: ChargeSource, source_id: str, options: IngestOptions) -> None:
    """Create the temp table `_charges_stage`: every line of the file, parsed and checked.

    Where equal keys in one file are distinct lines, the second and later occurrences get their own ids
    here, from a window over two narrow columns (a window over the wide parsed rows costs far more).
    """
    con.execute("DROP TABLE IF EXISTS _charges_stage")
    con.execute(f"CREATE TEMP TABLE _charges_stage AS {build_charges_sql(source, source_id, options)}")
    if source.occurrences:
        con.execute(load_sql("stages/charges_occurrences"))


@dataclass
class ChargeCounts:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    first_error: str | None = None
    warnings: list[str] = field(default_factory=list)


def commit(con: duckdb.DuckDBPyConnection, path: str, run_id: str | None, *, currency_label: str = "currency",
           say_token_spend: bool = True) -> ChargeCounts:
    """Reject bad lines, upsert good ones into `charges`; return counts and what the user should know."""
    con.execute(load_sql("stages/charges_incoming"))
    con.execute(load_sql("stages/charges_reject"), {"path": path, "run_id": run_id})
    row = con.execute(load_sql("stages/charges_counts")).fetchone()
    assert row is not None
    read, rejected = int(row[0] or 0), int(row[1] or 0)
    warnings = _warnings(con, currency_label, say_token_spend)
    con.execute(load_sql("stages/charges_replace"))
    inserted = con.execute(load_sql("stages/charges_insert")).fetchone()
    loaded = int(inserted[0]) if inserted else 0
    first = con.execute(
        "SELECT source_row, _err_field, _err_reason FROM _charges_stage WHERE _err_reason IS NOT NULL "
        "ORDER BY source_row LIMIT 1"
    ).fetchone()
    con.execute("DROP TABLE IF EXISTS _charges_stage")
    con.execute("DROP TABLE IF EXISTS _charges_incoming")
    return ChargeCounts(
        rows_read=read, rows_loaded=loaded, rows_rejected=rejected, rows_duplicate=read - rejected - loaded,
        first_error=f"row {first[0]}: {first[1]}: {first[2]}" if first else None, warnings=warnings,
    )


def _money(value: Decimal | None) -> str:
    if value is None:
        return "0"
    return f"{value.quantize(Decimal('0.01')):,}" if abs(value) >= 1 else f"{value.normalize():f}"


def _warnings(con: duckdb.DuckDBPyConnection, currency_label: str, say_token_spend: bool) -> list[str]:
    out: list[str] = []
    for note, lines, first in con.execute(
        "SELECT note, count(*), min(source_row) FROM (SELECT unnest(_notes) AS note, source_row FROM _charges_stage "
        "WHERE _err_reason IS NULL) GROUP BY note ORDER BY note"
    ).fetchall():
        out.append(f"{note} ({lines} line(s), first: row {first})")
    rows = con.execute(load_sql("stages/charges_notes")).fetchall()
    for kind, currency, lines, amount, detail in rows:
        if kind == "non_usd":
            out.append(f"{currency_label} {currency} on {lines} line(s): billed_cost_usd left NULL "
                       f"(no exchange rate is assumed)")
        elif kind == "no_tokens" and say_token_spend:
            out.append(f"no LLM token charges in this file: LLM token spend is 0 "
                       f"({lines} line(s), {_money(amount)} {currency} billed in all)")
        elif kind == "unclassified":
            out.append(f"{lines} line(s) do not say what they bill (exported without line items or "
                       f"descriptions?): is_llm_tokens left NULL")
        elif kind == "odd_unit":
            out.append(f"{lines} token line(s) have unit {detail!r}, not a token count: consumed_quantity "
                       f"left as written")
    return out
