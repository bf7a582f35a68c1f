"""The Spark tier: the raw-row stages on PySpark local mode and on DuckDB over the same generated rows must
give identical rollups (segment_days, segment_day_hist, the price keys, usage_enriched rolled up), and the
same segments and plan downstream.

Runs only where pyspark and Java 17 are installed (`pip install -e '.[test,spark]'`); skipped with the reason
otherwise. One local[2] session for the module (~10 s to start); marked slow and spark.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest


def _skip_reason() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[test,spark]')"
    if importlib.util.find_spec("sqlglot") is None:
        return "sqlglot is not installed"
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java"))
    if not java:
        return "no Java runtime (Spark needs Java 17: apt-get install openjdk-17-jre-headless)"
    try:
        subprocess.run([str(java), "-version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"java does not run: {exc}"
    return None


REASON = _skip_reason()
pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(REASON is not None, reason=f"Spark tier skipped: {REASON}"),
    # py4j talks to the local JVM over a loopback socket; nothing else is allowed
    pytest.mark.allow_hosts(["127.0.0.1", "::1"]),
]

# the columns of the generated traffic the lake carries (raw prompt text never goes there)
LAKE_COLUMNS = ("request_id", "ts", "workload", "provider", "model", "project", "api_key_id", "user_id",
                "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "status",
                "latency_ms", "ttft_ms", "batch", "billed_cost_usd")


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from planner import spark as sp

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = sp.session(master="local[2]", conf={
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
    })
    session.sparkContext.setLogLevel("ERROR")
    yield session
    try:
        session.stop()
    except Exception:  # noqa: BLE001 - the JVM may already be gone at interpreter exit
        pass


def _traffic(days: int = 3, seed: int = 11) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    from planner import generate

    t = generate.traffic(days=days, seed=seed, scale=0.15).select(list(LAKE_COLUMNS))
    # edge rows: NULL tokens, zero tokens, a day boundary to the microsecond, an unknown model
    ts = t.column("ts").to_pylist()
    base = t.slice(0, 4).to_pylist()
    base[0].update(request_id="edge-null", input_tokens=None, output_tokens=None, billed_cost_usd=None)
    base[1].update(request_id="edge-zero", input_tokens=0, output_tokens=0, cached_input_tokens=0)
    base[2].update(request_id="edge-midnight", ts=ts[0].replace(hour=23, minute=59, second=59, microsecond=999999))
    base[3].update(request_id="edge-unknown", model="some-inhouse-model-v9")
    t = pa.concat_tables([t, pa.Table.from_pylist(base, schema=t.schema)])
    # the lake stores naive UTC timestamps (timestamp_ntz), as Spark writes them
    return t.set_column(t.column_names.index("ts"), "ts", pc.cast(t.column("ts"), pa.timestamp("us")))


@pytest.fixture(scope="module")
def built(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same rows analysed twice: loaded into DuckDB (generic adapter) and read from a Parquet lake by Spark."""
    import pyarrow.parquet as pq

    from planner import db, nightly
    from planner import spark as sp
    from planner.config import SourceMapping, load_config

    root = tmp_path_factory.mktemp("equiv")
    table = _traffic()
    lake = root / "lake"
    lake.mkdir()
    pq.write_table(table, lake / "part-0.parquet")

    # histogram quantiles on both sides (the local path switches to exact ones below 1M rows)
    toml = root / "planner.toml"
    toml.write_text("[segments]\nexact_quantiles_max_rows = 0\n")
    cfg = load_config(toml)
    exports = root / "exports"
    exports.mkdir()
    pq.write_table(table, exports / "requests.parquet")
    from dataclasses import replace

    local_cfg = replace(cfg, sources=[SourceMapping(glob="requests.parquet", format="generic",
                                                    map={c: c for c in LAKE_COLUMNS})])
    nightly.run(exports, root / "reports-local", config=local_cfg, db_path=root / "local.duckdb", formats=("json",))

    con = db.connect(root / "spark.duckdb")
    engine = sp.SparkEngine(spark, sp.SparkInput(str(lake)))
    result = sp.analyze(con, cfg, engine)
    con.close()
    return {"local": root / "local.duckdb", "spark": root / "spark.duckdb", "result": result, "rows": table.num_rows,
            "lake": lake, "cfg": cfg, "toml": toml}


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    from planner import db

    con = db.connect(path, read_only=True)
    try:
        return sorted((tuple(_norm(v) for v in r) for r in con.execute(sql).fetchall()), key=repr)
    finally:
        con.close()


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, Decimal):
        return v.normalize()
    if isinstance(v, list):
        return tuple(sorted(map(repr, v)))
    return v


