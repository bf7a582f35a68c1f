"""Readers shared by the gateway and trace adapters: any container, the same flat text columns.

An adapter names the fields it wants (a JSON path per name); `read()` returns a FROM clause that
exposes `_row` (1-based record number: the line of a JSONL file, the element of a JSON array or of a
page's `data` array, the data row of a CSV, the row of a Parquet file), `_ok` (false for a line that is
not a JSON object, e.g. the cut-off last line of a truncated file) and one VARCHAR column per wanted
name. Nested values come out as JSON text, so an adapter maps every container with the same SQL.

JSON Lines are read as text lines and parsed per line (never with one whole-file JSON parse): a
malformed line is rejected on its own, with its line number, and the other lines still load.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.db import quote_ident, quote_literal
from planner.errors import InputError

if TYPE_CHECKING:
    import duckdb

    from planner.ingest import SourceFile

NULL_STRINGS = ["", "NULL", "null", "\\N"]
# a Bedrock record with a long prompt can be megabytes. The CSV line reader's buffer is set to the
# same size: left alone, DuckDB sizes it at 16x the line limit, far above the memory limit.
MAX_OBJECT_BYTES = 128 * 1024 * 1024
_NESTED = ("STRUCT", "MAP", "JSON", "UNION")


@dataclass
class Reader:
    relation: str                 # FROM clause: _row, _ok, one VARCHAR column per wanted name
    present: set[str]             # wanted names the file can carry (all of them for JSON)
    container: str                # csv | json | jsonl | parquet
    columns: list[str] = field(default_factory=list)  # every column of a CSV/Parquet file


def json_path(dotted: str) -> str:
    """`input.inputTokenCount` → `$."input"."inputTokenCount"` (quoted: names may hold odd characters)."""
    return "$." + ".".join('"' + p.replace('"', '\\"') + '"' for p in dotted.split("."))


def _comp(file: SourceFile) -> str:
    return f", compression = {quote_literal(file.compression)}" if file.compression else ""


def lines_sql(file: SourceFile) -> str:
    return _lines_sql(file)


def _lines_sql(file: SourceFile) -> str:
    """Every non-blank line of a text file with its 1-based line number (`_row`, `_line`)."""
    path = quote_literal(str(file.path))
    return (
        "(SELECT ordinality AS _row, ltrim(line, chr(65279)) AS _line "
        f"FROM read_csv({path}, columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(30), quote = '', "
        f"escape = '', auto_detect = false, max_line_size = {MAX_OBJECT_BYTES}, buffer_size = {MAX_OBJECT_BYTES}{_comp(file)}) WITH ORDINALITY "
        "WHERE line IS NOT NULL AND trim(line) <> '')"
    )


def _documents_sql(file: SourceFile) -> str:
    """Documents of a JSON file: the elements of a top-level array, or each concatenated document."""
    path = quote_literal(str(file.path))
    return (f"(SELECT ordinality AS _row, CAST(json AS VARCHAR) AS _line FROM read_json_objects({path}, "
            f"format = 'auto', maximum_object_size = {MAX_OBJECT_BYTES}{_comp(file)}) WITH ORDINALITY)")


def _pages_sql(lines: str, key: str) -> str:
    """The items of each document's `key` array (saved API pages), numbered across the file."""
    return f"""(
        WITH docs AS (SELECT _row AS _d, _line FROM {lines}),
        pages AS (
            SELECT _d, json_extract(_line, '{key}[*]') AS _items FROM docs
            WHERE CASE WHEN json_valid(_line) THEN json_type(_line, '{key}') = 'ARRAY' ELSE false END
        ),
        records AS (
            SELECT _d, 0 AS _e, _line FROM docs
            WHERE CASE WHEN json_valid(_line) THEN json_type(_line, '{key}') IS DISTINCT FROM 'ARRAY' ELSE true END
            UNION ALL
            SELECT _d, unnest(range(1, len(_items) + 1)) AS _e, CAST(unnest(_items) AS VARCHAR) AS _line FROM pages
        )
        SELECT row_number() OVER (ORDER BY _d, _e) AS _row, _line FROM records
    )"""


