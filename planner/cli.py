"""The command line: parse, call one library function, print, return an exit code.

No SQL here and no module-level duckdb/polars import, so `planner --help` stays instant.
Data goes to stdout; progress and diagnostics to stderr.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from planner import __version__
from planner.errors import ExitCode, PlannerError, UsageError

app = typer.Typer(
    name="planner",
    help="Plan the move of LLM API traffic to self-hosted open-weight models, from your own usage exports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)

DbOpt = Annotated[Path | None, typer.Option("--db", envvar="PLANNER_DB", help="DuckDB file [default: ./planner.duckdb]")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", envvar="PLANNER_CONFIG",
                                                help="planner.toml [default: ./planner.toml when present]")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summaries on stderr.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
WaitOpt = Annotated[float, typer.Option("--wait", help="Seconds to wait for another run's lock.", min=0)]

F = TypeVar("F", bound=Callable[..., Any])


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def handle_errors(func: F) -> F:
    """Map library errors to one stderr line and an exit code; never print a traceback to users."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = func(*args, **kwargs)
        except PlannerError as exc:
            _err(f"planner: error: {exc}")
            if exc.hint:
                _err(f"hint: {exc.hint}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            _err("planner: interrupted; the current stage was rolled back")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("PLANNER_DEBUG"):
                raise
            text = " ".join(str(exc).split())
            if type(exc).__name__ in ("FatalException", "IOException") or any(
                    m in text for m in ("No space left", "File too large", "Disk quota")):
                # DuckDB could not write (a full disk): committed steps are kept, the open one was not
                _err(f"planner: error: cannot write the database: {text[:300]}")
                _err("hint: free disk space and run again; everything committed before this point is kept")
                raise typer.Exit(int(ExitCode.USAGE)) from None
            _err(f"planner: internal error ({type(exc).__name__}); rerun with PLANNER_DEBUG=1 for details")
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        raise typer.Exit(int(code or 0))

    return wrapper  # type: ignore[return-value]


def _config(path: Path | None) -> Any:
    from planner.config import load_config

    return load_config(path)


def _connect(db: Path | None, config: Any, *, read_only: bool = False, wait: float = 0.0) -> Any:
    from planner import db as dbmod

    settings = dbmod.EngineSettings(
        memory_limit=config.engine.memory_limit,
        threads=config.engine.threads, temp_directory=config.engine.temp_directory,
    )
    return dbmod.connect(db, read_only=read_only, wait=wait, settings=settings)


def _parse_pairs(pairs: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {pair!r}: expected FIELD=VALUE")
        out[key.strip()] = value
    return out


@app.callback(invoke_without_command=True)
def _root(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False) -> None:
    if version:
        print(f"planner {__version__}")
        raise typer.Exit(0)


# ---------------------------------------------------------------- ingest

@app.command()
@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).")],
    format: Annotated[str, typer.Option("--format", "-f", help="auto, or a format name (see docs).")] = "auto",
    map: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN (generic format; repeatable).")] = None,
    set: Annotated[list[str] | None, typer.Option("--set", help="FIELD=VALUE constant (repeatable).")] = None,
    ts_unit: Annotated[str | None, typer.Option("--ts-unit", help="Numeric timestamps are s|ms|us|ns.")] = None,
    ts_origin: Annotated[str | None, typer.Option("--ts-origin", help="ISO 8601 origin of numeric timestamps.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Time zone of zone-less text timestamps [UTC].")] = None,
    allow_any_ts: Annotated[bool, typer.Option("--allow-any-ts", help="Accept timestamps before 2015 or in the future.")] = False,
    no_samples: Annotated[bool, typer.Option("--no-samples", help="Keep no prompt text at all, not even redacted samples.")] = False,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = 0.0,
) -> int:
    """Load usage or billing exports into the database. Re-loading a file changes nothing."""
    from planner import ingest as ing
    from planner.runs import finish_run, start_run

    if ts_unit is not None and ts_unit not in ("s", "ms", "us", "ns"):
        raise UsageError(f"--ts-unit {ts_unit!r}: expected s, ms, us or ns")
    cfg = _config(config)
    options = ing.IngestOptions.from_config(
        cfg, format=format, mapping=_parse_pairs(map or [], "--map"), sets=_parse_pairs(set or [], "--set"),
        ts_unit=ts_unit, ts_origin=ts_origin, tz=tz, allow_any_ts=allow_any_ts, no_text=no_samples,
    )
    _check_options(options)
    con = _connect(db, cfg, wait=wait)
    run_id = start_run(con, "ingest", cfg)
    options.run_id = run_id
    try:
        results, warnings = ing.ingest_paths(con, paths, options, on_file=None if quiet else _progress_line)
    except BaseException:
        finish_run(con, run_id, int(ExitCode.USAGE), "aborted")
        raise
    for w in warnings:
        _err(f"planner: warning: {w}")
    code = _report_ingest(results, json_out, quiet)
    finish_run(con, run_id, code)
    con.close()
    return code


