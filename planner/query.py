"""`planner sql`: run one read-only query and render the result as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from planner.db import default_db_path
from planner.errors import ReadOnlyQueryError, UsageError

if TYPE_CHECKING:
    import duckdb

_WRITE_HINTS = ("read-only mode", "read_only", "Cannot execute statement of type", "attached in read-only")


def run_readonly(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Execute `query` on a read-only connection with file and network access switched off."""
    import duckdb

    con.execute("SET enable_external_access = false")
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise UsageError(f"sql: {' '.join(str(exc).split())[:400]}") from None
    if not statements:
        raise UsageError("sql: empty query")
    allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA,
               duckdb.StatementType.CALL}
    for st in statements:
        if st.type not in allowed:
            raise ReadOnlyQueryError(
                f"planner sql is read-only: {st.type.name} statements would write or reach outside the database",
                hint="write through planner commands; query views and tables with SELECT")
    if len(statements) > 1:
        raise UsageError("sql: one query at a time")
    try:
        cur = con.execute(query)
    except duckdb.Error as exc:
        text = " ".join(str(exc).split())
        if any(h in text for h in _WRITE_HINTS):
            raise ReadOnlyQueryError("planner sql is read-only: this statement would write",
                                     hint="write through planner commands; query views and tables with SELECT") from None
        if "disabled by configuration" in text or "external access" in text.lower():
            raise ReadOnlyQueryError("planner sql reads only the database: files, network and ATTACH are off",
                                     hint="use --format csv or json and redirect stdout to save results") from None
        raise UsageError(f"sql: {text[:400]}") from None
    if cur.description is None:
        return [], []
    headers = [d[0] for d in cur.description]
    return headers, cur.fetchall()


def display(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f").rstrip("0")
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return display(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def to_json(headers: list[str], rows: list[tuple[Any, ...]]) -> str:
    return json.dumps([{h: _jsonable(v) for h, v in zip(headers, row, strict=True)} for row in rows], indent=2)


def write_csv(out: IO[str], headers: list[str], rows: list[tuple[Any, ...]]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(headers)
    for row in rows:
        w.writerow(["" if v is None else (json.dumps(_jsonable(v)) if isinstance(v, dict | list) else display(v))
                    for v in row])


def shell(db: Path | None) -> int:
    """Open the DuckDB shell read-only on the database, when the `duckdb` binary is installed."""
    path = db or default_db_path()
    exe = shutil.which("duckdb")
    if exe is None:
        raise UsageError("no `duckdb` shell on PATH", hint="pass a query: planner sql 'select * from v_daily_spend'")
    return subprocess.call([exe, "-readonly", str(path)])
