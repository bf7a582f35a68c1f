"""Map any staged relation onto the canonical `usage` columns, validate in SQL, insert.

Every adapter ends here: it describes where each canonical field comes from (a SQL expression over
its reader, with the expression's type and the source column it names in errors), and this module
builds one staging query that parses, validates and fingerprints every row in a single pass, then
runs the fixed statements in `sql/stages/ingest_*.sql` to dedupe, upsert and reject.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from planner import price_keys, sensitivity
from planner.db import load_sql, quote_ident, quote_literal
from planner.errors import InputError

if TYPE_CHECKING:
    import duckdb

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


@dataclass(frozen=True)
class RowCheck:
    """An adapter's own check on a raw record, tested before the field checks (first failing wins)."""

    condition: str                      # SQL over the reader's columns; true = the record is rejected
    field: str                          # the canonical field (or `record`) named in `rejected.field`
    reason: str                         # SQL over the reader's columns: the reason text
    column: str | None = None           # the source column/path, when there is one


@dataclass
class MappedSource:
    """What an adapter hands to the stage: its reader and the origin of each field."""

    relation: str                       # FROM clause; must expose `_row`, the 1-based record number
    fields: dict[str, FieldSource]
    tags: list[tuple[str, str]] = field(default_factory=list)   # (key, VARCHAR expression)
    record: list[tuple[str, str]] = field(default_factory=list)  # (name, expression): the raw record
    grain: str = "request"
    checks: list[RowCheck] = field(default_factory=list)
    # adapter checks over the parsed row (canonical fields, their raw text `_r_<field>`, the raw record
    # `_rec`), tried before the generic ones: (condition, field, source column, reason as SQL)
    field_checks: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    # tag keys that identify a bucket (group-by dimensions); None = every tag. Measures kept in tags
    # must stay out of the bucket key, or a re-export with a larger count would load twice
    key_tags: tuple[str, ...] | None = None

    @property
    def may_repeat(self) -> bool:
        """Whether two records of one file can be the same event (request ids or buckets)."""
        return "request_id" in self.fields or self.grain == "bucket" or "grain" in self.fields


def _is_numeric(sql_type: str) -> bool:
    base = sql_type.upper().split("(")[0]
    return base in _INT_TYPES or base in _FLOAT_TYPES or base == "DECIMAL"


def raw_sql(src: FieldSource) -> tuple[str, str]:
    """The raw value as read (SQL, kind of value): text for text sources, else the typed value.

    CSV readers already turn empty cells and literal nulls into NULL; JSON strings are only emptied of ''.
    """
    t = src.type.upper()
    if t == "JSON":
        return f"nullif(json_extract_string({src.sql}, '$'), '')", "text"
    if t in ("VARCHAR", "TEXT", "STRING"):
        return src.sql, "text"
    return src.sql, t


def _text(src: FieldSource) -> str:
    """A source value as trimmed text with literal nulls removed (the charges path parses from this)."""
    raw, t = raw_sql(src)
    return _slow_text(raw if t == "text" else f"CAST({raw} AS VARCHAR)")


def _slow_text(x: str) -> str:
    """Trimmed text with literal nulls removed: only on the slow paths, where a fast cast failed."""
    return f"nullif(nullif(nullif(trim({x}), ''), 'NULL'), 'null')"