def _check_options(options: Any) -> None:
    from planner.ingest import ADAPTERS
    from planner.ingest.generic import validate_mapping

    if options.format != "auto" and options.format not in ADAPTERS:
        raise UsageError(f"--format {options.format!r}: unknown format", hint=f"formats: auto, {', '.join(ADAPTERS)}")
    if options.mapping or options.format == "generic":
        validate_mapping(options, "ingest")
    if options.ts_origin:
        from datetime import datetime

        try:
            datetime.fromisoformat(options.ts_origin.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--ts-origin {options.ts_origin!r}: expected an ISO 8601 date or time") from None
    if options.tz:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(options.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"--tz {options.tz!r}: unknown time zone", hint="use an IANA name such as Europe/Paris") from None


def _progress_line(i: int, n: int, result: Any) -> None:
    if n > 1:
        _err(f"[{i}/{n}] {result.path}: {result.status}")


def _report_ingest(results: list[Any], json_out: bool, quiet: bool) -> int:
    from planner.ingest import summary_json

    failed = [r for r in results if r.status == "failed"]
    rejected = [r for r in results if r.rows_rejected]
    for r in failed:
        _err(f"planner: error: {r.error}")
    for r in rejected:
        first = (r.first_error or "").removeprefix("row ")
        _err(f"planner: warning: {r.path}:{first} ({r.rows_rejected} of {r.rows_read} rows rejected; "
             f"see the rejected table)")
    for r in results:
        for w in r.warnings:
            _err(f"planner: warning: {r.path}: {w}")
    if json_out:
        print(json.dumps(summary_json(results), indent=2))
    else:
        _print_table(
            ["path", "format", "status", "read", "loaded", "rejected", "duplicate"],
            [[r.path, r.format or "", r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.rows_duplicate]
             for r in results],
        )
    if failed:
        return int(ExitCode.USAGE)
    return int(ExitCode.FINDINGS) if rejected else int(ExitCode.OK)


def _print_table(headers: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers, box=None, pad_edge=False, highlight=False)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(file=sys.stdout, width=os.get_terminal_size(0).columns if sys.stdout.isatty() else 100_000,
            markup=False, emoji=False, highlight=False, soft_wrap=True).print(table)


# ---------------------------------------------------------------- analyze

@app.command()
@handle_errors
def analyze(
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = 0.0,
    scenario: Annotated[str | None, typer.Option("--scenario", help="Run [scenarios.NAME] from planner.toml as its own run.")] = None,
    set_assumption: Annotated[list[str] | None, typer.Option("--set-assumption", help="KEY=VALUE for this run only (repeatable).")] = None,
    volume: Annotated[float | None, typer.Option("--volume", help="Scale volumes (requests, tokens, peaks, API bills) by X.")] = None,
    price_change: Annotated[list[str] | None, typer.Option("--price-change", help="PROVIDER:±N% on that provider's API prices (repeatable).")] = None,
) -> int:
    """Price, detect, segment, size, score and plan over everything ingested (a scenario: as its own run)."""
    from planner import analyze as an
    from planner import scenarios as scn

    cfg = _config(config)
    applied = scn.apply(cfg, name=scenario, set_assumptions=set_assumption, volume=volume, price_changes=price_change)
    con = _connect(db, cfg, wait=wait)
    if applied.name is not None and not quiet:
        _err(f"planner: scenario {applied.name}: " + ("; ".join(applied.changes) or "no changes"))
    result = an.analyze(con, applied.config, scenario=applied.name, progress=None if quiet else _err)
    for w in result.warnings:
        _err(f"planner: warning: {w}")
    if json_out:
        from planner import report

        print(report.plan_json_text(con, result.run_id))
    elif not quiet:
        _err(f"planner: analyze {result.run_id} finished (exit {result.exit_code})")
    con.close()
    return result.exit_code


# ---------------------------------------------------------------- sql

@app.command()
@handle_errors
def sql(
    query: Annotated[str | None, typer.Argument(help="A read-only SQL query; none opens the DuckDB shell.")] = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Query the database read-only (views: v_daily_spend, v_model_mix, v_unpriced, ...)."""
    from planner import query as q

    if format not in ("table", "csv", "json"):
        raise UsageError(f"--format {format!r}: expected table, csv or json")
    if query is None:
        return q.shell(db)
    cfg = _config(config)
    con = _connect(db, cfg, read_only=True)
    headers, rows = q.run_readonly(con, query)
    if format == "csv":
        q.write_csv(sys.stdout, headers, rows)
    elif format == "json":
        print(q.to_json(headers, rows))
    else:
        _print_table(headers, [[q.display(v) for v in row] for row in rows])
    return 0


# ---------------------------------------------------------------- run

@app.command("run")
@handle_errors
def run_cmd(
    export_dir: Annotated[Path, typer.Argument(help="The folder your exports land in (walked recursively).")],
    out: Annotated[Path, typer.Option("--out", help="Reports go to OUT/<run_id>/ and OUT/latest/.")] = Path("reports"),
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = 0.0,
    engine: Annotated[str, typer.Option("--engine", help="duckdb, or spark: the raw-row stages run on Spark over "
                                        "--spark-input (docs/spark.md).")] = "duckdb",
    spark_remote: Annotated[str | None, typer.Option("--spark-remote", envvar="SPARK_REMOTE",
                                                     help="Spark Connect URL (sc://host:15002).")] = None,
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master (local[4], yarn, ...) "
                                                     "when not using Spark Connect.")] = None,
    spark_input: Annotated[str | None, typer.Option("--spark-input", help="The request rows: a Parquet/Delta/ORC "
                                                    "path or URI, or a table name.")] = None,
    spark_format: Annotated[str, typer.Option("--spark-format", help="auto, parquet, delta, orc, json, csv or "
                                              "table.")] = "auto",
    spark_map: Annotated[list[str] | None, typer.Option("--spark-map", help="FIELD=COLUMN: an input column for a "
                                                        "usage field (repeatable; tags.KEY=COLUMN builds tags).")] = None,
    spark_set: Annotated[list[str] | None, typer.Option("--spark-set", help="FIELD=VALUE: a constant usage field "
                                                        "(repeatable).")] = None,
    spark_day_column: Annotated[str | None, typer.Option("--spark-day-column", help="The input's UTC day partition "
                                                         "column, for partition pruning.")] = None,
    spark_conf: Annotated[list[str] | None, typer.Option("--spark-conf", help="KEY=VALUE session setting "
                                                         "(repeatable).")] = None,
) -> int:
    """The nightly job: load new files, analyse, write reports, compare with the previous run."""
    from planner import nightly

    cfg = _config(config)
    spark = None
    if engine == "spark":
        from planner import spark as spark_mod

        spark = spark_mod.engine_from_options(
            remote=spark_remote, master=spark_master, source=spark_input, format=spark_format,
            mapping=spark_map or [], sets=spark_set or [], day_column=spark_day_column, conf=spark_conf or [])
    elif engine != "duckdb":
        raise UsageError(f"--engine: unknown engine {engine!r}", hint="duckdb or spark")
    elif spark_input or spark_master:
        raise UsageError("--spark-input/--spark-master need --engine spark")
    result = nightly.run(export_dir, out, config=cfg, db_path=db, wait=wait, progress=None if quiet else _err,
                         spark=spark)
    for w in result.warnings:
        _err(f"planner: warning: {w}")
    if not quiet and result.latest is not None:
        _err(f"planner: run {result.run_id}: report {result.latest / 'plan.html'}")
    return result.exit_code


# ---------------------------------------------------------------- demo

@app.command()
@handle_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo exports, database and reports go.")] = Path("reports/demo"),
    days: Annotated[int, typer.Option("--days", min=1, max=366)] = 30,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Generate a synthetic company's exports, then run the whole pipeline on them."""
    from planner import nightly

    cfg = _config(config)
    result = nightly.demo(out=out, days=days, seed=seed, db_path=db, config=cfg,
                          progress=None if quiet else _err)
    _print_table(result.headers, result.rows)
    if not quiet:
        for line in result.closing:
            _err(line)
    return result.exit_code


# ---------------------------------------------------------------- prices

@app.command()
@handle_errors
def prices(
    book: Annotated[bool, typer.Option("--book", help="The API price book (offers a segment could move to).")] = False,
    model: Annotated[str | None, typer.Option("--model", help="Only model ids containing this text.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.")] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """The price table in use: model, provider, prices per million tokens, snapshot date and source."""
    from planner import pricing

    cfg = _config(config)
    con = _connect(db, cfg, read_only=True)
    table = pricing.price_table(con, book=book, model=model, provider=provider)
    con.close()
    if json_out:
        print(json.dumps(table.rows, indent=2))
    else:
        _print_table(table.headers, [[row[h] for h in table.headers] for row in table.rows])
    if not quiet:
        for line in table.notes:
            _err(line)
    return 0


# ---------------------------------------------------------------- generate

@app.command()
@handle_errors
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder the exports are written into.")] = Path("exports"),
    days: Annotated[int, typer.Option("--days", min=1, max=366)] = 30,
    rows_per_day: Annotated[int | None, typer.Option("--rows-per-day", min=1,
                                                     help="About this many request-log rows a weekday "
                                                          "[default: the company's ~4,500; with --formats ~4,000]; "
                                                          "every volume scales with it.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    formats: Annotated[str | None, typer.Option("--formats", help="Comma-separated formats: the same traffic in each "
                                                                  "(adapter testing) instead of the company's exports.")] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Write synthetic exports in real formats: a demo company's month (several providers and formats at once,
    plus its planner.toml), or with --formats the same traffic in each format. No database is touched."""
    from planner import generate as gen

    if formats:
        chosen = [f.strip() for f in formats.split(",") if f.strip()]
        written = gen.generate_exports(out, days=days, seed=seed, rows_per_day=rows_per_day, formats=chosen)
    else:
        from planner import company

        written = company.generate_company(out, days=days, seed=seed, scale=company.scale_for(rows_per_day))
    if json_out:
        print(json.dumps([{"format": w.format, "path": str(w.path), "rows": w.rows,
                           "ingest_format": gen.INGEST_FORMATS[w.format]} for w in written], indent=2))
    else:
        _print_table(["format", "path", "rows", "ingest with"],
                     [[w.format, str(w.path), w.rows, f"--format {gen.INGEST_FORMATS[w.format]}"] for w in written])
    if not quiet and formats:
        _err("planner generate: every file holds the same traffic: load one request-grain format at a time")
        if any(w.format == "mooncake" for w in written):
            _err(f"planner generate: the Mooncake trace counts from {gen.DEFAULT_START.isoformat()}: "
                 f"ingest it with --ts-origin {gen.DEFAULT_START.isoformat()}")
    elif not quiet:
        _err(f"planner generate: one company's exports (see {out / 'README.md'}); analyse them with: "
             f"planner run {out} --config {out / 'planner.toml'}")
    return 0


# ---------------------------------------------------------------- assumptions

@app.command()
@handle_errors
def assumptions(
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Every assumption in effect: key, value, unit, source, and where it came from."""
    cfg = _config(config)
    rows = cfg.assumption_rows()
    if json_out:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(["key", "value", "unit", "origin", "source"],
                     [[r["key"], r["value"], r["unit"], r["origin"], r["source"]] for r in rows])
    return 0


# ---------------------------------------------------------------- estimate

@app.command()
@handle_errors
def estimate(
    requests_per_day: Annotated[float, typer.Option("--requests-per-day", help="Requests per day.")],
    input_tokens_per_day: Annotated[float, typer.Option("--input-tokens-per-day", help="All input tokens per day (cached included).")],
    output_tokens_per_day: Annotated[float, typer.Option("--output-tokens-per-day", help="Output tokens per day.")],
    model: Annotated[str | None, typer.Option("--model", help="Catalog model id (default: the cheapest feasible).")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", help="Catalog GPU id (default: the cheapest feasible).")] = None,
    gpus: Annotated[int | None, typer.Option("--gpus", help="Force the fleet size (total GPUs).", min=1)] = None,
    gpus_per_replica: Annotated[int | None, typer.Option("--gpus-per-replica", help="Force tensor parallelism (GPUs per replica).", min=1)] = None,
    mode: Annotated[str, typer.Option("--mode", help="interactive or batch.")] = "interactive",
    gpu_price_per_hour: Annotated[float | None, typer.Option("--gpu-price-per-hour", help="USD per GPU-hour (needs --gpu).")] = None,
    hours_per_month: Annotated[float | None, typer.Option("--hours-per-month", help="Hours in a month [730].")] = None,
    cached_share: Annotated[float, typer.Option("--cached-share", help="Share of input that is a cached prefix.")] = 0.0,
    peak_to_mean: Annotated[float | None, typer.Option("--peak-to-mean", help="Design peak rate / mean rate.")] = None,
    p95_input: Annotated[float | None, typer.Option("--p95-input", help="p95 input tokens per request.")] = None,
    p99_input: Annotated[float | None, typer.Option("--p99-input", help="p99 input tokens per request (context check).")] = None,
    ttft_ms: Annotated[float | None, typer.Option("--ttft-ms", help="Time-to-first-token target.")] = None,
    itl_ms: Annotated[float | None, typer.Option("--itl-ms", help="Inter-token latency target.")] = None,
    api_model: Annotated[str | None, typer.Option("--api-model", help="The API model it runs on today (genai-prices id).")] = None,
    api_provider: Annotated[str | None, typer.Option("--api-provider", help="Its provider (genai-prices id).")] = None,
    api_input_price: Annotated[float | None, typer.Option("--api-input-usd-per-mtok", help="Explicit API input price.")] = None,
    api_cached_price: Annotated[float | None, typer.Option("--api-cached-usd-per-mtok", help="Explicit cached-input price.")] = None,
    api_output_price: Annotated[float | None, typer.Option("--api-output-usd-per-mtok", help="Explicit API output price.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Workload kind (chat, extraction, rag, code, ...).")] = None,
    sensitivity: Annotated[str | None, typer.Option("--sensitivity", help="public, internal, confidential or regulated.")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="Force weights precision: bf16, fp8, int4, mxfp4.")] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Price and size a hypothetical workload without logs: self-hosting vs the API, both views."""
    from decimal import Decimal

    from planner import calibrate as cal
    from planner import estimate as est

    cfg = est.with_flags(_config(config), gpu=gpu, gpu_price_per_hour=gpu_price_per_hour,
                         hours_per_month=hours_per_month, ttft_ms=ttft_ms, itl_ms=itl_ms)
    prices = None
    if api_input_price is not None or api_output_price is not None:
        if api_input_price is None or api_output_price is None:
            raise UsageError("--api-input-usd-per-mtok and --api-output-usd-per-mtok go together")
        prices = est.ApiPrice(Decimal(str(api_input_price)), Decimal(str(api_output_price)),
                              None if api_cached_price is None else Decimal(str(api_cached_price)))
    calibrations, why = cal.calibrations_from_db(db)
    if why and not quiet:
        _err(f"planner: warning: {why}")
    workload = est.Workload(requests_per_day, input_tokens_per_day, output_tokens_per_day, cached_share=cached_share,
                            peak_to_mean=peak_to_mean, p95_input=p95_input, p99_input=p99_input, mode=mode, kind=kind,
                            sensitivity=sensitivity)
    result = est.estimate(cfg, workload, model=model, gpu=gpu, gpus=gpus, gpus_per_replica=gpus_per_replica,
                          precision=precision, api_model=api_model,
                          api_provider=api_provider, api_price=prices, calibrations=calibrations)
    if json_out:
        print(json.dumps(result, indent=2))
    else:
        headers, rows, lines = est.table(result)
        _print_table(headers, rows)
        for line in lines:
            print(line)
    return 0 if result["self_host"]["feasible"] else int(ExitCode.FINDINGS)


# ---------------------------------------------------------------- calibrate

@app.command()
@handle_errors
def calibrate(
    file: Annotated[Path, typer.Argument(help="A `vllm bench serve --save-result` JSON, or a GuideLLM report.")],
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU id the benchmark ran on.")],
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs per replica (tensor parallel).", min=1)] = 1,
    model: Annotated[str | None, typer.Option("--model", help="Catalog model id (default: from the file's model id).")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="Weights precision served: bf16, fp8, int4, mxfp4.")] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = 0.0,
) -> int:
    """Import measured throughput/latency for a model x GPU; scoring then uses it instead of the defaults."""
    from planner import calibrate as cal
    from planner.runs import finish_run, start_run

    cfg = _config(config)
    con = _connect(db, cfg, wait=wait)
    run_id = start_run(con, "calibrate", cfg)
    try:
        rows, tool = cal.run_calibrate(con, cfg, file, model=model, gpu=gpu, gpus=gpus, precision=precision, run_id=run_id)
    except BaseException:
        finish_run(con, run_id, int(ExitCode.USAGE), "aborted")
        con.close()
        raise
    warnings = [w for r in rows for w in r.warnings]
    for w in warnings:
        _err(f"planner: warning: {file}: {w}")
    if json_out:
        print(json.dumps(cal.to_json(rows, tool, file), indent=2))
    else:
        headers, body = cal.summary(rows)
        _print_table(headers, body)
    code = int(ExitCode.FINDINGS) if warnings else 0
    finish_run(con, run_id, code)
    con.close()
    return code


# ---------------------------------------------------------------- report, diff, export

@app.command()
@handle_errors
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for plan.{html,md,json}.")] = Path("reports"),
    format: Annotated[str, typer.Option("--format", help="Comma list of html, md, json.")] = "html,md,json",
    run: Annotated[str | None, typer.Option("--run", help="Run id (or prefix) [default: the latest plan].")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Write the plan as DIR/plan.{html,md,json} (each file replaced atomically)."""
    from planner import report as rep

    formats = rep.parse_formats(format)
    cfg = _config(config)
    con = _connect(db, cfg, read_only=True)
    try:
        paths = rep.render(con, out, formats, run_id=run)
    finally:
        con.close()
    if not quiet:
        for path in paths:
            _err(f"planner: wrote {path}")
    return 0


@app.command()
@handle_errors
def diff(
    from_run: Annotated[str | None, typer.Option("--from", help="Earlier run [default: the one before --to].")] = None,
    to_run: Annotated[str | None, typer.Option("--to", help="Later run [default: the latest plan].")] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """What changed between two runs' plans: decisions, costs, new or vanished segments, prices."""
    from planner import plan as planmod
    from planner import report as rep

    cfg = _config(config)
    con = _connect(db, cfg, read_only=True)
    try:
        to_id = planmod.resolve_run(con, to_run)
        from_id = planmod.resolve_run(con, from_run) if from_run else planmod.previous_run(con, to_id)
        if from_id is None:
            raise UsageError(f"run {to_id} is the first plan in this database: nothing to compare with",
                             hint="run `planner analyze` again after new data, or pass --from RUN")
        result = rep.diff_json(planmod.diff(con, from_id, to_id,
                                            min_cost_change=cfg.dec("plan.diff_min_cost_change_usd")))
    finally:
        con.close()
    if json_out:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(rep.render_diff_text(result, to_id))
    return 0


@app.command()
@handle_errors
def export(
    kind: Annotated[str, typer.Argument(help="eval-set, router, serve or trace.")],
    out: Annotated[Path | None, typer.Option("--out", help="File to write [default: stdout].")] = None,
    segment: Annotated[list[str] | None, typer.Option("--segment", help="Segment id (repeatable; trace: exactly one).")] = None,
    all_segments: Annotated[bool, typer.Option("--all", help="eval-set: every segment, not only those that move.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="trace: at most N requests.")] = None,
    run: Annotated[str | None, typer.Option("--run", help="Run id (or prefix) [default: the latest plan].")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> int:
    """Files for the next step: eval-set (JSONL), router (LiteLLM YAML), serve (vLLM commands), trace (Mooncake JSONL)."""
    from planner import export as exp

    cfg = _config(config)
    con = _connect(db, cfg, read_only=True)
    try:
        result = exp.export(con, kind, run_id=run, segments=segment or [], all_segments=all_segments, limit=limit,
                            max_per_segment=int(cfg.value("ingest.samples_per_group")))
        written = exp.write_lines(result.lines, out)
    finally:
        con.close()
    for w in result.warnings:
        _err(f"planner: warning: {w}")
    if out is not None and not quiet:
        _err(f"planner: wrote {written} lines to {out}")
    return int(ExitCode.FINDINGS) if result.warnings else 0


def main() -> None:
    app()


if __name__ == "__main__":
    main()
