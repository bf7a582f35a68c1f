"""generic: any CSV, JSONL, JSON array or Parquet usage log, through a column mapping (DESIGN §5.3).

Mapping is by column name, never by position: `--map input_tokens="Request tokens"`. A dotted name
that is not itself a column reaches into nested JSON/Parquet values (`--map input_tokens=usage.prompt_tokens`).
Columns not mapped land in `tags` as text; the `prompt` column is scanned and never stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planner.db import quote_ident, quote_literal
from planner.errors import InputError, UsageError
from planner.ingest import IngestOptions, LoadResult, RetryAsText, SourceFile
from planner.ingest._stage import (
    FIELD_KINDS,
    FieldSource,
    MappedSource,
    check_columns,
    commit,
    stage,
    typed_sql,
    utc_zone,
)

if TYPE_CHECKING:
    import duckdb

FORMAT = "generic"
NULL_STRINGS = ["", "NULL", "null", "\\N"]
MEASURES = ("input_tokens", "output_tokens", "requests")
_NESTED = ("STRUCT", "MAP", "JSON", "UNION")


def sniff(path: Path, head: bytes, container: str) -> bool:
    """Never claims a file: generic needs a mapping, so it is chosen with --format generic or --map."""
    return False


def reader_sql(file: SourceFile, *, typed: set[str] | None = None, columns: list[str] | None = None,
               lenient: bool = False) -> str:
    """A reader over the file exposing every column (no record number; see `materialize`).

    CSV columns are read as text, except those in `typed` (numeric fields, ISO time columns), which
    DuckDB may type itself: much faster on clean files. A value that does not fit makes the read fail with a
    conversion error, and the caller retries the file all as text (RetryAsText).
    """
    path = quote_literal(str(file.path))
    comp = _compression(file)
    if file.container == "parquet":
        return f"read_parquet({path}, file_row_number = true)"
    if file.container in ("json", "jsonl"):
        # '[' starts an array; lines that parse alone are NDJSON; anything else DuckDB decides
        fmt = "newline_delimited" if file.container == "jsonl" else (
            "array" if file.head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" else "auto")
        return (f"read_json({path}, format = '{fmt}', sample_size = -1, "
                f"maximum_object_size = 268435456{comp})")
    if typed and columns:
        text_cols = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns if c not in typed)
        varchar = f", types = {{{text_cols}}}" if text_cols else ""
    else:
        varchar = ", all_varchar = true"
    if lenient:  # malformed rows land in _csv_rejects instead of failing the file
        varchar = ", all_varchar = true, ignore_errors = true, store_rejects = true, " \
                  "rejects_table = '_csv_rejects', rejects_scan = '_csv_scans'"
    return f"read_csv({_csv_args(file)}{varchar})"


def _compression(file: SourceFile) -> str:
    return f", compression = {quote_literal(file.compression)}" if file.compression else ""


def _csv_args(file: SourceFile) -> str:
    """The path and options every CSV read of `file` shares (read_csv, sniff_csv)."""
    nulls = "[" + ", ".join(quote_literal(s) for s in NULL_STRINGS) + "]"
    return f"{quote_literal(str(file.path))}, header = true, nullstr = {nulls}{_compression(file)}"


def materialize(con: duckdb.DuckDBPyConnection, file: SourceFile, reader: str, *, lenient: bool = False) -> str:
    """Read the file once into a temp table and return a relation over it with `_row`.

    Record numbers come from the temp table's rowid: DuckDB keeps file order when it loads a
    table (preserve_insertion_order), while reading in parallel; WITH ORDINALITY would read on one
    thread. Parquet carries its own row numbers and is read in place.
    """
    if file.container == "parquet":
        return f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row FROM {reader})"
    con.execute("DROP TABLE IF EXISTS _raw")
    con.execute(f"CREATE TEMP TABLE _raw AS SELECT * FROM {reader}")
    # temp-table rowids start at an offset, consecutive in insertion order
    row = con.execute("SELECT min(rowid) FROM _raw").fetchone()
    base = int(row[0]) if row and row[0] is not None else 0
    if not lenient:
        return f"(SELECT rowid - {base} + 1 AS _row, * FROM _raw)"
    # the k-th good row is record k + (malformed records before it); record = line - 1 (header)
    return (f"(SELECT g._good + coalesce(x._skipped, 0) AS _row, g.* EXCLUDE (_good) FROM "
            f"(SELECT rowid - {base} + 1 AS _good, * FROM _raw) AS g ASOF LEFT JOIN "
            f"(SELECT CAST(line AS BIGINT) - 1 - row_number() OVER (ORDER BY line) AS _good_before, "
            f"row_number() OVER (ORDER BY line) AS _skipped FROM _csv_rejects) AS x "
            f"ON g._good > x._good_before)")


def describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation} AS src").fetchall()
    return [(r[0], r[1]) for r in rows if r[0] not in ("_row", "file_row_number")]


def _text_expr(name: str, sql_type: str) -> str:
    col = f"src.{quote_ident(name)}"
    t = sql_type.upper()
    if t == "VARCHAR":
        return col
    if t.startswith(_NESTED) or t.endswith("]"):
        return f"CAST(to_json({col}) AS VARCHAR)"
    return f"CAST({col} AS VARCHAR)"


def _resolve(column: str, types: dict[str, str]) -> tuple[str, str] | None:
    """A mapped column as (SQL, type); dotted names reach into nested values."""
    if column in types:
        return f"src.{quote_ident(column)}", types[column]
    parts = column.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        if head not in types:
            continue
        t = types[head].upper()
        rest = parts[i:]
        if t == "JSON" or t == "VARCHAR":
            path = "$." + ".".join('"' + p.replace('"', '\\"') + '"' for p in rest)
            return f"json_extract_string(src.{quote_ident(head)}, {quote_literal(path)})", "VARCHAR"
        if t.startswith("STRUCT"):
            return f"src.{quote_ident(head)}" + "".join(f".{quote_ident(p)}" for p in rest), "VARCHAR?"
    return None


def build_source(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions,
                 relation: str) -> MappedSource:
    columns = describe(con, relation)
    types = dict(columns)
    fields: dict[str, FieldSource] = {}
    for target, column in options.mapping.items():
        if target.startswith("tags."):
            continue
        resolved = _resolve(column, types)
        if resolved is None:
            check_columns(file.label, [c for c, _ in columns], {target: column})
            raise AssertionError("unreachable")
        sql, sql_type = resolved
        if sql_type == "VARCHAR?":  # a struct member: ask DuckDB for its type
            row = con.execute(f"SELECT typeof({sql}) FROM {relation} AS src LIMIT 1").fetchone()
            sql_type = row[0] if row else "VARCHAR"
        fields[target] = FieldSource(sql=sql, type=sql_type, column=column)
    for target, value in options.sets.items():
        if not target.startswith("tags."):
            fields[target] = FieldSource(sql=quote_literal(value), type="VARCHAR", column=None)
    # a column is "mapped" when it or anything nested in it is: it never lands in tags (a nested
    # prompt must not leak through its parent)
    mapped_columns = {c for c in options.mapping.values() if c in types}
    mapped_columns |= {head for c in options.mapping.values() for head in types
                       if c not in types and c.startswith(head + ".")}
    tags = [(t.removeprefix("tags."), _text_expr(c, types[c]) if c in types else (_resolve(c, types) or ("NULL",))[0])
            for t, c in options.mapping.items() if t.startswith("tags.")]
    tags += [(t.removeprefix("tags."), quote_literal(v)) for t, v in options.sets.items() if t.startswith("tags.")]
    tags += [(name, _text_expr(name, t)) for name, t in columns if name not in mapped_columns]
    tags = _unique_keys(tags)
    prompt_col = options.mapping.get("prompt")
    prompt_heads = {h for h in types if prompt_col and (prompt_col == h or prompt_col.startswith(h + "."))}
    record = [(name, _text_expr(name, t) if name not in prompt_heads else "'[prompt text withheld]'")
              for name, t in columns]
    grain = str(options.sets.get("grain", "request")).lower()
    return MappedSource(relation=f"{relation} AS src", fields=fields, tags=tags, record=record, grain=grain)


def _unique_keys(tags: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Tag keys once each: a key already taken (`--map tags.feature=...` next to an unmapped column
    `feature`) gets `_1`, `_2`, ... as DuckDB names repeated CSV headers, so no value is lost."""
    seen: set[str] = set()
    out = []
    for key, expr in tags:
        name, n = key, 0
        while name in seen:
            n += 1
            name = f"{key}_{n}"
        seen.add(name)
        out.append((name, expr))
    return out