def typed_from_raw(fieldname: str, x: str, raw_type: str, options: IngestOptions) -> str:
    """SQL for the parsed value of a field from its raw value `x` (NULL when absent or unparseable)."""
    kind = FIELD_KINDS[fieldname]
    t = raw_type.upper().split("(")[0]
    text = t == "TEXT"
    if kind == "int":
        if t in _INT_TYPES:
            return f"CAST({x} AS BIGINT)"
        if t in _FLOAT_TYPES or t == "DECIMAL":
            return (f"CASE WHEN {x} = trunc({x}) AND abs({x}) < {MAX_TOKENS * 10} "
                    f"THEN CAST({x} AS BIGINT) END")
        if not text:
            x = f"CAST({x} AS VARCHAR)"
        y = _slow_text(x)
        # fast path: the text is exactly an integer's canonical form; slow path: trim, thousands
        # separators, exponents. TRY_CAST alone would round '12.5' and read '0x10'.
        return (
            f"CASE WHEN {x} IS NULL THEN NULL "
            f"WHEN CAST(TRY_CAST({x} AS BIGINT) AS VARCHAR) = {x} THEN TRY_CAST({x} AS BIGINT) "
            f"WHEN regexp_full_match({y}, '[+-]?\\d+') THEN TRY_CAST({y} AS BIGINT) "
            f"WHEN regexp_full_match({y}, '\\d{{1,3}}(,\\d{{3}})+') THEN TRY_CAST(replace({y}, ',', '') AS BIGINT) "
            f"WHEN regexp_full_match({y}, '-?\\d+(\\.\\d*)?([eE][+]?\\d+)?') "
            f"AND TRY_CAST({y} AS DOUBLE) = trunc(TRY_CAST({y} AS DOUBLE)) "
            f"AND abs(TRY_CAST({y} AS DOUBLE)) < {MAX_TOKENS * 10} "
            f"THEN CAST(TRY_CAST({y} AS DOUBLE) AS BIGINT) END"
        )
    if kind == "float":
        if _is_numeric(t):
            return f"CAST({x} AS DOUBLE)"
        return f"coalesce(TRY_CAST({x} AS DOUBLE), TRY_CAST({_slow_text(x)} AS DOUBLE))"
    if kind == "money":
        if _is_numeric(t):
            return f"TRY_CAST({x} AS DECIMAL(38, 10))"
        return (f"coalesce(TRY_CAST({x} AS DECIMAL(38, 10)), "
                f"TRY_CAST(replace(ltrim({_slow_text(x)}, '$'), ',', '') AS DECIMAL(38, 10)))")
    if kind == "bool":
        if t == "BOOLEAN":
            return x
        return _lookup(x if text else f"CAST({x} AS VARCHAR)", _BOOLS, "BOOLEAN")
    v = x if text else f"CAST({x} AS VARCHAR)"
    if kind == "text":
        return v
    if kind == "str":
        return f"nullif({v}, '')"
    if kind == "lstr":
        return f"lower(nullif({v}, ''))"
    if kind == "grain":
        return _lookup(v, {"request": "'request'", "bucket": "'bucket'"}, "VARCHAR")
    if kind == "sens":
        return _lookup(v, {c: f"'{c}'" for c in ("public", "internal", "confidential", "regulated")}, "VARCHAR")
    if kind == "status":
        return _lookup(v, _STATUSES, "VARCHAR",
                       fallback=lambda low: f"CASE WHEN regexp_full_match({low}, '2\\d\\d') THEN 'ok' "
                                            f"WHEN regexp_full_match({low}, '[1345]\\d\\d') THEN 'error' END")
    if kind == "ts":
        return _ts_sql(x, t, options)
    raise AssertionError(kind)


_BOOLS = {**dict.fromkeys(("true", "t", "1", "yes", "y"), "true"), **dict.fromkeys(("false", "f", "0", "no", "n"), "false")}
_STATUSES = {**dict.fromkeys(("ok", "success", "succeeded", "successful", "completed", "complete", "true", "stop", "200"), "'ok'"),
             **dict.fromkeys(("error", "failure", "failed", "fail", "cancelled", "canceled", "timeout", "aborted", "false", "rejected"), "'error'")}