def is_paged(file: SourceFile, key: str) -> bool:
    """True when the file's first document is an API page holding its records in a `key` array."""
    text = file.head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if not text.startswith("{"):
        return False
    try:
        doc, _ = json.JSONDecoder().raw_decode(text)
        return isinstance(doc, dict) and isinstance(doc.get(key), list)
    except ValueError:
        return _first_page_item(text, key, json.JSONDecoder()) is not None


def is_wrapped(file: SourceFile, key: str) -> bool:
    """True when records are wrapped in an object under `key` (`{"data": {...}}`), judged on the first one."""
    first = first_record(file.head, file.container)
    return first is not None and isinstance(first.get(key), dict)


def _json_reader(file: SourceFile, wanted: dict[str, str], unwrap: str | None, keep_json: bool = False,
                 lines: str | None = None) -> Reader:
    if lines is None:
        lines = _lines_sql(file) if file.container == "jsonl" else _documents_sql(file)
        if unwrap is not None and is_paged(file, unwrap):
            lines = _pages_sql(lines, json_path(unwrap))
    # one parse for the check and one for all the fields (try: a garbled line gives NULL, not an error)
    ok = "coalesce(try(json_type(_line)) = 'OBJECT', false)"
    root = json_path(unwrap) if unwrap is not None and is_wrapped(file, unwrap) else "$"
    record = "_line" if root == "$" else f"CAST(json_extract(_line, '{root}') AS VARCHAR)"
    names = list(wanted)
    paths = "[" + ", ".join(quote_literal(root + json_path(wanted[n])[1:]) for n in names) + "]"
    cols = ", ".join(f"_l[{i + 1}] AS {quote_ident(n)}" for i, n in enumerate(names))
    keep = f", CASE WHEN _ok THEN {record} END AS _j" if keep_json else ""
    relation = f"""(
        SELECT _row, _ok, _bytes, _start{", _j" if keep_json else ""}{", " + cols if cols else ""}
        FROM (
            SELECT _row, _ok{keep}, CASE WHEN NOT _ok THEN length(_line) END AS _bytes,
                CASE WHEN NOT _ok THEN left(_line, 60) END AS _start,
                CASE WHEN _ok THEN json_extract_string(_line, {paths}) END AS _l
            FROM (SELECT _row, _line, {ok} AS _ok FROM {lines})
        )
    )"""
    return Reader(relation=relation, present=set(names), container=file.container)


def describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation} AS src").fetchall()
    return [(r[0], r[1]) for r in rows]


def _as_text(column: str, sql_type: str) -> str:
    col = f"src.{quote_ident(column)}"
    t = sql_type.upper()
    if t == "VARCHAR":
        return col
    if t.startswith(_NESTED) or t.endswith("]"):
        return f"CAST(to_json({col}) AS VARCHAR)"
    return f"CAST({col} AS VARCHAR)"


def _table_reader(con: duckdb.DuckDBPyConnection, file: SourceFile, wanted: dict[str, str]) -> Reader:
    path = quote_literal(str(file.path))
    if file.container == "parquet":
        base = (f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
                f"FROM read_parquet({path}, file_row_number = true))")
    else:
        nulls = "[" + ", ".join(quote_literal(s) for s in NULL_STRINGS) + "]"
        base = (f"(SELECT * EXCLUDE (ordinality), ordinality AS _row FROM read_csv({path}, header = true, "
                f"nullstr = {nulls}, all_varchar = true, max_line_size = {MAX_OBJECT_BYTES}, buffer_size = {MAX_OBJECT_BYTES}{_comp(file)}) "
                "WITH ORDINALITY)")
    types = {name: t for name, t in describe(con, base) if name != "_row"}
    present: set[str] = set()
    cols = []
    for name, dotted in wanted.items():
        head = dotted.split(".")[0]
        if dotted in types:
            cols.append(f"{_as_text(dotted, types[dotted])} AS {quote_ident(name)}")
            present.add(name)
        elif head in types and "." in dotted:
            # a nested Parquet struct (or JSON text) holding the wanted member
            inner = json_path(dotted.split(".", 1)[1])
            cols.append(f"json_extract_string({_as_text(head, types[head])}, {quote_literal(inner)}) "
                        f"AS {quote_ident(name)}")
            present.add(name)
        else:
            cols.append(f"CAST(NULL AS VARCHAR) AS {quote_ident(name)}")
    relation = (f"(SELECT _row, true AS _ok, CAST(NULL AS BIGINT) AS _bytes, CAST(NULL AS VARCHAR) AS _start, "
                f"{', '.join(cols)} FROM {base} AS src)")
    return Reader(relation=relation, present=present, container=file.container, columns=list(types))


