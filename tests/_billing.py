"""Helpers for the provider-adapter tests: load fixtures into a fresh in-memory database and query it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from planner import db, ingest
from planner.config import load_config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def q(db_path: Path, sql: str) -> list[tuple]:
    """The rows of `sql` over the planner database at `db_path`, opened read-only and closed again."""
    c = duckdb.connect(str(db_path), read_only=True)
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


@dataclass
class Loaded:
    con: Any
    results: list[ingest.FileResult]

    def q(self, sql: str, params: Any = None) -> list[tuple]:
        cur = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        return cur.fetchall()

    def one(self, sql: str, params: Any = None) -> Any:
        rows = self.q(sql, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    @property
    def result(self) -> ingest.FileResult:
        assert len(self.results) == 1, self.results
        return self.results[0]

    def reasons(self) -> dict[int, tuple[str, str, str]]:
        """source_row -> (field, source_column, reason) of every rejected row (one file loaded)."""
        return {r[0]: (r[1], r[2], r[3]) for r in
                self.q("select source_row, field, source_column, reason from rejected order by source_row")}

    def more(self, *paths: Path, **options: Any) -> list[ingest.FileResult]:
        """Load more files into the same database; return their results."""
        opts = ingest.IngestOptions.from_config(load_config(None), **options)
        got: list[ingest.FileResult] = []
        for p in paths:
            results, _ = ingest.ingest_paths(self.con, [p], opts)
            got += results
        self.results += got
        return got


def load(*paths: Path, **options: Any) -> Loaded:
    """Ingest `paths` (in order, one at a time, as the CLI does) into a fresh in-memory database."""
    loaded = Loaded(db.connect(":memory:"), [])
    loaded.more(*paths, **options)
    return loaded
