"""The price-key ledger (`usage_keys`): the distinct price keys of usage, kept at ingest.

Ingest appends each file's keys in the file's own transaction (`add`, from the rows just inserted) and
takes stored copies that lose to a new file out (`remove_conflicts`). The price stage then reads a few
hundred key rows instead of grouping every usage row; it first checks the ledger against usage (`ensure`:
row count and a sum of key hashes, one pass without a GROUP BY) and rebuilds it with one GROUP BY only
when they differ (usage written some other way, or a database from before the ledger).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.db import load_sql

if TYPE_CHECKING:
    import duckdb


def in_sync(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the ledger describes usage as it is now."""
    row = con.execute(load_sql("stages/usage_keys_signature")).fetchone()
    return bool(row and row[0])


def add(con: duckdb.DuckDBPyConnection, since: int) -> None:
    """Append the keys of the rows inserted after rowid `since` (-1: every row)."""
    con.execute(load_sql("stages/usage_keys_add"), {"since": since})


def remove_conflicts(con: duckdb.DuckDBPyConnection) -> None:
    """Take the stored rows that lose to new copies (`_conflicts.new_wins`) out of the ledger."""
    con.execute(load_sql("stages/usage_keys_remove"))


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """The whole ledger from usage: one GROUP BY over every row."""
    con.execute("DELETE FROM usage_keys")
    add(con, -1)


def ensure(con: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild the ledger when it does not describe usage. Returns True when it rebuilt."""
    if in_sync(con):
        return False
    rebuild(con)
    return True