def read(con: duckdb.DuckDBPyConnection, file: SourceFile, wanted: dict[str, str], *,
         unwrap: str | None = None, keep_json: bool = False, embedded: tuple[str, str] | None = None,
         lines: str | None = None) -> Reader:
    """A reader over `file` exposing each wanted field (name → dotted path) as text.

    `keep_json` also exposes `_j`, the whole record as JSON text (JSON containers only), for paths
    that need wildcards. `embedded = (array, field)` also reads log-service exports whose records are
    JSON text inside another record: pages holding an `array` of events with the record in `field`
    (`aws logs filter-log-events`: `{"events": [{"message": "{...}"}]}`), or a CSV with that column
    (CloudWatch Logs Insights: `@timestamp,@message`). `lines` replaces the reader's own `(_row, _line)`
    relation (records as JSON text, one per row).
    """
    if lines is not None:
        return _json_reader(file, wanted, None, keep_json, lines=lines)
    if embedded is not None:
        lines = _embedded_lines(con, file, *embedded)
        if lines is not None:
            return _json_reader(file, wanted, None, keep_json, lines=lines)
    if file.container in ("json", "jsonl"):
        return _json_reader(file, wanted, unwrap, keep_json)
    return _table_reader(con, file, wanted)


def _embedded_lines(con: duckdb.DuckDBPyConnection, file: SourceFile, array: str, field: str) -> str | None:
    """(`_row`, `_line`) of records carried as JSON text in another record, or None for other files."""
    text = f"json_extract_string(_line, {quote_literal(json_path(field))})"
    if file.container in ("json", "jsonl") and is_paged(file, array):
        base = _lines_sql(file) if file.container == "jsonl" else _documents_sql(file)
        return f"(SELECT _row, {text} AS _line FROM {_pages_sql(base, json_path(array))})"
    if file.container == "csv" and field in csv_header(file.head):
        path = quote_literal(str(file.path))
        return (f"(SELECT ordinality AS _row, {quote_ident(field)} AS _line FROM read_csv({path}, header = true, "
                f"all_varchar = true, max_line_size = {MAX_OBJECT_BYTES}, buffer_size = {MAX_OBJECT_BYTES}{_comp(file)}) WITH ORDINALITY)")
    return None


def embedded_first_record(head: bytes, container: str, array: str, field: str) -> dict[str, Any] | None:
    """The first record of a log-service export (see `read(embedded=...)`), for sniffing."""
    raw: Any = None
    if container in ("json", "jsonl"):
        event = first_record(head, container, unwrap=array)
        raw = event.get(field) if event else None
    elif container == "csv" and field in csv_header(head):
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
        try:
            rows = csv.DictReader(io.StringIO(text))
            raw = next(rows).get(field)
        except (csv.Error, StopIteration):
            return None
    if not isinstance(raw, str):
        return None
    try:
        rec = json.loads(raw)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def not_json_check() -> tuple[str, str]:
    """(condition, reason) for a record that is not a JSON object (a cut-off or garbled line)."""
    return ("NOT _ok", "'not a JSON object (cut-off or garbled line, ' || _bytes || ' bytes, starting ' || "
                       "to_json(_start) || ')'")


# ---------------------------------------------------------------- sniffing helpers

