"""Shared fixtures: a fresh database per test, the CLI, the fixture folder. No network (pytest-socket)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

os.environ.setdefault("TZ", "UTC")
os.environ.pop("PLANNER_DB", None)
os.environ.pop("PLANNER_CONFIG", None)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "planner.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[object]:
    from planner import db

    c = db.connect(db_path)
    yield c
    c.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in-process from a clean working directory; stdout and stderr kept apart."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str | Path) -> CliResult:
        from planner.cli import app

        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
