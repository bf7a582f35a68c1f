"""`planner analyze`: price → detect → segment → cost/score → plan, each stage in one transaction,
then the data checks. Records the run and the assumptions it used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.db import sql_root, transaction
from planner.errors import ExitCode
from planner.faults import maybe_crash
from planner.runs import fail_run, finish_run, record_assumptions, start_run
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

# (stage name, module); each module exposes run(con, config, run_id) -> StageResult
STAGES: tuple[tuple[str, str], ...] = (
    ("price", "planner.pricing"),
    ("detect", "planner.sensitivity"),
    ("segment", "planner.segment"),
    ("score", "planner.score"),
    ("plan", "planner.plan"),
)


@dataclass
class CheckResult:
    name: str
    failing_rows: int
    blocking: bool


@dataclass
class AnalyzeResult:
    run_id: str
    stages: list[StageResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    exit_code: int = 0

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.stages for w in s.warnings] + [
            f"data check {c.name} found {c.failing_rows} rows" for c in self.checks if c.failing_rows]


def _stage_functions() -> list[tuple[str, Callable[..., StageResult]]]:
    out = []
    for name, module_name in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        fn = getattr(module, "run", None)
        if fn is not None:
            out.append((name, fn))
    return out


def run_checks(con: duckdb.DuckDBPyConnection, run_id: str) -> list[CheckResult]:
    """Every `sql/checks/*.sql` returns failing rows; `-- severity: warn` marks a non-blocking one."""
    results = []
    folder = sql_root() / "checks"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    for f in files:
        text = f.read_text(encoding="utf-8")
        blocking = "-- severity: warn" not in text
        n = con.execute(f"SELECT count(*) FROM ({text.strip().rstrip(';')})").fetchone()
        results.append(CheckResult(f.name.removesuffix(".sql"), int(n[0]) if n else 0, blocking))
    with transaction(con):
        con.executemany(
            "INSERT INTO check_results VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
            [(run_id, c.name, c.failing_rows, c.blocking) for c in results],
        )
    return results


def run_stages(con: duckdb.DuckDBPyConnection, config: Config, run_id: str,
               progress: Callable[[str], None] | None = None) -> AnalyzeResult:
    """Every stage in order, each in one transaction, then the data checks; no run bookkeeping."""
    from planner.spark import require_local

    say = progress or (lambda _m: None)
    require_local(con)  # a database the Spark engine fills holds rollups, not the request rows
    result = AnalyzeResult(run_id=run_id)
    with transaction(con):
        record_assumptions(con, run_id, config)
    for name, fn in _stage_functions():
        say(f"planner: {name} ...")
        with transaction(con):
            stage = fn(con, config, run_id)
            maybe_crash(f"stage:{name}")  # crash tests: stage written, transaction not committed
        result.stages.append(stage)
    result.checks = run_checks(con, run_id)
    if any(c.failing_rows and c.blocking for c in result.checks):
        result.exit_code = int(ExitCode.CHECK_FAILED)
    elif any(s.findings for s in result.stages) or any(c.failing_rows for c in result.checks):
        result.exit_code = int(ExitCode.FINDINGS)
    return result


def analyze(con: duckdb.DuckDBPyConnection, config: Config, *, command: str = "analyze",
            scenario: str | None = None, run_id: str | None = None,
            progress: Callable[[str], None] | None = None) -> AnalyzeResult:
    """Record a run, run every stage over everything ingested, close the run with its exit code.
    A failing stage rolls back alone and stops the run."""
    run_id = start_run(con, command, config, scenario=scenario, run_id=run_id)
    try:
        result = run_stages(con, config, run_id, progress)
    except BaseException as exc:
        fail_run(con, run_id, exc)
        raise
    finish_run(con, run_id, result.exit_code, "; ".join(result.warnings)[:1000] or None)
    return result


def snapshot_date(con: duckdb.DuckDBPyConnection, run_id: str) -> Any:
    row = con.execute("SELECT price_snapshot_date FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return row[0] if row else None