def _first_line(head: bytes) -> str:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def first_record(head: bytes, container: str, *, unwrap: str | None = None) -> dict[str, Any] | None:
    """The first JSON record in the head of a JSON/JSONL file (None when it cannot be read)."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    rec: Any = None
    decoder = json.JSONDecoder()
    if container == "jsonl":
        try:
            rec = json.loads(_first_line(head))
        except ValueError:
            return None
    elif container == "json":
        try:
            if text.startswith("["):
                rec, _ = decoder.raw_decode(text, 1 + len(text[1:]) - len(text[1:].lstrip()))
            else:
                rec, _ = decoder.raw_decode(text)
        except ValueError:
            rec = _first_page_item(text, unwrap, decoder)
    else:
        return None
    if isinstance(rec, dict) and unwrap is not None:
        inner = rec.get(unwrap)
        if isinstance(inner, dict):
            rec = inner
        elif isinstance(inner, list):
            rec = inner[0] if inner and isinstance(inner[0], dict) else None
    return rec if isinstance(rec, dict) else None


def _first_page_item(text: str, unwrap: str | None, decoder: json.JSONDecoder) -> Any:
    """The first element of a page's `data` array when the page is longer than the head."""
    if unwrap is None:
        return None
    at = text.find(f'"{unwrap}"')
    if at < 0:
        return None
    bracket = text.find("[", at)
    if bracket < 0 or text[at + len(unwrap) + 2:bracket].strip(" \t\r\n:") != "":
        return None
    rest = text[bracket + 1:]
    try:
        item, _ = decoder.raw_decode(rest, len(rest) - len(rest.lstrip()))
    except ValueError:
        return None
    return {unwrap: item}


def csv_header(head: bytes) -> list[str]:
    """The header row of a CSV head (any common delimiter)."""
    line = _first_line(head)
    if not line:
        return []
    try:
        dialect = csv.Sniffer().sniff(line, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        return [c.strip() for c in next(csv.reader(io.StringIO(line), delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def parquet_columns(path: Path) -> list[str]:
    """Top-level column names of a Parquet file, from its footer (cheap)."""
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception:  # not readable as Parquet: no claim
        return []


def columns_of(path: Path, head: bytes, container: str) -> list[str]:
    if container == "parquet":
        return parquet_columns(path)
    if container == "csv":
        return csv_header(head)
    return []


def require_columns(file: SourceFile, reader: Reader, needed: list[str], fmt: str) -> None:
    """A CSV/Parquet file forced to a format must carry that format's key columns."""
    if reader.container in ("json", "jsonl"):
        return
    missing = [c for c in needed if c not in reader.present]
    if missing:
        shown = ", ".join(repr(c) for c in reader.columns[:20])
        raise InputError(file.label, f"not a {fmt} export: no column {missing[0]!r}",
                         hint=f"columns are: {shown}")


# ---------------------------------------------------------------- SQL over JSON bodies

def content_text_sql(c: str) -> str:
    """Text of a message `content` (JSON): a string, or a list of parts carrying `text`."""
    return (f"CASE json_type({c}) WHEN 'VARCHAR' THEN json_extract_string({c}, '$') "
            f"WHEN 'ARRAY' THEN list_aggr(json_extract_string({c}, '$[*].text'), 'string_agg', chr(10)) END")


def messages_text_sql(arr: str) -> str:
    """Text of a JSON array of chat messages (OpenAI, Anthropic Messages and Bedrock Converse shapes)."""
    each = content_text_sql("json_extract(m, '$.content')")
    return (f"CASE WHEN json_type({arr}) = 'ARRAY' THEN list_aggr(list_transform(json_extract({arr}, '$[*]'), "
            f"lambda m: {each}), 'string_agg', chr(10)) END")


def join_text_sql(parts: list[str]) -> str:
    """Non-empty parts joined by newlines; NULL when there is no text at all."""
    return f"nullif(concat_ws(chr(10), {', '.join(parts)}), '')"


def layer(relation: str, columns: list[tuple[str, str]]) -> str:
    """`relation` plus computed columns. Heavy expressions (timestamps, JSON text) are computed once
    here, so the stage, which reads each field several times, only references a column."""
    cols = ", ".join(f"{sql} AS {quote_ident(name)}" for name, sql in columns)
    return f"(SELECT *, {cols} FROM {relation})"
