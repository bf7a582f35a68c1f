"""The whole job as functions: `run` (the nightly job) and `demo` (generate, then run).

`run` holds the database lock for its whole length (a second run gets exit 4, or waits with
`--wait`), loads only files it has not seen, analyses everything in one stage-per-transaction
pass, writes reports into `OUT/<run_id>/` (each file written beside its target and renamed) and
then points `OUT/latest` at that folder with one atomic rename. A kill at any moment leaves the
database and `latest` as before the run or as after it; the next run completes normally.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import analyze as analyze_mod
from planner import db as dbmod
from planner import ingest
from planner.config import Config, SourceMapping
from planner.errors import ExitCode, UsageError
from planner.faults import maybe_crash
from planner.runs import fail_run, finish_run, start_run

if TYPE_CHECKING:
    import duckdb

Say = Callable[[str], None]


@dataclass
class RunResult:
    run_id: str
    exit_code: int
    files: list[ingest.FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report_dir: Path | None = None
    latest: Path | None = None
    summary: list[str] = field(default_factory=list)


def _options_for(config: Config, export_dir: Path, base: ingest.IngestOptions) -> Callable[[Path], ingest.IngestOptions]:
    """Per-file ingest options from the first `[[sources]]` whose glob matches the file's path
    relative to the export folder; auto-detection otherwise."""
    from dataclasses import replace

    def pick(path: Path) -> ingest.IngestOptions:
        rel = path.relative_to(export_dir).as_posix() if path.is_relative_to(export_dir) else path.name
        for src in config.sources:
            if fnmatch.fnmatch(rel, src.glob) or fnmatch.fnmatch(path.name, src.glob):
                return _apply(base, src, replace)
        return base

    return pick


def _apply(base: ingest.IngestOptions, src: SourceMapping, replace: Any) -> ingest.IngestOptions:
    return replace(base, format=src.format if src.format != "auto" or not src.map else "generic",
                   mapping=dict(src.map), sets=dict(src.set), ts_unit=src.ts_unit, ts_origin=src.ts_origin,
                   tz=src.tz, allow_any_ts=src.allow_any_ts)


def publish_latest(out: Path, run_dir: Path) -> Path:
    """Point `out/latest` at `run_dir` atomically: a new relative symlink renamed over the old one."""
    latest = out / "latest"
    if latest.exists() and not latest.is_symlink():
        raise UsageError(f"{latest}: exists and is not the link planner manages", hint="move it away and run again")
    tmp = out / f".latest-{run_dir.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(run_dir.name, tmp, target_is_directory=True)
    os.replace(tmp, latest)
    return latest


def run(export_dir: Path, out: Path, *, config: Config, db_path: Path | None = None, wait: float = 0.0,
        progress: Say | None = None, formats: tuple[str, ...] = ("json", "md", "html"),
        run_id: str | None = None, now: Any = None, spark: Any = None) -> RunResult:
    """`spark`: a planner.spark.SparkEngine; the raw-row stages then run on Spark over its input."""
    say = progress or (lambda _m: None)
    if not export_dir.is_dir():
        raise UsageError(f"{export_dir}: not a folder")
    con = _connect(db_path, config, wait)
    try:
        return _run_locked(con, export_dir, out, config, say, formats, run_id, now, spark)
    finally:
        con.close()


def _connect(db_path: Path | None, config: Config, wait: float) -> duckdb.DuckDBPyConnection:
    settings = dbmod.EngineSettings(memory_limit=config.engine.memory_limit, threads=config.engine.threads,
                                    temp_directory=config.engine.temp_directory)
    return dbmod.connect(db_path, wait=wait, settings=settings)


def _run_locked(con: duckdb.DuckDBPyConnection, export_dir: Path, out: Path, config: Config, say: Say,
                formats: tuple[str, ...], run_id: str | None, now: Any, spark: Any = None) -> RunResult:
    try:
        from planner import report
    except ImportError:  # until the report module lands
        report = None

    run_id = start_run(con, "run", config, run_id=run_id)
    result = RunResult(run_id=run_id, exit_code=0)
    try:
        _cleanup_interrupted(con)
        base = ingest.IngestOptions.from_config(config, run_id=run_id)
        files, warnings = ingest.ingest_paths(
            con, [export_dir], base, root=export_dir, options_for=_options_for(config, export_dir, base),
            quick_skip=True, on_file=lambda i, n, r: say(f"planner: [{i}/{n}] {r.path}: {r.status}")
            if r.status != "skipped" else None)
        result.files, result.warnings = files, list(warnings)
        new = [f for f in files if f.status == "loaded"]
        say(f"planner: {len(new)} new file(s), {sum(f.rows_loaded for f in new)} rows loaded; analysing")
        if spark is None:
            analysis = analyze_mod.run_stages(con, config, run_id, progress=say)
        else:
            from planner import spark as spark_mod

            analysis = spark_mod.run_stages(con, config, run_id, spark, progress=say)
        result.warnings += analysis.warnings
        result.warnings += [f"{f.path}: {f.error}" for f in files if f.status == "failed"]
        result.warnings += [f"{f.path}:{(f.first_error or '').removeprefix('row ')} ({f.rows_rejected} rows rejected)"
                            for f in files if f.rows_rejected]
        run_dir = out / run_id
        if report is not None:
            say(f"planner: writing reports into {run_dir}")
            report.render(con, run_dir, formats, run_id=run_id, now=now)
            maybe_crash("publish")  # crash tests: reports written, latest not yet switched
            result.report_dir = run_dir
            result.latest = publish_latest(out, run_dir)
        code = analysis.exit_code
        if code == 0 and (any(f.status == "failed" or f.rows_rejected for f in files) or warnings):
            code = int(ExitCode.FINDINGS)
        result.exit_code = code
    except BaseException as exc:
        fail_run(con, run_id, exc)
        raise
    finish_run(con, run_id, result.exit_code, "; ".join(result.warnings)[:1000] or None)
    return result


def _cleanup_interrupted(con: duckdb.DuckDBPyConnection) -> None:
    """Analysis rows of runs that never finished are garbage: views show finished runs only, and the
    next run recomputes everything, so they are removed."""
    from planner.db import transaction

    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'run_id' "
        "AND table_name IN ('segments', 'segment_options', 'segment_scores', 'plan', 'plan_waves', "
        "'plan_deployments', 'plan_volume', 'plan_cashflow', 'segment_minute_hist', 'segment_daily')").fetchall()]
    with transaction(con):
        for t in tables:
            con.execute(f'DELETE FROM "{t}" WHERE run_id IN (SELECT run_id FROM runs WHERE status = \'interrupted\')')


# ---------------------------------------------------------------- demo

@dataclass
class DemoResult:
    headers: list[str]
    rows: list[list[Any]]
    closing: list[str] = field(default_factory=list)
    exit_code: int = 0


DEMO_MARKER = ".planner-demo"


def demo(out: Path, days: int, seed: int, db_path: Path | None, config: Config,
         progress: Say | None = None, now: Any = None) -> DemoResult:
    """Generate the demo company's exports into `out/exports` (and its planner.toml into `out`), then run
    the nightly job on them into `out/reports`. Starts afresh: a previous demo's exports and database in
    `out` are replaced (a folder that is not a demo's is refused). `config` is used when it comes from a
    file; otherwise the company's own planner.toml."""
    from planner import company
    from planner.config import load_config

    say = progress or (lambda _m: None)
    exports = out / "exports"
    db_file = db_path or out / "planner.duckdb"
    _reset_demo(out, exports, None if db_path else db_file)
    say(f"planner demo: generating {days} days of {company.NAME}'s exports into {exports}")
    written = company.generate_company(exports, days=days, seed=seed, config=False)
    (out / "planner.toml").write_text(company.CONFIG, encoding="utf-8")
    demo_config = config if config.path is not None else load_config(out / "planner.toml")
    say(f"planner demo: {len(written)} files; running the nightly job with "
        f"{demo_config.path if demo_config.path is not None else 'built-in defaults'}")
    result = run(exports, out / "reports", config=demo_config, db_path=db_file, progress=say, now=now)
    con = dbmod.connect(db_file, read_only=True)
    try:
        headers, rows = _summary(con)
    finally:
        con.close()
    html = (result.latest or out) / "plan.html"
    closing = [*_headline(result.latest),
               f"planner demo: database {db_file} (config {demo_config.path or 'defaults'})",
               f"planner demo: report {html}",
               f"planner demo: explore with: planner sql --db {db_file} 'select * from v_plan'"]
    return DemoResult(headers=headers, rows=rows, closing=closing, exit_code=result.exit_code)


def _reset_demo(out: Path, exports: Path, db_file: Path | None) -> None:
    """Remove what an earlier demo left in `out` (its marker says so); refuse a folder planner did not make."""
    import shutil

    marker = out / DEMO_MARKER
    ours = marker.is_file()
    leftovers = [p for p in (exports, db_file) if p is not None and p.exists()]
    if leftovers and not ours:
        raise UsageError(f"{leftovers[0]}: exists and was not written by `planner demo`",
                         hint="pick an empty folder with --out")
    if exports.exists():
        shutil.rmtree(exports)
    if db_file is not None:
        for f in (db_file, db_file.with_name(db_file.name + ".wal")):
            f.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text("written by `planner demo`: it replaces exports/ and planner.duckdb here on its next run\n",
                      encoding="utf-8")


def _headline(latest: Path | None) -> list[str]:
    """The plan's headline, read back from the plan.json just written."""
    import json
    from decimal import Decimal

    if latest is None or not (latest / "plan.json").is_file():
        return []
    plan = json.loads((latest / "plan.json").read_text(encoding="utf-8"))
    p = plan.get("portfolio") or {}

    def usd(v: Any) -> str:
        return "unknown" if v is None else f"${Decimal(v):,.0f}"

    month = p.get("breakeven_month")
    return [f"planner demo: today ${Decimal(p.get('current_monthly_cost_usd') or 0):,.0f} a month on APIs; "
            f"the plan moves {p.get('segments_moving', 0)} of {p.get('segments_total', 0)} segments onto "
            f"{p.get('gpus', 0)} GPUs and other APIs, saves {usd(p.get('monthly_savings_usd'))} a month for "
            f"{usd(p.get('one_time_cost_usd'))} one-time, "
            + (f"breaks even in month {month}" if month else "never breaks even")]


def _summary(con: Any) -> tuple[list[str], list[list[Any]]]:
    cur = con.execute(dbmod.load_sql("stages/demo_summary"))
    headers = [d[0] for d in cur.description]
    return headers, [list(r) for r in cur.fetchall()]
