"""Map any staged relation onto the canonical `usage` columns, validate in SQL, insert.

Every adapter ends here: it describes where each canonical field comes from (a SQL expression over
its reader, with the expression's type and the source column it names in errors), and this module
builds one staging query that parses, validates and fingerprints every row in a single pass, then
runs the fixed statements in `sql/stages/ingest_*.sql` to dedupe, upsert and reject.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from planner import sensitivity
from planner.db import load_sql, quote_ident, quote_literal
from planner.errors import InputError

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config
    from planner.ingest import IngestOptions

Kind = Literal["int", "float", "money", "bool", "str", "lstr", "status", "ts", "grain", "sens", "text"]

# canonical usage fields a mapping may target, with how their values are parsed
FIELD_KINDS: dict[str, Kind] = {
    "grain": "grain",
    "ts": "ts",
    "ts_end": "ts",
    "provider": "lstr",
    "model": "str",
    "project": "str",
    "api_key_id": "str",
    "user_id": "str",
    "session_id": "str",
    "request_id": "str",
    "workload": "str",
    "requests": "int",
    "input_tokens": "int",
    "cached_input_tokens": "int",
    "cache_write_tokens": "int",
    "output_tokens": "int",
    "reasoning_tokens": "int",
    "batch": "bool",
    "service_tier": "lstr",
    "status": "status",
    "latency_ms": "float",
    "ttft_ms": "float",
    "billed_cost_usd": "money",
    "kind": "lstr",
    "sensitivity": "sens",
    "prompt": "text",
}

# columns of `usage` in table order (what the stage must produce, besides the computed ones)
USAGE_COLUMNS = (
    "event_id", "source_id", "source_row", "grain", "ts", "ts_end", "provider", "model", "model_ref",
    "project", "api_key_id", "user_id", "session_id", "request_id", "workload", "tags", "requests",
    "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
    "batch", "service_tier", "status", "latency_ms", "ttft_ms", "billed_cost_usd", "prompt_chars",
    "prompt_sha256", "prompt_fingerprint", "pii_types", "sensitivity", "kind",
)

_SQL_TYPES: dict[Kind, str] = {
    "int": "BIGINT", "float": "DOUBLE", "money": "DECIMAL(38, 10)", "bool": "BOOLEAN", "str": "VARCHAR",
    "lstr": "VARCHAR", "status": "VARCHAR", "ts": "TIMESTAMP", "grain": "VARCHAR", "sens": "VARCHAR",
    "text": "VARCHAR",
}

MAX_TOKENS = 10**15  # per row; beyond this a count is a unit or parsing mistake, not traffic

_INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
              "UBIGINT", "UHUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
_OFFSET_RE = r"(?i)\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(z|utc|gmt|[+-]\d{2}(:?\d{2})?)$"
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}


@dataclass(frozen=True)
class FieldSource:
    """Where one canonical field comes from: a SQL expression over the reader, its type, its column."""

    sql: str
    type: str = "VARCHAR"
    column: str | None = None  # the file's column, named in errors; None for constants and derived values


@dataclass
class MappedSource:
    """What an adapter hands to the stage: its reader and the origin of each field."""

    relation: str                       # FROM clause; must expose `_row`, the 1-based record number
    fields: dict[str, FieldSource]
    tags: list[tuple[str, str]] = field(default_factory=list)   # (key, VARCHAR expression)
    record: list[tuple[str, str]] = field(default_factory=list)  # (name, expression): the raw record
    grain: str = "request"


def _is_numeric(sql_type: str) -> bool:
    base = sql_type.upper().split("(")[0]
    return base in _INT_TYPES or base in _FLOAT_TYPES or base == "DECIMAL"


def _text(src: FieldSource) -> str:
    """The raw value as trimmed text (NULL for empty or literal-null cells)."""
    t = src.type.upper()
    if t == "JSON":
        inner = f"json_extract_string({src.sql}, '$')"
    elif t in ("VARCHAR", "TEXT", "STRING"):
        inner = src.sql
    else:
        inner = f"CAST({src.sql} AS VARCHAR)"
    return f"nullif(nullif(nullif(trim({inner}), ''), 'NULL'), 'null')"


def typed_sql(fieldname: str, src: FieldSource, options: IngestOptions) -> str:
    """SQL for the parsed value of a field (NULL when absent or unparseable)."""
    kind = FIELD_KINDS[fieldname]
    t = src.type.upper().split("(")[0]
    if kind == "int":
        if t in _INT_TYPES:
            return f"CAST({src.sql} AS BIGINT)"
        if t in _FLOAT_TYPES or t == "DECIMAL":
            x = src.sql
            return (f"CASE WHEN {x} = trunc({x}) AND abs({x}) < {MAX_TOKENS * 10} "
                    f"THEN CAST({x} AS BIGINT) END")
        x = _text(src)
        return (
            f"CASE WHEN regexp_full_match({x}, '-?\\d+') THEN TRY_CAST({x} AS BIGINT) "
            f"WHEN regexp_full_match({x}, '\\d{{1,3}}(,\\d{{3}})+') THEN TRY_CAST(replace({x}, ',', '') AS BIGINT) "
            f"WHEN regexp_full_match({x}, '-?\\d+(\\.\\d*)?([eE][+]?\\d+)?') "
            f"AND TRY_CAST({x} AS DOUBLE) = trunc(TRY_CAST({x} AS DOUBLE)) "
            f"AND abs(TRY_CAST({x} AS DOUBLE)) < {MAX_TOKENS * 10} "
            f"THEN CAST(TRY_CAST({x} AS DOUBLE) AS BIGINT) END"
        )
    if kind == "float":
        if _is_numeric(t):
            return f"CAST({src.sql} AS DOUBLE)"
        return f"TRY_CAST({_text(src)} AS DOUBLE)"
    if kind == "money":
        if _is_numeric(t):
            return f"TRY_CAST({src.sql} AS DECIMAL(38, 10))"
        return f"TRY_CAST(replace(ltrim({_text(src)}, '$'), ',', '') AS DECIMAL(38, 10))"
    if kind == "bool":
        if t == "BOOLEAN":
            return src.sql
        x = f"lower({_text(src)})"
        return (f"CASE WHEN {x} IN ('true', 't', '1', 'yes', 'y') THEN true "
                f"WHEN {x} IN ('false', 'f', '0', 'no', 'n') THEN false END")
    if kind in ("str", "text"):
        return _text(src) if kind == "str" else (
            src.sql if t in ("VARCHAR", "TEXT") else f"CAST({src.sql} AS VARCHAR)")
    if kind in ("lstr",):
        return f"lower({_text(src)})"
    if kind == "grain":
        x = f"lower({_text(src)})"
        return f"CASE WHEN {x} IN ('request', 'bucket') THEN {x} END"
    if kind == "sens":
        x = f"lower({_text(src)})"
        return f"CASE WHEN {x} IN ('public', 'internal', 'confidential', 'regulated') THEN {x} END"
    if kind == "status":
        x = f"lower({_text(src)})"
        return (
            f"CASE WHEN {x} IN ('ok', 'success', 'succeeded', 'successful', 'completed', 'complete', 'true', 'stop') "
            f"OR regexp_full_match({x}, '2\\d\\d') THEN 'ok' "
            f"WHEN {x} IN ('error', 'failure', 'failed', 'fail', 'cancelled', 'canceled', 'timeout', 'aborted', "
            f"'false', 'rejected') OR regexp_full_match({x}, '[1345]\\d\\d') THEN 'error' END"
        )
    if kind == "ts":
        return _ts_sql(src, options)
    raise AssertionError(kind)


def _numeric_ts(x: str, options: IngestOptions) -> str:
    """A numeric timestamp `x` (DOUBLE) as naive UTC."""
    origin = f"CAST(timezone('UTC', TIMESTAMPTZ {quote_literal(options.ts_origin)}) AS TIMESTAMP)" \
        if options.ts_origin else "TIMESTAMP '1970-01-01 00:00:00'"
    if options.ts_unit:
        per = _US_PER_UNIT[options.ts_unit]
        return f"{origin} + to_microseconds(CAST(round({x} * {per}) AS BIGINT))"
    # no unit given: read epoch values by magnitude; small values are relative and need --ts-unit
    return (f"CASE WHEN abs({x}) >= 1e17 THEN {origin} + to_microseconds(CAST(round({x} / 1000) AS BIGINT)) "
            f"WHEN abs({x}) >= 1e14 THEN {origin} + to_microseconds(CAST(round({x}) AS BIGINT)) "
            f"WHEN abs({x}) >= 1e11 THEN {origin} + to_microseconds(CAST(round({x} * 1000) AS BIGINT)) "
            f"WHEN abs({x}) >= 1e8 THEN {origin} + to_microseconds(CAST(round({x} * 1000000) AS BIGINT)) END")


def _zoned(naive: str, options: IngestOptions) -> str:
    tz = options.tz or "UTC"
    if tz.upper() in ("UTC", "ETC/UTC", "Z"):
        return naive
    return f"CAST(timezone('UTC', timezone({quote_literal(tz)}, {naive})) AS TIMESTAMP)"


def _ts_sql(src: FieldSource, options: IngestOptions) -> str:
    t = src.type.upper()
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"CAST(timezone('UTC', {src.sql}) AS TIMESTAMP)"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return _zoned(f"CAST({src.sql} AS TIMESTAMP)", options)
    if _is_numeric(t):
        return _numeric_ts(f"CAST({src.sql} AS DOUBLE)", options)
    x = _text(src)
    norm = f"regexp_replace({x}, '(\\.\\d{{6}})\\d+', '\\1')"
    return (
        f"CASE WHEN regexp_full_match({x}, '-?\\d+(\\.\\d+)?') THEN {_numeric_ts(f'TRY_CAST({x} AS DOUBLE)', options)} "
        f"WHEN regexp_matches({x}, {quote_literal(_OFFSET_RE)}) "
        f"THEN CAST(timezone('UTC', TRY_CAST({norm} AS TIMESTAMPTZ)) AS TIMESTAMP) "
        f"ELSE {_zoned(f'TRY_CAST({norm} AS TIMESTAMP)', options)} END"
    )


def _value_text(fieldname: str) -> str:
    """The raw value for an error message: short, quoted, and redacted."""
    raw = f'"_r_{fieldname}"'
    return f"'\"' || {sensitivity.redact_sql(f'left({raw}, 40)')} || '\"'"


def _error_cases(source: MappedSource, options: IngestOptions, min_ts: str, future_hours: int) -> list[str]:
    """`WHEN cond THEN struct` clauses, first failing check wins."""
    cases: list[str] = []

    def err(fieldname: str, reason_sql: str) -> str:
        col = source.fields[fieldname].column if fieldname in source.fields else None
        return (f"{{'field': {quote_literal(fieldname)}, 'column': "
                f"{quote_literal(col) if col else 'NULL'}, 'reason': {reason_sql}}}")

    def msg(prefix: str, value_sql: str = "", suffix: str = "") -> str:
        out = quote_literal(prefix)
        if value_sql:
            out += " || " + value_sql
        if suffix:
            out += " || " + quote_literal(suffix)
        return out

    cases.append('WHEN "_r_ts" IS NULL THEN ' + err("ts", msg("missing timestamp")))
    numeric_hint = (" needs --ts-unit s|ms|us|ns (and --ts-origin for traces that count from their start)"
                    if not options.ts_unit else " is out of range")
    cases.append("WHEN ts IS NULL AND regexp_full_match(\"_r_ts\", '-?\\d+(\\.\\d+)?') THEN "
                 + err("ts", msg("numeric timestamp ", _value_text("ts"), numeric_hint)))
    cases.append("WHEN ts IS NULL THEN " + err("ts", msg("unparseable timestamp ", _value_text("ts"))))
    if not options.allow_any_ts:
        cases.append(f"WHEN ts < TIMESTAMP {quote_literal(min_ts)} THEN " + err(
            "ts", msg(f"timestamp before {min_ts}: a relative trace? pass --ts-unit and --ts-origin "
                      "(or --allow-any-ts)")))
        cases.append(f"WHEN ts > CAST(now() AS TIMESTAMP) + INTERVAL {int(future_hours)} HOUR THEN " + err(
            "ts", msg(f"timestamp more than {future_hours} h in the future (or pass --allow-any-ts)")))
    expected_by_kind = {
        "int": "expected a non-negative integer", "float": "expected a number", "money": "expected an amount",
        "bool": "expected true or false", "status": "expected ok/error (or success/failure, or an HTTP status)",
        "ts": "unparseable timestamp", "grain": "expected request or bucket",
        "sens": "expected public, internal, confidential or regulated",
    }
    for name in source.fields:
        kind = FIELD_KINDS[name]
        if name == "ts" or kind in ("str", "text", "lstr"):
            continue
        q = f'"{name}"'
        cases.append(f'WHEN "_r_{name}" IS NOT NULL AND {q} IS NULL THEN '
                     + err(name, msg(expected_by_kind[kind] + ", got ", _value_text(name))))
        if kind == "int":
            cases.append(f"WHEN {q} < 0 THEN " + err(name, msg("negative count: ", q)))
            cases.append(f"WHEN {q} >= {MAX_TOKENS} THEN " + err(name, msg("implausibly large count: ", q)))
        if kind == "float":
            cases.append(f"WHEN {q} < 0 OR isnan({q}) OR isinf({q}) THEN "
                         + err(name, msg("expected a non-negative number, got ", q)))
    subsets = [
        ("cached_input_tokens", "input_tokens", "cache reads"),
        ("cache_write_tokens", "input_tokens", "cache writes"),
        ("reasoning_tokens", "output_tokens", "reasoning tokens"),
    ]
    for part, whole, label in subsets:
        if part in source.fields and whole in source.fields:
            cases.append(f'WHEN "{part}" > "{whole}" THEN ' + err(
                part, msg(f"{label} (", f'"{part}"', "") + " || " + msg(f") above {whole} (", f'"{whole}"', ")")))
    if all(f in source.fields for f in ("cached_input_tokens", "cache_write_tokens", "input_tokens")):
        cases.append("WHEN coalesce(cached_input_tokens, 0) + coalesce(cache_write_tokens, 0) > input_tokens THEN "
                     + err("cached_input_tokens", msg("cache reads + cache writes above input_tokens (",
                                                      "input_tokens", ")")))
    if "ts_end" in source.fields:
        cases.append('WHEN "_r_ts_end" IS NOT NULL AND ts_end IS NULL THEN '
                     + err("ts_end", msg("unparseable timestamp ", _value_text("ts_end"))))
        cases.append("WHEN ts_end < ts THEN " + err("ts_end", msg("end before start")))
    return cases


def _fingerprint_sql(prompt: str, chars: int) -> str:
    """Template identity: the normalised leading characters (case, digits and spacing folded)."""
    lead = f"left({prompt}, {int(chars)})"
    norm = f"regexp_replace(regexp_replace(lower({lead}), '\\d+', '0', 'g'), '\\s+', ' ', 'g')"
    return f"CASE WHEN {prompt} IS NOT NULL THEN left(md5(trim({norm})), 16) END"


def build_stage_sql(source: MappedSource, source_id: str, options: IngestOptions, *,
                    min_ts: str, future_hours: int, fingerprint_chars: int) -> str:
    """One SELECT that parses, validates and fingerprints every record of `source`."""
    parsed: list[str] = ["_row AS source_row"]
    for name, src in source.fields.items():
        if name == "prompt":
            continue
        parsed.append(f'{_text(src) if FIELD_KINDS[name] != "text" else src.sql} AS "_r_{name}"')
        parsed.append(f'{typed_sql(name, src, options)} AS "{name}"')
    tag_entries = ", ".join(f"struct_pack(k := {quote_literal(k)}, v := {expr})" for k, expr in source.tags)
    parsed.append(
        f"map_from_entries(list_filter([{tag_entries}], lambda e: e.v IS NOT NULL))"
        if source.tags else "CAST(MAP {} AS MAP(VARCHAR, VARCHAR))"
    )
    parsed[-1] += " AS tags"
    rec = ", ".join(f"{quote_ident(k)} := {expr}" for k, expr in source.record) or "_row := _row"
    parsed.append(f"struct_pack({rec}) AS _rec")
    prompt = source.fields.get("prompt")
    if prompt is not None and not options.no_text:
        p = f"CAST({prompt.sql} AS VARCHAR)"
        parsed += [
            f"length({p}) AS prompt_chars",
            f"sha256({p}) AS prompt_sha256",
            f"{_fingerprint_sql(p, fingerprint_chars)} AS prompt_fingerprint",
            f"{sensitivity.pii_types_sql(p)} AS pii_types",
            f"{p} AS _prompt",  # staging only: sampled and redacted in commit(), never inserted
        ]
    else:
        parsed += ["CAST(NULL AS BIGINT) AS prompt_chars", "CAST(NULL AS VARCHAR) AS prompt_sha256",
                   "CAST(NULL AS VARCHAR) AS prompt_fingerprint", "CAST(NULL AS VARCHAR[]) AS pii_types",
                   "CAST(NULL AS VARCHAR) AS _prompt"]

    def col(name: str) -> str:
        if name in source.fields and name != "prompt":
            return f'"{name}"'
        if name == "grain":
            return quote_literal(source.grain)
        if name == "latency_ms" and "ts_end" in source.fields:
            return "CAST(epoch_ms(ts_end) - epoch_ms(ts) AS DOUBLE)"
        if name == "requests":
            return "1" if source.grain == "request" else "CAST(NULL AS BIGINT)"
        return f"CAST(NULL AS {_SQL_TYPES.get(FIELD_KINDS.get(name, 'str'), 'VARCHAR')})"

    canon = [
        f"{col('grain')} AS grain", "ts", f"{col('ts_end')} AS ts_end", f"{col('provider')} AS provider",
        f"{col('model')} AS model", "CAST(NULL AS VARCHAR) AS model_ref",
        *(f"{col(c)} AS {c}" for c in ("project", "api_key_id", "user_id", "session_id", "request_id", "workload")),
        "tags",
        *(f"{col(c)} AS {c}" for c in ("requests", "input_tokens", "cached_input_tokens", "cache_write_tokens",
                                       "output_tokens", "reasoning_tokens", "batch", "service_tier", "status",
                                       "latency_ms", "ttft_ms", "billed_cost_usd")),
        "prompt_chars", "prompt_sha256", "prompt_fingerprint", "pii_types",
        f"{col('sensitivity')} AS sensitivity", f"{col('kind')} AS kind", "_prompt",
    ]
    raws = [f'"_r_{name}"' for name in source.fields if name != "prompt"]
    cases = "\n            ".join(_error_cases(source, options, min_ts, future_hours))
    event_id = (
        "CASE WHEN request_id IS NOT NULL THEN md5(to_json(['r', provider, request_id])) "
        "WHEN grain = 'bucket' THEN md5(to_json(['b', provider, CAST(ts AS VARCHAR), CAST(ts_end AS VARCHAR), model, "
        "project, api_key_id, user_id, CAST(batch AS VARCHAR), service_tier, kind, workload, "
        "CAST(to_json(map_entries(tags)) AS VARCHAR)])) "
        f"ELSE md5({quote_literal(source_id + ':')} || source_row) END"
    )
    raw = sensitivity.redact_sql("to_json(_rec)")
    return f"""
