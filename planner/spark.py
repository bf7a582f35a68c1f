"""`planner run --engine spark`: the stages that scan raw request rows run on an existing Spark cluster;
the small rollups come back into the DuckDB file, where pricing, scoring, the plan and reports run
unchanged.

The request rows stay where they are (Parquet or Delta paths, or a table), read through
`SparkInput` and mapped onto the canonical usage columns. Spark runs the same `sql/` files as the
DuckDB path, transpiled by `planner.portable` (macros inlined): the per-day price keys, the enriched
rows, the segment day rollups (`segment_days`, `segment_day_hist`) and `usage_rollup`, which
`usage_enriched` reads back so every local query sees the lake's traffic. Days are rebuilt
incrementally: the days from the last one rolled up (it may have been partial), the days of newly
promoted templates, or everything when the segmentation config, the prices or the input changed.

pyspark is imported only here and only when a session is needed (`pip install 'planner[spark]'`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from planner import portable
from planner.db import fetch_dicts, load_sql, quote_literal, transaction
from planner.errors import ExitCode, UsageError
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from planner.analyze import AnalyzeResult
    from planner.config import Config

Say = Callable[[str], None]

# columns of `usage` the Spark binding computes itself (spark_usage.sql), never read from the input
COMPUTED = ("sensitivity_declared", "sensitivity_source", "sensitivity_policy", "allow_third_party")
FORMATS = ("auto", "parquet", "delta", "orc", "json", "csv", "table")
# SQL settings planner needs in the session: naive timestamps read as UTC; DECIMAL products keep their scale
# (Spark would otherwise round money to 6 places where DuckDB keeps 10 or 16)
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
}


def require_local(con: duckdb.DuckDBPyConnection) -> None:
    """The DuckDB engine must not analyse a database the Spark engine fills: its rows are not here."""
    row = con.execute("SELECT count(*) FROM usage_rollup").fetchone()
    if row and row[0]:
        raise UsageError("this database is built by the Spark engine (its request rows live in the lake)",
                         hint="run `planner run --engine spark ...`, or use another --db for local exports")


# ---------------------------------------------------------------- the input

@dataclass(frozen=True)
class SparkInput:
    """Where the request rows live and how their columns map onto the usage columns.

    `source`: a path (Parquet/Delta/ORC/JSON/CSV, any URI Spark reads) or a table name. `mapping`:
    canonical field -> input column (as the generic adapter's --map; `tags.KEY` fields build the tags
    map); columns named like a canonical field are used without mapping. `sets`: constants.
    `day_column`: a partition column holding the row's UTC date, filtered on for partition pruning."""

    source: str
    format: str = "auto"
    mapping: dict[str, str] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    day_column: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise UsageError(f"--spark-format: unknown format {self.format!r}", hint="one of " + ", ".join(FORMATS))
        if not self.source.strip():
            raise UsageError("--spark-input: empty")

    @property
    def identity(self) -> str:
        """What the rollups were built from: a different input rebuilds everything."""
        body = json.dumps({"source": self.source, "format": self.resolved_format(), "map": self.mapping,
                           "set": self.sets}, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def resolved_format(self) -> str:
        if self.format != "auto":
            return self.format
        src = self.source.rstrip("/")
        lower = src.lower()
        for ext, fmt in ((".parquet", "parquet"), (".orc", "orc"), (".csv", "csv"), (".json", "json"),
                         (".jsonl", "json")):
            if lower.endswith(ext):
                return fmt
        if "/" in src or ":" in src:
            from pathlib import Path

            local = Path(src.removeprefix("file://"))
            if local.is_dir() and (local / "_delta_log").is_dir():
                return "delta"
            return "parquet"
        return "table"


# ---------------------------------------------------------------- sessions

def session(remote: str | None = None, master: str | None = None, conf: dict[str, str] | None = None,
            app_name: str = "planner") -> Any:
    """A SparkSession: Spark Connect at `remote` (sc://host:15002), else `master` (local[2], yarn, ...),
    else the active session or a new local one."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the Spark engine needs pyspark", hint="pip install 'planner[spark]'") from None
    builder = SparkSession.builder.appName(app_name)
    if remote:
        builder = builder.remote(remote)
    elif master:
        builder = builder.master(master)
    for k, v in {"spark.ui.showConsoleProgress": "false", **(conf or {})}.items():
        builder = builder.config(k, v)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # JVM missing, cluster unreachable: one line, never a Java trace
        raise UsageError(f"cannot start a Spark session: {_first_line(exc)}",
                         hint="check --spark-remote / Java 17; Spark Connect needs `pip install 'planner[spark]'` "
                              "with pyspark[connect]") from None


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def engine_from_options(*, remote: str | None, master: str | None, source: str | None, format: str = "auto",
                        mapping: list[str] = (), sets: list[str] = (), day_column: str | None = None,
                        conf: list[str] = ()) -> SparkEngine:
    """The engine `planner run --engine spark` builds from its --spark-* options (input checked first,
    so a missing --spark-input fails before a JVM starts)."""
    if not source:
        raise UsageError("--engine spark needs --spark-input PATH|TABLE (where the request rows live)")
    spec = SparkInput(source, format=format, mapping=_pairs(list(mapping), "--spark-map"),
                      sets=_pairs(list(sets), "--spark-set"), day_column=day_column)
    return SparkEngine(session(remote=remote, master=master, conf=_pairs(list(conf), "--spark-conf")), spec)


def run(export_dir: Any, out: Any, *, config: Config, session: Any, source: SparkInput, **kw: Any) -> Any:
    """`planner run --engine spark` from Python with an existing SparkSession (Databricks, a notebook):
    planner.nightly.run with the raw-row stages on `session` over `source`."""
    from planner import nightly

    return nightly.run(export_dir, out, config=config, spark=SparkEngine(session, source), **kw)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


# ---------------------------------------------------------------- types

def spark_type(duckdb_type: str) -> str:
    """The Spark SQL type for a DuckDB column type (naive timestamps are TIMESTAMP_NTZ, as they mean UTC)."""
    t = duckdb_type.upper().strip()
    if t.endswith("[]"):
        return f"ARRAY<{spark_type(t[:-2])}>"
    if t.startswith("MAP("):
        k, v = t[4:-1].split(",", 1)
        return f"MAP<{spark_type(k)}, {spark_type(v)}>"
    simple = {"VARCHAR": "STRING", "BIGINT": "BIGINT", "INTEGER": "INT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN",
              "TIMESTAMP": "TIMESTAMP_NTZ", "DATE": "DATE", "JSON": "STRING", "UUID": "STRING", "FLOAT": "FLOAT", "HUGEINT": "DECIMAL(38, 0)",
              "UBIGINT": "DECIMAL(20, 0)", "SMALLINT": "SMALLINT", "TINYINT": "TINYINT", "TIME": "BIGINT"}
    if t in simple:
        return simple[t]
    if t.startswith("DECIMAL"):
        return t
    raise UsageError(f"internal: no Spark type for DuckDB type {duckdb_type}")


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------- the engine

class SparkEngine:
    """Runs portable `sql/` statements on a SparkSession and brings their results back as Arrow."""

    def __init__(self, spark: Any, source: SparkInput, *, persist: bool = True) -> None:
        self.spark = spark
        self.input = source
        self.persist = persist
        self.macros = portable.Macros()
        self.timings: list[tuple[str, float]] = []
        self._cached: list[Any] = []
        for k, v in SESSION_CONF.items():
            spark.conf.set(k, v)

    # -- plumbing

    def sql(self, text: str, args: dict[str, Any] | None = None) -> Any:
        return self.spark.sql(text, args=args) if args else self.spark.sql(text)

    def view(self, name: str, df: Any, *, cache: bool = False) -> Any:
        if cache and self.persist:
            df = df.persist()
            self._cached.append(df)
        df.createOrReplaceTempView(name)
        return df

    def release(self) -> None:
        for df in self._cached:
            try:
                df.unpersist()
            except Exception:  # noqa: BLE001 - a lost executor must not fail the run at its end
                pass
        self._cached.clear()

    def ship(self, con: duckdb.DuckDBPyConnection, query: str, name: str) -> Any:
        """A small local relation (prices, templates, days) as a Spark temp view. TIME columns travel as
        microseconds of the day, which is how portable SQL compares them on Spark."""

        rel = con.sql(query)
        cols = [f'epoch_us(DATE \'1970-01-01\' + "{c}") AS "{c}"' if str(t).upper() == "TIME" else f'"{c}"'
                for c, t in zip(rel.columns, rel.types, strict=True)]
        table: pa.Table = con.sql(f"SELECT {', '.join(cols)} FROM ({query})").to_arrow_table()
        df = self.spark.createDataFrame(table) if table.num_rows else self.spark.createDataFrame(
            [], _arrow_schema_ddl(table.schema))
        df.createOrReplaceTempView(name)
        return df

    def fetch(self, df: Any) -> pa.Table:
        return df.toArrow()

    def run(self, name: str, *, flags: dict[str, bool] | None = None, args: dict[str, Any] | None = None,
            replace: dict[str, str] | None = None) -> list[tuple[portable.Statement, Any]]:
        """Each statement of `sql/<name>.sql` on Spark: CREATE TABLE becomes a persisted temp view, CREATE
        VIEW a temp view; SELECT and INSERT return their DataFrame for the caller to fetch."""
        text = load_sql(name)
        for k, v in (replace or {}).items():
            text = text.replace(k, v)
        out = []
        for st, spark_sql in portable.to_spark(text, self.macros, flags=flags):
            t0 = time.perf_counter()
            used = {k: v for k, v in (args or {}).items() if f":{k}" in spark_sql}
            try:
                df = self.sql(spark_sql, used or None)
                if st.action == "create_table":
                    df = self.view(st.target or name, df, cache=True)
                elif st.action == "create_view":
                    df = self.view(st.target or name, df)
            except Exception as exc:
                if type(exc).__module__.startswith("pyspark"):
                    raise UsageError(f"sql/{name}.sql on Spark: {_first_line(exc)}") from None
                raise
            self.timings.append((name, time.perf_counter() - t0))
            out.append((st, df))
        return out

    def select(self, name: str, **kw: Any) -> Any:
        """The DataFrame of a file's one SELECT (or the SELECT inside its INSERT)."""
        return self.run(name, **kw)[-1][1]

    # -- the input

    def bind_input(self, con: duckdb.DuckDBPyConnection, *, since: date | None = None,
                   days: list[date] | None = None, name: str = "usage_input") -> None:
        """`usage_input`: the lake's rows as usage columns (typed; unmapped ones NULL), optionally only
        the rows from `since` on, or of `days` (the filter is on ts, and on the day column when given)."""
        raw = self._read()
        raw.createOrReplaceTempView("_planner_input")
        available = {c.lower(): c for c in raw.columns}
        schema = [(c, t) for c, t in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'usage' "
            "AND table_schema = 'main' ORDER BY ordinal_position").fetchall() if c not in COMPUTED]
        known = {c for c, _ in schema}
        for field_name in [*self.input.mapping, *self.input.sets]:
            if field_name.split(".")[0] not in known and not field_name.startswith("tags."):
                raise UsageError(f"spark mapping: {field_name}: not a usage column",
                                 hint="fields: " + ", ".join(sorted(known)))
        for field_name, col in self.input.mapping.items():
            if col.lower() not in available:
                raise UsageError(f"spark mapping: {field_name}={col}: the input has no column {col!r}",
                                 hint="its columns: " + ", ".join(raw.columns[:40]))
        dtypes = {c.lower(): t for c, t in raw.dtypes}
        exprs = [f"{self._column(c, t, available, dtypes)} AS {_q(c)}" for c, t in schema]
        inner = f"SELECT {', '.join(exprs)} FROM _planner_input{self._partition_filter(since, days)}"
        self.sql(f"SELECT * FROM ({inner}) AS m{self._ts_filter(since, days)}").createOrReplaceTempView(name)

    def _read(self) -> Any:
        fmt = self.input.resolved_format()
        try:
            if fmt == "table":
                return self.spark.table(self.input.source)
            reader = self.spark.read.format(fmt)
            opts = dict(self.input.options)
            if fmt == "csv":
                opts.setdefault("header", "true")
            for k, v in opts.items():
                reader = reader.option(k, v)
            return reader.load(self.input.source)
        except Exception as exc:
            if type(exc).__module__.startswith("pyspark"):
                raise UsageError(f"--spark-input {self.input.source}: cannot read it as {fmt}: {_first_line(exc)}") \
                    from None
            raise

    def _column(self, name: str, duck_type: str, available: dict[str, str], dtypes: dict[str, str]) -> str:
        stype = spark_type(duck_type)
        src = self.input.mapping.get(name)
        if name in self.input.sets:
            value = f"CAST({quote_literal(self.input.sets[name])} AS {stype})"
            return value if stype != "TIMESTAMP_NTZ" else self._ts(quote_literal(self.input.sets[name]), "string")
        col = available.get((src or name).lower())
        if name == "tags":
            return self._tags(col, stype)
        if col is None:
            default = {"grain": "'request'", "requests": "1", "source_id": f"'spark:{self.input.identity}'"}
            if name == "event_id":
                rid = available.get((self.input.mapping.get("request_id") or "request_id").lower())
                return f"CAST({_q(rid)} AS STRING)" if rid else "CAST(NULL AS STRING)"
            return f"CAST({default.get(name, 'NULL')} AS {stype})"
        if stype == "TIMESTAMP_NTZ":
            return self._ts(_q(col), dtypes.get(col.lower(), "string"))
        return f"CAST({_q(col)} AS {stype})"

    @staticmethod
    def _ts(expr: str, dtype: str) -> str:
        # naive timestamps already mean UTC; zoned ones and text (with or without an offset) are read
        # in the session's UTC
        if dtype == "timestamp_ntz":
            return expr
        return f"CAST(CAST({expr} AS TIMESTAMP) AS TIMESTAMP_NTZ)"

    def _tags(self, col: str | None, stype: str) -> str:
        pairs = [(f.split(".", 1)[1], c) for f, c in self.input.mapping.items() if f.startswith("tags.")]
        if pairs:
            args = ", ".join(f"{quote_literal(k)}, CAST({_q(c)} AS STRING)" for k, c in pairs)
            return f"MAP_FILTER(MAP({args}), (k, v) -> v IS NOT NULL)"
        if col is not None:
            return f"CAST({_q(col)} AS {stype})"
        return f"CAST(MAP() AS {stype})"

    @staticmethod
    def _bounds(since: date | None, days: list[date] | None) -> tuple[date | None, date | None]:
        if days is not None:
            return (min(days), max(days) + timedelta(days=1)) if days else (None, None)
        return since, None

    def _partition_filter(self, since: date | None, days: list[date] | None) -> str:
        """On the input's day partition column, so Spark reads only those partitions."""
        lo, hi = self._bounds(since, days)
        col = self.input.day_column
        if col is None or lo is None:
            return ""
        conds = [f"CAST({_q(col)} AS DATE) >= DATE '{lo.isoformat()}'"]
        if hi is not None:
            conds.append(f"CAST({_q(col)} AS DATE) < DATE '{hi.isoformat()}'")
        return " WHERE " + " AND ".join(conds)

    def _ts_filter(self, since: date | None, days: list[date] | None) -> str:
        """On the canonical ts (Parquet row groups are skipped by their ts range)."""
        if days is not None and not days:
            return " WHERE FALSE"
        lo, hi = self._bounds(since, days)
        if lo is None:
            return ""
        conds = [f"ts >= TIMESTAMP_NTZ '{lo.isoformat()} 00:00:00'"]
        if hi is not None:
            conds.append(f"ts < TIMESTAMP_NTZ '{hi.isoformat()} 00:00:00'")
        if days is not None and len(days) < (hi - lo).days:  # type: ignore[operator]
            conds.append("CAST(ts AS DATE) IN (" + ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(days)) + ")")
        return " WHERE " + " AND ".join(conds)


