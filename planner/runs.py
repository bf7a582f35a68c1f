"""The run log: one row per command that writes, with its status, config hash and assumptions."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from planner import __version__
from planner.db import transaction
from planner.errors import ExitCode

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config


CLOCK_ENV = "PLANNER_NOW"


def fixed_clock() -> datetime | None:
    """`PLANNER_NOW` (ISO 8601, UTC when zone-less): a fixed clock for reproducible reports (the example
    report, snapshot tests). Run ids then derive from it, so use it for one run per database."""
    import os

    text = os.environ.get(CLOCK_ENV)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from planner.errors import UsageError

        raise UsageError(f"{CLOCK_ENV}={text!r}: expected an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def new_run_id(now: datetime | None = None) -> str:
    """`YYYYMMDDTHHMMSSZ-xxxxxx`: sorts by UTC start time; the suffix keeps ids unique."""
    fixed = fixed_clock() if now is None else None
    if fixed is not None:
        import hashlib

        stamp = f"{fixed.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        return f"{stamp}-{hashlib.sha256(stamp.encode()).hexdigest()[:6]}"
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(con: duckdb.DuckDBPyConnection, command: str, config: Config, *, scenario: str | None = None,
              run_id: str | None = None) -> str:
    """Record a run as `running`. Earlier runs still marked running were killed: mark them so.
    Returns the run id. One made here always sorts after every earlier run's (two runs in the same
    second get consecutive suffixes), so "the latest run" is the one that started last; an id the
    caller gives is kept as it is."""
    given = run_id
    run_id = run_id or new_run_id()
    with transaction(con):
        if given is None:
            latest = con.execute("SELECT max(run_id) FROM runs").fetchone()
            run_id = after(run_id, latest[0] if latest else None)
        con.execute("UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, now()::TIMESTAMP) "
                    "WHERE status = 'running'")
        con.execute(
            "INSERT INTO runs (run_id, command, started_at, status, planner_version, config_hash, scenario) "
            "VALUES (?, ?, now()::TIMESTAMP, 'running', ?, ?, ?)",
            [run_id, command, __version__, config.hash, scenario],
        )
    return run_id


def after(run_id: str, latest: str | None) -> str:
    """`run_id`, or when it does not sort after `latest` (same second, or a clock set back), the id that
    follows `latest`: its time stamp with the next suffix."""
    if latest is None or run_id > latest:
        return run_id
    stamp, _, suffix = latest.rpartition("-")
    try:
        return f"{stamp}-{int(suffix, 16) + 1:06x}"
    except ValueError:
        return f"{latest}1"


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, exc: BaseException) -> None:
    """Close a run that raised `exc`: 130 when interrupted, the error's own exit code, else internal."""
    code = ExitCode.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else getattr(exc, "exit_code", ExitCode.INTERNAL)
    finish_run(con, run_id, int(code), f"{type(exc).__name__}: {str(exc)[:200]}")


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, exit_code: int, message: str | None = None) -> None:
    status = {0: "ok", 1: "findings", 3: "check_failed"}.get(exit_code, "failed")
    with transaction(con):
        con.execute(
            "UPDATE runs SET finished_at = now()::TIMESTAMP, status = ?, exit_code = ?, message = ? WHERE run_id = ?",
            [status, exit_code, message, run_id],
        )


def record_assumptions(con: duckdb.DuckDBPyConnection, run_id: str, config: Config) -> None:
    rows = [(run_id, r["key"], r["value"], r["unit"], r["source"], r["origin"]) for r in config.assumption_rows()]
    con.execute("DELETE FROM assumptions WHERE run_id = ?", [run_id])
    if rows:
        con.executemany("INSERT INTO assumptions VALUES (?, ?, ?, ?, ?, ?)", rows)
