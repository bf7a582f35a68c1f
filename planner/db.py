"""The only module that opens DuckDB: connect, lock, migrations, views, transactions, SQL files.

DuckDB allows one read-write process per file and takes an OS lock for it; we rely on that lock
(a second writer gets LockedError, exit 4) and keep one connection for a whole command.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import LockedError, SchemaError, UsageError

if TYPE_CHECKING:
    import duckdb

DEFAULT_DB = "planner.duckdb"
_LOCK_RE = re.compile(r"Could not set lock on file \"(?P<file>[^\"]+)\": Conflicting lock is held in (?P<holder>.+?)(?:\. See also|$)")


def default_db_path() -> Path:
    return Path(os.environ.get("PLANNER_DB") or DEFAULT_DB)


# ---------------------------------------------------------------- SQL files

@cache
def sql_root() -> Traversable:
    """`planner/sql` inside an installed wheel; the repository's `sql/` in a source checkout."""
    packaged = resources.files("planner") / "sql"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parent.parent / "sql"
    if repo.is_dir():
        return repo
    raise UsageError("the planner package is missing its sql/ folder (broken install)")


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql` (name may contain folders, e.g. 'stages/price_keys')."""
    node = sql_root()
    for part in f"{name}.sql".split("/"):
        node = node / part
    if not node.is_file():
        raise UsageError(f"internal: no SQL file sql/{name}.sql")
    return node.read_text(encoding="utf-8")


def _sorted_sql_files(folder: Traversable) -> list[Traversable]:
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


def migration_files() -> list[tuple[str, str]]:
    """(name, text) of every `sql/schema/NNNN_*.sql`, in order."""
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8"))
            for f in _sorted_sql_files(sql_root() / "schema")]


def view_files() -> list[tuple[str, str]]:
    """(view name, select text) for every view, lower layers first."""
    root = sql_root() / "views"
    layers = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: d.name) if root.is_dir() else []
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8"))
            for layer in layers for f in _sorted_sql_files(layer)]


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- connections

# DuckDB's default is 80% of RAM; planner keeps well under it so a nightly run stays a polite
# neighbour (and within the benchmarks' RSS targets): big temp data spills to disk instead.
DEFAULT_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class EngineSettings:
    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: str | None = None


def _configure(con: duckdb.DuckDBPyConnection, settings: EngineSettings) -> None:
    # No network, ever: extensions we need are statically linked in the wheel.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET TimeZone = 'UTC'")
    memory = settings.memory_limit or os.environ.get("PLANNER_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    con.execute(f"SET memory_limit = '{_setting(memory)}'")
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    if settings.temp_directory:
        con.execute(f"SET temp_directory = '{_setting(settings.temp_directory)}'")


def _setting(value: str) -> str:
    if not re.fullmatch(r"[\w .:/\\-]+", value):
        raise UsageError(f"invalid engine setting value {value!r}")
    return value


def _lock_error(path: Path, exc: Exception) -> LockedError:
    m = _LOCK_RE.search(str(exc))
    holder = m.group("holder").strip() if m else "another process"
    return LockedError(
        f"{path}: database is locked by {holder}",
        hint="another planner command is writing to it; retry later or pass --wait SECONDS",
    )


def connect(path: Path | str | None = None, *, read_only: bool = False, wait: float = 0.0,
            settings: EngineSettings | None = None, migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the planner database.

    Read-write opens create the file, apply pending migrations and rebuild views. Read-only opens
    fail cleanly when the file does not exist. `wait` seconds are spent retrying a held lock.
    """
    import duckdb

    path = Path(path) if path is not None else default_db_path()
    if read_only and not path.exists():
        raise UsageError(f"{path}: no planner database here", hint="run `planner ingest` or `planner demo` first, or pass --db")
    if not read_only and path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        # the mode bits count even for root: a file marked read-only is meant to stay as it is
        raise UsageError(f"{path}: database file is read-only", hint="check its permissions, or copy it and pass --db")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            text = str(exc)
            if "Could not set lock" in text:
                if time.monotonic() < deadline:
                    time.sleep(0.25)
                    continue
                raise _lock_error(path, exc) from None
            if "Permission denied" in text or "Read-only file system" in text:
                raise UsageError(f"{path}: cannot open database: {text.splitlines()[0]}") from None
            raise UsageError(f"{path}: cannot open database: {text.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise UsageError(f"{path}: not a planner database ({str(exc).splitlines()[0]})") from None
    if os.environ.get("PLANNER_TRACE_SQL"):
        con = _Traced(con)  # type: ignore[assignment]
    try:
        _configure(con, settings or EngineSettings())
        if read_only:
            check_schema(con, path)
        elif migrate:
            apply_migrations(con, path)
    except BaseException:
        con.close()
        raise
    return con


class _Traced:
    """A connection that prints each statement's wall and CPU time to stderr (PLANNER_TRACE_SQL=1)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        import sys

        wall, cpu = time.perf_counter(), time.process_time()
        result = self._con.execute(query, *args, **kwargs)
        dt = time.perf_counter() - wall
        if dt >= 0.05:
            head = " ".join(str(query).split())[:90]
            print(f"sql {dt:8.2f}s cpu {time.process_time() - cpu:8.2f}s  {head}", file=sys.stderr)
        return result


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One stage, one transaction: everything or nothing is committed."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# ---------------------------------------------------------------- migrations

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name VARCHAR PRIMARY KEY,
    checksum VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS planner_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def _applied(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(con.execute("SELECT name, checksum FROM schema_migrations").fetchall())


def _verify(applied: dict[str, str], files: list[tuple[str, str]], path: Path) -> None:
    known = {name: checksum(text) for name, text in files}
    newer = sorted(set(applied) - set(known))
    if newer:
        raise SchemaError(
            f"{path}: database was written by a newer planner (schema {newer[-1]})",
            hint="upgrade planner, or point --db at another file",
        )
    for name, digest in applied.items():
        if known[name] != digest:
            raise SchemaError(
                f"{path}: applied migration {name} has changed since it was applied",
                hint="migrations are append-only: restore the file and add a new migration instead",
            )


def check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    files = migration_files()
    applied = _applied(con)
    _verify(applied, files, path)
    if not applied:
        raise UsageError(f"{path}: not a planner database (no schema)", hint="run `planner ingest` or `planner demo` first")
    pending = [name for name, _ in files if name not in applied]
    if pending:
        raise SchemaError(f"{path}: database schema is older than this planner (missing {pending[0]})",
                          hint="run any writing command once (e.g. `planner analyze`) to upgrade it")


def apply_migrations(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Apply pending migrations in order, each with its ledger row in one transaction; rebuild views."""
    files = migration_files()
    with transaction(con):
        con.execute(_LEDGER)
    applied = _applied(con)
    _verify(applied, files, path)
    done: list[str] = []
    for name, text in files:
        if name in applied:
            continue
        with transaction(con):
            con.execute(text)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [name, checksum(text)])
        done.append(name)
    views = view_files()
    views_hash = checksum("\n".join(f"{n}\n{t}" for n, t in views))
    row = con.execute("SELECT value FROM planner_meta WHERE key = 'views_hash'").fetchone()
    if done or row is None or row[0] != views_hash:
        with transaction(con):
            create_views(con, views)
            con.execute("INSERT OR REPLACE INTO planner_meta VALUES ('views_hash', ?)", [views_hash])
    return done


def create_views(con: duckdb.DuckDBPyConnection, views: list[tuple[str, str]] | None = None) -> None:
    for name, text in views if views is not None else view_files():
        body = text.strip().rstrip(";")
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS\n{body}')


# ---------------------------------------------------------------- helpers

def quote_ident(name: str) -> str:
    """A SQL identifier for any column name a file may carry (spaces, quotes, unicode)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def fetch_dicts(con: duckdb.DuckDBPyConnection, query: str, params: Any = None) -> list[dict[str, Any]]:
    cur = con.execute(query, params) if params is not None else con.execute(query)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