def _lookup(v: str, table: dict[str, str], sql_type: str, fallback=None) -> str:  # type: ignore[no-untyped-def]
    """Map text through `table`: exact spelling first (a simple CASE: no join, prunable), then the
    trimmed, lower-cased text, then `fallback(lowered)` when given."""
    exact = " ".join(f"WHEN {quote_literal(k)} THEN {val}" for k, val in table.items())
    low = f"lower({_slow_text(v)})"
    slow = f"CASE {low} {exact} ELSE {fallback(low) if fallback else 'NULL'} END"
    return f"CAST(CASE {v} {exact} ELSE {slow} END AS {sql_type})"


def typed_sql(fieldname: str, src: FieldSource, options: IngestOptions) -> str:
    """SQL for the parsed value of a field straight from its source expression."""
    raw, raw_type = raw_sql(src)
    return typed_from_raw(fieldname, raw, raw_type, options)


def _numeric_ts(x: str, options: IngestOptions) -> str:
    """A numeric timestamp `x` (DOUBLE) as naive UTC."""
    origin = f"CAST(TIMESTAMPTZ {quote_literal(options.ts_origin)} AS TIMESTAMP)" \
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
    return f"CAST(timezone({quote_literal(tz)}, {naive}) AS TIMESTAMP)"


def utc_zone(options: IngestOptions) -> bool:
    return (options.tz or "UTC").upper() in ("UTC", "ETC/UTC", "Z", "GMT")


def _utc_naive(tstz: str) -> str:
    """A TIMESTAMPTZ as naive UTC. The session zone is UTC, so this equals CAST(... AS TIMESTAMP)
    at half the cost (the cast goes through ICU even for UTC); an infinite value becomes NULL."""
    return f"make_timestamp(epoch_us({tstz}))"


def _ts_sql(x: str, t: str, options: IngestOptions) -> str:
    """Naive UTC from any timestamp value. The session time zone is UTC, so zone-less text read as
    TIMESTAMPTZ is UTC; another --tz needs to know which values carry their own offset."""
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return _utc_naive(x)
    if t.startswith("TIMESTAMP") or t == "DATE":
        return _zoned(f"CAST({x} AS TIMESTAMP)", options)
    if _is_numeric(t):
        return _numeric_ts(f"CAST({x} AS DOUBLE)", options)
    if t != "TEXT":
        x = f"CAST({x} AS VARCHAR)"
    y = _slow_text(x)
    numeric = (f"CASE WHEN regexp_full_match({y}, '-?\\d+(\\.\\d+)?') "
               f"THEN {_numeric_ts(f'TRY_CAST({y} AS DOUBLE)', options)} END")
    if utc_zone(options):
        return f"coalesce({_utc_naive(f'TRY_CAST({x} AS TIMESTAMPTZ)')}, {_utc_naive(f'TRY_CAST({y} AS TIMESTAMPTZ)')}, {numeric})"
    return (
        f"CASE WHEN {x} IS NULL THEN NULL "
        f"WHEN regexp_matches({y}, {quote_literal(_OFFSET_RE)}) THEN {_utc_naive(f'TRY_CAST({y} AS TIMESTAMPTZ)')} "
        f"ELSE coalesce({_zoned(f'TRY_CAST({y} AS TIMESTAMP)', options)}, {numeric}) END"
    )


def _value_text(fieldname: str) -> str:
    """The raw value for an error message: short, quoted, and redacted. A timestamp or number that is
    only digits and date punctuation, and holds nothing the detectors flag, is shown as it is:
    redacting `01/07/2025 14:02` or `1735693200` would leave the reader nothing to fix."""
    v = f'left(CAST("_r_{fieldname}" AS VARCHAR), 40)'
    shown = sensitivity.redact_sql(v, numbers=False)
    if FIELD_KINDS.get(fieldname) in ("ts", "int", "float", "money"):
        shown = (f"CASE WHEN regexp_full_match({v}, '[0-9 :/.,TZtzeE+\\-]+') AND len({sensitivity.pii_types_sql(v)}) = 0 "
                 f"THEN {v} ELSE {shown} END")
    return f"'\"' || {shown} || '\"'"