WITH
src AS (SELECT * FROM {source.relation}),
parsed AS (
    SELECT {", ".join(parsed)}
    FROM src
),
canonical AS (
    SELECT source_row, _rec, {", ".join(canon + raws)}
    FROM parsed
),
checked AS (
    SELECT *,
        CASE
            {cases}
        END AS _err
    FROM canonical
)
SELECT
    {event_id} AS event_id,
    {quote_literal(source_id)} AS source_id,
    * EXCLUDE (_rec, _err{"".join(", " + r for r in raws)}),
    _err.field AS _err_field,
    _err.column AS _err_column,
    _err.reason AS _err_reason,
    CASE WHEN _err IS NOT NULL THEN left({raw}, {int(options.raw_max_bytes)}) END AS _raw
FROM checked
"""


def stage(con: duckdb.DuckDBPyConnection, source: MappedSource, source_id: str, options: IngestOptions) -> None:
    """Create the temp table `_stage` holding every record of the file, parsed and checked."""
    sql = build_stage_sql(
        source, source_id, options, min_ts=options.min_ts, future_hours=options.future_hours,
        fingerprint_chars=options.fingerprint_chars,
    )
    con.execute("DROP TABLE IF EXISTS _stage")
    con.execute(f"CREATE TEMP TABLE _stage AS {sql}")
    if options.config is not None and options.config.sensitivity.presidio and not options.no_text:
        sensitivity.presidio_scan(con, options.config)


@dataclass
class Counts:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    first_error: str | None = None


def commit(con: duckdb.DuckDBPyConnection, source_id: str, path: str, run_id: str | None,
           samples_per_group: int = 200, config: Config | None = None) -> Counts:
    """Dedupe `_stage`, upsert good rows into usage, copy bad rows to rejected, keep the redacted
    prompt samples; return the counts. The prompt text leaves with `_stage`, dropped here."""
    con.execute(load_sql("stages/ingest_incoming"))
    con.execute(load_sql("stages/ingest_reject"), {"path": path, "run_id": run_id})
    row = con.execute(load_sql("stages/ingest_counts")).fetchone()
    assert row is not None
    read, rejected, incoming = (int(v or 0) for v in row)
    con.execute(load_sql("stages/ingest_supersede"))
    loaded_row = con.execute(load_sql("stages/ingest_insert")).fetchone()
    loaded = int(loaded_row[0]) if loaded_row else 0
    sensitivity.keep_samples(con, samples_per_group, config)
    first = con.execute(
        "SELECT source_row, _err_field, _err_reason FROM _stage WHERE _err_reason IS NOT NULL "
        "ORDER BY source_row LIMIT 1"
    ).fetchone()
    con.execute("DROP TABLE IF EXISTS _stage")
    con.execute("DROP TABLE IF EXISTS _incoming")
    return Counts(
        rows_read=read, rows_loaded=loaded, rows_rejected=rejected, rows_duplicate=read - rejected - loaded,
        first_error=f"row {first[0]}: {first[1]}: {first[2]}" if first else None,
    )


def check_columns(path: str, available: list[str], wanted: dict[str, str]) -> None:
    """Every mapped column must exist in the file (by exact name); suggest the nearest one."""
    import difflib

    for fieldname, column in wanted.items():
        if column not in available:
            close = difflib.get_close_matches(column, available, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = ", ".join(repr(c) for c in available[:20])
            raise InputError(
                path, f"no column {column!r} in the file{hint}", field=f"--map {fieldname}={column}",
                hint=f"columns are: {shown}{' ...' if len(available) > 20 else ''}",
            )