def validate_mapping(options: IngestOptions, label: str) -> None:
    """Flag errors the same way for every file, before any is read."""
    for target in list(options.mapping) + list(options.sets):
        base = target.split(".", 1)[0] if target.startswith("tags.") else target
        if base != "tags" and target not in FIELD_KINDS:
            import difflib

            close = difflib.get_close_matches(target, list(FIELD_KINDS), n=1)
            raise UsageError(f"{label}: unknown field {target!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                             hint="fields: " + ", ".join(FIELD_KINDS) + ", tags.KEY")
    both = set(options.mapping) & set(options.sets)
    if both:
        raise UsageError(f"{label}: {sorted(both)[0]} is both mapped (--map) and set (--set)")
    if "ts" not in options.mapping and "ts" not in options.sets:
        raise UsageError(f"{label}: generic format needs --map ts=COLUMN (the request or bucket start time)")
    if not any(m in options.mapping or m in options.sets for m in MEASURES):
        raise UsageError(f"{label}: generic format needs at least one of --map input_tokens=, output_tokens= or requests=")


def check_constants(con: duckdb.DuckDBPyConnection, options: IngestOptions) -> None:
    """A --set value that does not parse as its field is a usage error, not a row error."""
    for target, value in options.sets.items():
        if target.startswith("tags.") or FIELD_KINDS[target] in ("str", "lstr", "text"):
            continue
        src = FieldSource(sql=quote_literal(value), type="VARCHAR")
        row = con.execute(f"SELECT {typed_sql(target, src, options)}").fetchone()
        if row is None or row[0] is None:
            raise UsageError(f"--set {target}={value}: not a valid {target}")


NUMERIC_KINDS = ("int", "float", "money")


def _iso_time_columns(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions,
                      columns: list[str]) -> set[str]:
    """Mapped time columns the CSV reader may type itself: those it detects as ISO 8601 timestamps.

    Parsing them in the reader is cheaper than reading text and casting it, and a typed column
    takes a third of the memory. Only ISO text qualifies (the sniffer reports no format for it): a
    detected day/month format is a guess, and a value it does not fit would be read differently
    from the text path. Only in UTC: another --tz must know which values carry their own offset.
    A later value that does not parse fails the read, and the file is read again as text.
    """
    wanted = {c for f, c in options.mapping.items() if FIELD_KINDS.get(f) == "ts" and c in columns}
    if not wanted or not utc_zone(options):
        return set()
    row = con.execute(f"SELECT DateFormat, TimestampFormat, Columns FROM sniff_csv({_csv_args(file)})"
                      ).fetchone()
    if row is None or row[0] or row[1]:
        return set()
    return {c["name"] for c in row[2] if c["name"] in wanted
            and c["type"] in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "DATE")}


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    import duckdb

    validate_mapping(options, file.label)
    check_constants(con, options)
    lenient = file.container == "csv" and options.lenient_csv
    reader = reader_sql(file, lenient=lenient)
    try:
        if file.container == "csv" and not lenient:
            columns = [c for c, _ in describe(con, reader)]
            if len(columns) == 1 and any(d in columns[0] for d in ",;\t|"):
                # the dialect sniffer gave up (rows of different widths) and read whole lines
                from planner.ingest import Retry

                raise Retry(lenient_csv=True, text_only=True)
        if file.container == "csv" and not options.text_only and not lenient:
            typed = {c for f, c in options.mapping.items() if FIELD_KINDS.get(f) in NUMERIC_KINDS and c in columns}
            typed |= _iso_time_columns(con, file, options, columns)
            if typed:
                reader = reader_sql(file, typed=typed, columns=columns)
        relation = materialize(con, file, reader, lenient=lenient)
        source = build_source(con, file, options, relation)
    except UsageError:
        raise
    except duckdb.ConversionException:
        if file.container == "csv" and not options.text_only:
            raise RetryAsText() from None
        raise
    except duckdb.Error as exc:
        _retry_for_quirks(file, options, exc)
        raise InputError(file.label, f"cannot parse: {' '.join(str(exc).split())[:300]}") from None
    stage(con, source, file.source_id, options)
    malformed, first_malformed = _reject_malformed(con, file, options) if lenient else (0, None)
    counts = commit(con, file.source_id, file.label, options.run_id, may_repeat=source.may_repeat, options=options)
    for table in ("_raw", "_csv_rejects", "_csv_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return LoadResult(rows_read=counts.rows_read + malformed, rows_loaded=counts.rows_loaded,
                      rows_rejected=counts.rows_rejected + malformed, rows_duplicate=counts.rows_duplicate,
                      first_error=_first(first_malformed, counts.first_error), warnings=_header_warnings(source))