def _arrow_schema_ddl(schema: Any) -> str:
    """A Spark DDL schema for an empty Arrow table (createDataFrame cannot infer from no rows)."""
    import pyarrow as pa

    def t(a: Any) -> str:
        if pa.types.is_string(a) or pa.types.is_large_string(a):
            return "STRING"
        if pa.types.is_int64(a):
            return "BIGINT"
        if pa.types.is_int32(a):
            return "INT"
        if pa.types.is_boolean(a):
            return "BOOLEAN"
        if pa.types.is_float64(a):
            return "DOUBLE"
        if pa.types.is_date(a):
            return "DATE"
        if pa.types.is_timestamp(a):
            return "TIMESTAMP_NTZ" if a.tz is None else "TIMESTAMP"
        if pa.types.is_decimal(a):
            return f"DECIMAL({a.precision}, {a.scale})"
        if pa.types.is_list(a):
            return f"ARRAY<{t(a.value_type)}>"
        if pa.types.is_map(a):
            return f"MAP<{t(a.key_type)}, {t(a.item_type)}>"
        raise UsageError(f"internal: no Spark type for Arrow type {a}")

    return ", ".join(f"`{f.name}` {t(f.type)}" for f in schema)


# ---------------------------------------------------------------- the stages on Spark

def _state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM segment_state WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def _set_state(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO segment_state VALUES (?, ?)", [key, value])


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> int:
    if data.num_rows == 0:
        return 0
    con.register("_spark_result", data)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _spark_result")
    finally:
        con.unregister("_spark_result")
    return int(data.num_rows)


def _days_list(days: list[date]) -> str:
    return "SELECT * FROM (VALUES " + ", ".join(f"(DATE '{d.isoformat()}')" for d in days) + ") AS t(day)" if days \
        else "SELECT CAST(NULL AS DATE) AS day WHERE false"


@dataclass
class Plan:
    """Which days this run rebuilds, and why."""

    full: bool
    days: list[date]
    reason: str


def _new_days(engine: SparkEngine, con: duckdb.DuckDBPyConnection, since: date | None, full: bool) -> list[date]:
    """Days of the input to (re)build: all of them on a full build, else from `since` or the last day
    already rolled up (it may have been partial) on."""
    if not full and since is None:
        row = con.execute("SELECT max(day) FROM spark_price_keys").fetchone()
        since = row[0] if row and row[0] is not None else None
        full = since is None
    start = date(1900, 1, 1) if full or since is None else since
    engine.bind_input(con, since=None if full else start)
    df = engine.select("stages/spark_days", args={"since": datetime(start.year, start.month, start.day)})
    return sorted(r["day"] for r in df.collect() if r["day"] is not None)


def run_stages(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, engine: SparkEngine, *,
               rebuild: bool = False, since: date | None = None, progress: Say | None = None) -> AnalyzeResult:
    """The analyze stages with the raw-row scans on Spark: price keys, detect, segment rollups and
    usage_rollup there; pricing, the segment merge, scoring and the plan here. Each stage in one
    transaction; then the data checks (the usage checks on Spark)."""
    from planner import analyze as an
    from planner import pricing, segment, sensitivity
    from planner.runs import record_assumptions

    say = progress or (lambda _m: None)
    local = con.execute("SELECT count(*) FROM usage").fetchone()
    if local and local[0]:
        raise UsageError(f"the database holds {local[0]} usage rows loaded locally; the Spark engine reads request "
                         "rows from --spark-input only",
                         hint="put those exports in the lake, or use another --db for the Spark engine")
    result = an.AnalyzeResult(run_id=run_id)
    with transaction(con):
        record_assumptions(con, run_id, config)

    # 0. what to rebuild: a new input starts over
    identity = engine.input.identity
    input_changed = _state(con, "spark.input") != identity
    if input_changed or rebuild:
        with transaction(con):
            for table in ("spark_price_keys", "usage_rollup", "segment_days", "segment_day_hist",
                          "segment_fingerprints"):
                con.execute(f"DELETE FROM {table}")
            con.execute("DELETE FROM segment_state WHERE key IN ('config_hash', 'spark.input')")
    say("planner: spark: finding the days to scan ...")
    days = _new_days(engine, con, since, full=input_changed or rebuild)

    # 1. price keys of those days (Spark) -> the price stage (here)
    say(f"planner: spark: price keys of {len(days)} day(s) ...")
    engine.bind_input(con, days=days)
    keys = engine.fetch(engine.select("stages/spark_day_keys"))
    with transaction(con):
        if days:
            con.execute(f"DELETE FROM spark_price_keys WHERE day IN ({_days_list(days)})")
        _insert(con, "spark_price_keys", keys)
    say("planner: price ...")
    with transaction(con):
        stage = pricing.run(con, config, run_id, keys=fetch_dicts(con, load_sql("stages/spark_price_keys")))
    result.stages.append(stage)
    engine.ship(con, "SELECT * FROM prices", "prices")
    engine.ship(con, "SELECT * FROM price_models", "price_models")

    # 2. detect: the class is computed on Spark as the rows are read (spark_usage.sql)
    digest_policy = sensitivity.policy_hash(config)
    cls, src, tp = sensitivity.class_sql(config, con)
    usage_sql = {"__CLASS__": cls, "__SOURCE__": src, "__THIRD_PARTY__": tp}

    # 3. segment: full rebuild when the config (or prices) changed, templates, then the day rollups
    say("planner: segment (spark) ...")
    con.execute(load_sql("stages/segment_macros"))
    con.execute(segment.workload_macro_sql(con, config))
    digest = segment.config_hash(con, config)
    full = _state(con, "config_hash") != digest
    if full and not (input_changed or rebuild):
        say("planner: spark: the segmentation config or the prices changed: rebuilding every day")
        days = _new_days(engine, con, None, full=True)
    engine.macros = portable.default_macros([segment.workload_macro_sql(con, config)])
    promoted_new = 0
    engine.bind_input(con)  # every day: templates count over the whole input
    has_fp = "prompt_fingerprint" in engine.input.mapping or "prompt_fingerprint" in {
        c.lower() for c in engine.spark.table("_planner_input").columns}
    if has_fp:
        promoted = engine.fetch(engine.select(
            "stages/spark_promoted", args={"min_requests": int(config.value("segments.template_min_requests"))}))
        with transaction(con):
            con.register("_spark_promoted", promoted)
            try:
                new = con.execute("SELECT fp FROM _spark_promoted WHERE fp NOT IN "
                                  "(SELECT template_fingerprint FROM segment_fingerprints WHERE template_promoted)"
                                  ).fetchall()
                con.execute("INSERT OR REPLACE INTO segment_fingerprints SELECT fp, n, true FROM _spark_promoted")
            finally:
                con.unregister("_spark_promoted")
        promoted_new = len(new)
        if new and not full:
            engine.ship(con, "SELECT * FROM (VALUES " + ", ".join(f"({quote_literal(r[0])})" for r in new)
                        + ") AS t(fp)", "_spark_new_templates")
            extra = [r["day"] for r in engine.select("stages/spark_template_days").collect()]
            days = sorted(set(days) | set(extra))
    engine.ship(con, "SELECT * FROM segment_fingerprints", "segment_fingerprints")

    detect = StageResult(name="detect")
    seg = StageResult(name="segment")
    if days:
        say(f"planner: spark: rolling up {len(days)} day(s) ...")
        engine.bind_input(con, days=None if full or input_changed or rebuild else days)
        engine.view("usage", engine.select("stages/spark_usage", replace=usage_sql, args={"policy": digest_policy}))
        engine.view("usage_enriched", engine.select("views/20_intermediate/usage_enriched"), cache=True)
        engine.ship(con, _days_list(days), "_seg_days")  # segment_rows names it (unread when $full)
        engine.view("_seg_rows", engine.select("stages/segment_rows", flags={"full": True}), cache=True)
        engine.run("stages/segment_hours")
        engine.run("stages/segment_grid")
        engine.view("_seg_min", engine.sql("SELECT * FROM _seg_grid WHERE is_minute AND arrival_requests IS NOT NULL"))
        engine.view("_seg_tok", engine.sql("SELECT * FROM _seg_grid WHERE NOT is_minute"))
        engine.run("stages/segment_sessions")
        engine.run("stages/segment_keys")
        seg_days = engine.fetch(engine.select("stages/segment_days_insert"))
        seg_hist = engine.fetch(engine.select("stages/segment_hist_insert"))
        rollup = engine.fetch(engine.select("stages/spark_usage_rollup"))
        engine.release()
        with transaction(con):
            day_list = _days_list(days)
            for table in ("segment_days", "segment_day_hist"):
                con.execute(f"DELETE FROM {table} WHERE day IN ({day_list})")
            con.execute(f"DELETE FROM usage_rollup WHERE CAST(ts AS DATE) IN ({day_list})")
            _insert(con, "segment_days", seg_days)
            _insert(con, "segment_day_hist", seg_hist)
            _insert(con, "usage_rollup", rollup.set_column(
                rollup.column_names.index("source_id"), "source_id",
                _const(rollup.num_rows, f"spark:{identity}")))
    detect.data = {"rows_classified": int(sum(r["rows"] for r in keys.to_pylist())) if days else 0,
                   "policy_hash": digest_policy,
                   "by_class": {str(k): int(v) for k, v in
                                con.execute(load_sql("stages/spark_sensitivity_summary")).fetchall()}}
    unknown = detect.data["by_class"].get("None", 0)
    if unknown:
        detect.warnings.append(
            f"{unknown} usage rows have no sensitivity class (no prompt text and no rule); "
            "add [[sensitivity.rules]] or set sensitivity.default in planner.toml")
    result.stages.append(detect)
    with transaction(con):
        _set_state(con, "config_hash", digest)
        _set_state(con, "spark.input", identity)
        seg = segment.finish(con, config, run_id, seg, exact=False, full=full or input_changed or rebuild,
                             days=len(days), promoted=promoted_new, digest=digest)
        seg.data["engine"] = "spark"
    result.stages.append(seg)

    # 4. scoring and the plan: here, unchanged
    for name, fn in an._stage_functions():
        if name in ("price", "detect", "segment"):
            continue
        say(f"planner: {name} ...")
        with transaction(con):
            result.stages.append(fn(con, config, run_id))

    # 5. checks: local ones here, the usage checks over the lake on Spark
    result.checks = run_checks(con, run_id, engine)
    if any(c.failing_rows and c.blocking for c in result.checks):
        result.exit_code = int(ExitCode.CHECK_FAILED)
    elif any(s.findings for s in result.stages) or any(c.failing_rows for c in result.checks):
        result.exit_code = int(ExitCode.FINDINGS)
    return result


def _const(n: int, value: str) -> Any:
    import pyarrow as pa

    return pa.array([value] * n, pa.string())


def run_checks(con: duckdb.DuckDBPyConnection, run_id: str, engine: SparkEngine) -> list[Any]:
    """Every sql/checks file: those over usage run on Spark over every day of the input."""
    from planner.analyze import CheckResult
    from planner.db import sql_root

    engine.bind_input(con)
    results = []
    folder = sql_root() / "checks"
    for f in sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name):
        name = f.name.removesuffix(".sql")
        text = f.read_text(encoding="utf-8")
        blocking = "-- severity: warn" not in text
        if f"checks/{name}" in portable.RAW_ROW_FILES:
            if name == "check_usage__unique_event" and not _has_request_id(engine):
                continue  # no request id in the input: nothing identifies a duplicate
            (st, spark_sql), = portable.to_spark(text.replace("from usage", "from usage_input"), engine.macros)
            n = int(engine.sql(f"SELECT count(*) AS n FROM ({spark_sql}) AS c").collect()[0]["n"])
        else:
            row = con.execute(f"SELECT count(*) FROM ({text.strip().rstrip(';')})").fetchone()
            n = int(row[0]) if row else 0
        results.append(CheckResult(name, n, blocking))
    with transaction(con):
        con.executemany("INSERT INTO check_results VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                        [(run_id, c.name, c.failing_rows, c.blocking) for c in results])
    return results


def _has_request_id(engine: SparkEngine) -> bool:
    cols = {c.lower() for c in engine.spark.table("_planner_input").columns}
    return any(k in engine.input.mapping for k in ("event_id", "request_id")) or bool({"event_id", "request_id"} & cols)


def analyze(con: duckdb.DuckDBPyConnection, config: Config, engine: SparkEngine, *, run_id: str | None = None,
            rebuild: bool = False, since: date | None = None, progress: Say | None = None) -> AnalyzeResult:
    """`planner analyze` with the Spark engine: records the run like planner.analyze.analyze."""
    from planner.runs import fail_run, finish_run, start_run

    run_id = start_run(con, "analyze", config, run_id=run_id)
    try:
        result = run_stages(con, config, run_id, engine, rebuild=rebuild, since=since, progress=progress)
    except BaseException as exc:
        fail_run(con, run_id, exc)
        raise
    finish_run(con, run_id, result.exit_code, "; ".join(result.warnings)[:1000] or None)
    return result