def _same(built: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    local, remote = _rows(built["local"], sql), _rows(built["spark"], sql)
    assert local, f"no rows: {sql}"
    missing = [r for r in local if r not in remote][:3]
    extra = [r for r in remote if r not in local][:3]
    assert local == remote, f"{len(local)} vs {len(remote)} rows; only DuckDB: {missing}; only Spark: {extra}"
    return local


def test_segment_days_identical(built: dict[str, Any]) -> None:
    _same(built, "SELECT * FROM segment_days")


def test_segment_day_hist_identical(built: dict[str, Any]) -> None:
    _same(built, "SELECT * FROM segment_day_hist")


def test_price_keys_identical(built: dict[str, Any]) -> None:
    from planner.db import load_sql

    # model_ref: the local rows carry what the price stage resolved since (price_fill_model_ref)
    def keys(name: str) -> str:
        return (f"SELECT provider, model, batch, service_tier, grain, sum(rows) FROM ({load_sql(name)}) "
                "GROUP BY ALL")

    local = _rows(built["local"], keys("stages/price_keys"))
    assert local == _rows(built["spark"], keys("stages/spark_price_keys"))
    assert sum(r[-1] for r in local) == built["rows"]


def test_usage_enriched_rolled_up_identical(built: dict[str, Any]) -> None:
    # the local rows rolled up by the same file Spark ran, against what Spark sent back
    cols = ("grain, provider, model, model_ref, project, workload, batch, service_tier, status, sensitivity, "
            "price_key, priced, context_band, mode, segment_id, cast(ts as date)")
    sql = (f"SELECT {cols}, sum(requests), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), "
           f"sum(billed_cost_usd), sum(cost_usd), sum(usage_rows) FROM usage_enriched GROUP BY ALL")
    rows = _same(built, sql)
    assert sum(r[-1] for r in rows) == built["rows"]


def test_segments_and_plan_identical(built: dict[str, Any]) -> None:
    _same(built, "SELECT * EXCLUDE (run_id) FROM v_segments")
    _same(built, "SELECT segment_id, sum(cost_usd) FROM v_segments GROUP BY ALL")


def test_second_run_is_incremental_and_stable(built: dict[str, Any], spark: Any) -> None:
    from planner import db
    from planner import spark as sp

    before = _rows(built["spark"], "SELECT * FROM segment_days")
    con = db.connect(built["spark"])
    try:
        result = sp.analyze(con, built["cfg"], sp.SparkEngine(spark, sp.SparkInput(str(built["lake"]))))
    finally:
        con.close()
    seg = next(s for s in result.stages if s.name == "segment")
    assert seg.data["engine"] == "spark"
    assert _rows(built["spark"], "SELECT * FROM segment_days") == before


def test_cli_run_engine_spark_writes_reports(built: dict[str, Any], spark: Any, cli: Any, tmp_path: Path) -> None:
    # the session of this module is reused (getOrCreate); reports render from the rollups
    (tmp_path / "exports").mkdir()
    r = cli("run", tmp_path / "exports", "--out", tmp_path / "reports", "--db", tmp_path / "c.duckdb",
            "--config", built["toml"], "--engine", "spark", "--spark-master", "local[2]",
            "--spark-input", str(built["lake"]), "--spark-conf", "spark.sql.shuffle.partitions=4")
    assert r.exit_code in (0, 1), r.stderr[-2000:]
    assert (tmp_path / "reports" / "latest" / "plan.html").is_file()
    assert _rows(tmp_path / "c.duckdb", "SELECT * FROM segment_days") == _rows(built["spark"],
                                                                              "SELECT * FROM segment_days")