def _error_cases(source: MappedSource, options: IngestOptions, min_ts: str, future_hours: int) -> list[str]:
    """`WHEN cond THEN struct` clauses, first failing check wins."""
    cases: list[str] = []

    def err(fieldname: str, reason_sql: str) -> str:
        col = source.fields[fieldname].column if fieldname in source.fields else None
        return (f"{{'field': {quote_literal(fieldname)}, 'column': "
                f"{quote_literal(col) if col else 'NULL'}, 'reason': {reason_sql}}}")

    for cond, fieldname, column, reason_sql in source.field_checks:
        cases.append(f"WHEN {cond} THEN {{'field': {quote_literal(fieldname)}, 'column': "
                     f"{quote_literal(column) if column else 'NULL'}, 'reason': {reason_sql}}}")

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
    cases.append("WHEN ts IS NULL AND regexp_full_match(trim(CAST(\"_r_ts\" AS VARCHAR)), '-?\\d+(\\.\\d+)?') THEN "
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


def _key_tags_sql(keys: tuple[str, ...] | None) -> str:
    """The tag entries that belong in a bucket's identity."""
    if keys is None:
        return "map_entries(tags)"
    if not keys:
        return "CAST([] AS VARCHAR[])"
    wanted = "[" + ", ".join(quote_literal(k) for k in keys) + "]"
    return f"list_filter(map_entries(tags), lambda e: list_contains({wanted}, e.key))"


def _tags_sql(tags: list[tuple[str, str]]) -> str:
    """The `tags` map of a row: every (key, text) pair whose value is not NULL.

    Building a MAP checks each row's keys for repeats through boxed values (~150 ns a row), so a row
    whose values are all present takes a struct cast instead (field names are unique already): about
    ten times cheaper. Rows with a missing value, and key sets a struct cannot hold (empty names,
    names equal but for case), take the general path.
    """
    if not tags:
        return "CAST(MAP {} AS MAP(VARCHAR, VARCHAR))"
    entries = ", ".join(f"struct_pack(k := {quote_literal(k)}, v := {expr})" for k, expr in tags)
    general = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    keys = [k for k, _ in tags]
    if not all(keys) or len({k.lower() for k in keys}) < len(keys):
        return general
    fields = ", ".join(f"{quote_ident(k)} := CAST({expr} AS VARCHAR)" for k, expr in tags)
    present = " AND ".join(f"({expr}) IS NOT NULL" for _, expr in tags)
    return f"CASE WHEN {present} THEN CAST(struct_pack({fields}) AS MAP(VARCHAR, VARCHAR)) ELSE {general} END"


def build_stage_sql(source: MappedSource, source_id: str, options: IngestOptions, *,
                    min_ts: str, future_hours: int, fingerprint_chars: int) -> str:
    """One SELECT that parses, validates and fingerprints every record of `source`."""
    parsed: list[str] = ["_row AS source_row"]
    for name, src in source.fields.items():
        if name == "prompt":
            continue
        raw, raw_type = raw_sql(src)
        parsed.append(f'{raw} AS "_r_{name}"')
        parsed.append(f'{typed_from_raw(name, raw, raw_type, options)} AS "{name}"')
    parsed.append(f"{_tags_sql(source.tags)} AS tags")
    rec = ", ".join(f"{quote_ident(k)} := {expr}" for k, expr in source.record) or "_row := _row"
    parsed.append(f"struct_pack({rec}) AS _rec")
    checks = [f'"_chk{i}"' for i in range(len(source.checks))]
    parsed += [f'CASE WHEN coalesce(({c.condition}), false) THEN CAST(({c.reason}) AS VARCHAR) END AS "_chk{i}"'
               for i, c in enumerate(source.checks)]
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
        if name == "latency_ms" and "ts_end" in source.fields and source.grain == "request":
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
    raws = [f'"_r_{name}"' for name in source.fields if name != "prompt"] + checks
    own = [f"WHEN {flag} IS NOT NULL THEN {{'field': {quote_literal(c.field)}, 'column': "
           f"{quote_literal(c.column) if c.column else 'NULL'}, 'reason': {flag}}}"
           for flag, c in zip(checks, source.checks, strict=True)]
    clauses = own + _error_cases(source, options, min_ts, future_hours)
    cases = "\n            ".join(clauses)
    # one cheap OR over every condition first; the detailed CASE (building the message) then runs
    # only for the rare failing rows instead of walking every WHEN for every row
    any_error = " OR ".join(f"({c[len('WHEN '):c.index(' THEN ')]})" for c in clauses)

    def key(*parts: str) -> str:
        # unit separators between parts, a record separator for NULL: unambiguous and cheap
        return "CAST(md5(" + " || chr(31) || ".join(f"coalesce(CAST({p} AS VARCHAR), chr(30))" for p in parts) + ") AS UUID)"

    request_key = key("'r'", "provider", "request_id")
    bucket_key = key("'b'", "provider", "ts", "ts_end", "model", "project", "api_key_id", "user_id", "batch",
                     "service_tier", "kind", "workload", _key_tags_sql(source.key_tags))
    by_record = f"CAST(md5({quote_literal(source_id + ':')} || source_row) AS UUID)"
    # decided per source, so a request log never computes the bucket key's inputs for nothing
    event_id = by_record
    if "grain" in source.fields or source.grain == "bucket":
        event_id = f"CASE WHEN grain = 'bucket' THEN {bucket_key} ELSE {event_id} END"
    if "request_id" in source.fields:
        event_id = f"CASE WHEN request_id IS NOT NULL THEN {request_key} ELSE {event_id} END"
    raw = sensitivity.redact_sql("to_json(_rec)", numbers=False)
    return f"""
WITH
src AS NOT MATERIALIZED (SELECT * FROM {source.relation}),
parsed AS NOT MATERIALIZED (
    SELECT {", ".join(parsed)}
    FROM src
),
canonical AS NOT MATERIALIZED (
    SELECT source_row, _rec, {", ".join(canon + raws)}
    FROM parsed
),
checked AS NOT MATERIALIZED (
    SELECT *,
        CASE WHEN {any_error} THEN CASE
            {cases}
        END END AS _err
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
    """Define the temp view `_stage`: every record of the file, parsed and checked.

    A view, not a table: the insert streams the parse straight into `usage` (memory stays flat
    however large the file), and queries that need only a few columns (counts, rejects) let
    DuckDB skip the rest of the work. A small file (at most `SMALL_FILE_RECORDS` records: bucket
    exports, a day of logs) is parsed once into a temp table instead: the staged SQL is large, and
    planning it for each of the half-dozen statements that read it costs more than parsing a few
    thousand records.
    """
    sql = build_stage_sql(
        source, source_id, options, min_ts=options.min_ts, future_hours=options.future_hours,
        fingerprint_chars=options.fingerprint_chars,
    )
    drop_stage(con)
    probe = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source.relation} LIMIT {SMALL_FILE_RECORDS + 1})")
    row = probe.fetchone()
    kind = "TABLE" if row is not None and row[0] <= SMALL_FILE_RECORDS else "VIEW"
    con.execute(f"CREATE TEMP {kind} _stage AS {sql}")


SMALL_FILE_RECORDS = 20_000


def drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    """Drop `_stage`, a view or a table."""
    found = con.execute("SELECT 'VIEW' FROM duckdb_views() WHERE view_name = '_stage' AND temporary "
                        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = '_stage' AND temporary"
                        ).fetchall()
    for (kind,) in found:
        con.execute(f"DROP {kind} IF EXISTS _stage")


@dataclass
class Counts:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    first_error: str | None = None


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None) -> int:
    row = con.execute(sql, params).fetchone() if params else con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def commit(con: duckdb.DuckDBPyConnection, source_id: str, path: str, run_id: str | None, *,
           may_repeat: bool = True, options: IngestOptions | None = None) -> Counts:
    """Insert the good rows of `_stage` into usage, the bad ones into rejected, then settle repeats:
    within the file (the most complete copy wins) and against stored events (an upsert: the more
    complete copy stays), and keep the file's share of redacted prompt samples. Returns the counts.

    `may_repeat=False` when event ids come from the record number (no request id, no buckets): a
    file cannot repeat those, so the duplicate search is skipped. The prompt text never reaches a
    table: it is read through the `_stage` view only for the few rows sampled (and, with Presidio
    on, for the scan).
    """
    since = _count(con, "SELECT coalesce(max(rowid), -1) FROM usage")  # rows after it are this file's
    params = {"since": since}
    # the count pass also lists the file's (provider, model) pairs, resolved once each for model_ref
    pairs = con.execute("SELECT provider, model, count(*) FROM _stage GROUP BY ALL").fetchall()
    read = sum(int(n) for _, _, n in pairs)
    _model_refs(con, [(p, m) for p, m, _ in pairs], options)
    # rows carry their record number: their order in the table does not matter, and not keeping
    # it lets DuckDB insert from every thread with less memory
    con.execute("SET preserve_insertion_order = false")
    try:
        inserted = _count(con, load_sql("stages/ingest_insert_good"))
    finally:
        con.execute("SET preserve_insertion_order = true")
    rejected = read - inserted
    first = None
    if rejected:
        con.execute(load_sql("stages/ingest_reject"), {"path": path, "run_id": run_id})
        row = con.execute("SELECT source_row, field, reason FROM rejected WHERE source_id = ? "
                          "ORDER BY source_row LIMIT 1", [source_id]).fetchone()
        first = f"row {row[0]}: {row[1]}: {row[2]}" if row else None
    repeats = 0
    if may_repeat and inserted:
        repeats += _count(con, load_sql("stages/ingest_dedupe_file"), params)
    if inserted and _count(con, load_sql("stages/ingest_overlap"), params):
        con.execute(load_sql("stages/ingest_conflicts"), params)
        repeats += _count(con, "SELECT count(*) FROM _conflicts WHERE NOT new_wins")
        price_keys.remove_conflicts(con)
        con.execute(load_sql("stages/ingest_settle_conflicts"))
        con.execute("DROP TABLE IF EXISTS _conflicts")
    config = options.config if options is not None else None
    if inserted and not (options is not None and options.no_text):
        if config is not None and config.sensitivity.presidio:
            sensitivity.presidio_scan(con, config, since)
        sensitivity.keep_samples(con, options.samples_per_group if options is not None else 200, config, since)
    if inserted:
        price_keys.add(con, since)  # the file's price keys, for the price stage
    drop_stage(con)
    con.execute("DROP TABLE IF EXISTS _model_refs")
    return Counts(rows_read=read, rows_loaded=inserted - repeats, rows_rejected=rejected, rows_duplicate=repeats,
                  first_error=first)


def _model_refs(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str | None, str | None]],
                options: IngestOptions | None) -> None:
    """The temp table `_model_refs` (provider, model, model_ref) the insert joins: rows arrive with the
    id pricing resolves them to, so the price stage rewrites none unless the configuration changes.
    Without a configuration, or when it cannot price, model_ref stays NULL for the price stage to fill."""
    from planner import pricing
    from planner.errors import ConfigError

    refs: dict[tuple[str | None, str | None], str | None] = {}
    if options is not None and options.config is not None:
        try:
            refs = pricing.model_refs(options.config, pairs)
        except ConfigError:
            refs = {}
    con.execute("CREATE OR REPLACE TEMP TABLE _model_refs (provider VARCHAR, model VARCHAR, model_ref VARCHAR)")
    rows = [(p, m, r) for (p, m), r in refs.items() if r is not None]
    if rows:
        con.executemany("INSERT INTO _model_refs VALUES (?, ?, ?)", rows)


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
