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
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest._stage import (
    FIELD_KINDS,
    FieldSource,
    MappedSource,
    check_columns,
    commit,
    stage,
    typed_sql,
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


def reader_sql(file: SourceFile, *, all_varchar: bool = True) -> str:
    """A FROM clause over the file exposing every column plus `_row` (1-based record number)."""
    path = quote_literal(str(file.path))
    comp = f", compression = {quote_literal(file.compression)}" if file.compression else ""
    if file.container == "parquet":
        return f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row FROM read_parquet({path}, file_row_number = true))"
    if file.container in ("json", "jsonl"):
        fmt = "array" if file.container == "json" else "newline_delimited"
        return (f"(SELECT * EXCLUDE (ordinality), ordinality AS _row FROM read_json({path}, format = '{fmt}', "
                f"sample_size = -1, maximum_object_size = 268435456{comp}) WITH ORDINALITY)")
    nulls = "[" + ", ".join(quote_literal(s) for s in NULL_STRINGS) + "]"
    varchar = ", all_varchar = true" if all_varchar else ""
    return (f"(SELECT * EXCLUDE (ordinality), ordinality AS _row FROM read_csv({path}, header = true, "
            f"nullstr = {nulls}{varchar}{comp}) WITH ORDINALITY)")


def describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation} AS src").fetchall()
    return [(r[0], r[1]) for r in rows if r[0] != "_row"]


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
        fields[target] = FieldSource(sql=quote_literal(value), type="VARCHAR", column=None)
    # a column is "mapped" when it or anything nested in it is: it never lands in tags (a nested
    # prompt must not leak through its parent)
    mapped_columns = {c for c in options.mapping.values() if c in types}
    mapped_columns |= {head for c in options.mapping.values() for head in types
                       if c not in types and c.startswith(head + ".")}
    tags = [(t.removeprefix("tags."), _text_expr(c, types[c]) if c in types else (_resolve(c, types) or ("NULL",))[0])
            for t, c in options.mapping.items() if t.startswith("tags.")]
    tags += [(name, _text_expr(name, t)) for name, t in columns if name not in mapped_columns]
    prompt_col = options.mapping.get("prompt")
    prompt_heads = {h for h in types if prompt_col and (prompt_col == h or prompt_col.startswith(h + "."))}
    record = [(name, _text_expr(name, t) if name not in prompt_heads else "'[prompt text withheld]'")
              for name, t in columns]
    grain = str(options.sets.get("grain", "request")).lower()
    return MappedSource(relation=f"{relation} AS src", fields=fields, tags=tags, record=record, grain=grain)


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


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    validate_mapping(options, file.label)
    check_constants(con, options)
    relation = reader_sql(file)
    try:
        source = build_source(con, file, options, relation)
    except UsageError:
        raise
    except Exception as exc:
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise InputError(file.label, f"cannot parse: {' '.join(str(exc).split())[:300]}") from None
        raise
    stage(con, source, file.source_id, options)
    counts = commit(con, file.source_id, file.label, options.run_id, options.samples_per_group, options.config)
    return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                      rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                      first_error=counts.first_error)