_STRUCTURAL = ("Expected Number of Columns", "not possible to automatically detect", "CSV Error on Line",
               "unterminated quote", "Maximum line size")


def _retry_for_quirks(file: SourceFile, options: IngestOptions, exc: Exception) -> None:
    """Ask for a re-encoded copy or a lenient read when that can fix what the reader tripped on."""
    from planner.ingest import Retry
    from planner.ingest._normalize import mixed_newlines

    text = str(exc)
    if file.container == "parquet":
        return
    if not options.normalize and ("Invalid unicode" in text or mixed_newlines(file.head)):
        raise Retry(normalize=True) from None
    if file.container == "csv" and not options.lenient_csv and any(m in text for m in _STRUCTURAL):
        raise Retry(lenient_csv=True, text_only=True) from None


def _reject_malformed(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> tuple[int, str | None]:
    """Rows the CSV reader could not split into the header's columns, as rejected rows."""
    from planner.db import load_sql
    from planner.sensitivity import redact_sql

    con.execute(load_sql("stages/ingest_reject_malformed"),
                {"source_id": file.source_id, "path": file.label, "run_id": options.run_id})
    con.execute(f"UPDATE rejected SET raw = left({redact_sql('raw', numbers=False)}, {int(options.raw_max_bytes)}) "
                "WHERE source_id = ? AND field IS NULL AND raw IS NOT NULL", [file.source_id])
    row = con.execute("SELECT count(*), min(CAST(line AS BIGINT)) - 1, arg_min(error_type, line) FROM _csv_rejects").fetchone()
    n = int(row[0]) if row else 0
    return n, (f"row {row[1]}: {str(row[2]).lower()}" if n else None)


def _first(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    rows = [(int(x.split(":", 1)[0].removeprefix("row ")), x) for x in (a, b)]
    return min(rows)[1]


def _header_warnings(source: MappedSource) -> list[str]:
    names = [k for k, _ in source.record]
    out = []
    blank = [n for n in names if n.startswith("column") and n[6:].isdigit()]
    if blank:
        out.append(f"header has unnamed columns (read as {', '.join(blank[:5])})")
    dup = [n for n in names if "_" in n and n.rsplit("_", 1)[0] in names and n.rsplit("_", 1)[1].isdigit()]
    if dup:
        out.append(f"header repeats column names (later ones read as {', '.join(dup[:5])})")
    return out
