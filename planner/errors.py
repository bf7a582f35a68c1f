"""Error types and exit codes. The library raises these; cli.py maps them to one line and a code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    CHECK_FAILED = 3
    LOCKED = 4
    INTERNAL = 70
    INTERRUPTED = 130


class PlannerError(Exception):
    """An error the user can act on. `str()` is the one-line message; `hint` an optional second line."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(PlannerError):
    """Bad flag, bad config or unreadable input: nothing was committed."""


class ConfigError(UsageError):
    """planner.toml is invalid."""


class InputError(UsageError):
    """A file cannot be read or parsed at all. Message names file and position."""

    def __init__(self, path: str, message: str, *, row: int | None = None, field: str | None = None,
                 hint: str | None = None) -> None:
        where = f"{path}:{row}" if row is not None else path
        text = f"{where}: {field}: {message}" if field else f"{where}: {message}"
        super().__init__(text, hint)
        self.path = path
        self.row = row
        self.field = field
        self.detail = message


class SchemaError(UsageError):
    """The database's schema does not match this planner (edited migration, or written by a newer one)."""


class LockedError(PlannerError):
    """Another process holds the database for writing."""

    exit_code = ExitCode.LOCKED


class CheckFailed(PlannerError):
    """A blocking data check returned rows."""

    exit_code = ExitCode.CHECK_FAILED


class ReadOnlyQueryError(UsageError):
    """`planner sql` was given a statement that writes."""
