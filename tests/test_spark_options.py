"""`planner run --engine spark` option handling that needs no JVM: bad options fail before a session starts,
and a database the Spark engine filled refuses a local analyze."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import spark as sp
from planner.errors import UsageError


def test_engine_spark_needs_an_input(cli, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    r = cli("run", tmp_path / "exports", "--engine", "spark", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 2
    assert "--spark-input" in r.stderr


def test_unknown_engine(cli, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    r = cli("run", tmp_path / "exports", "--engine", "trino", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 2
    assert "unknown engine" in r.stderr


def test_spark_options_need_the_engine(cli, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    r = cli("run", tmp_path / "exports", "--spark-input", "lake.requests", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 2


@pytest.mark.parametrize("bad", ["model", "=x"])
def test_bad_mapping(bad: str) -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        sp.engine_from_options(remote=None, master=None, source="lake.requests", mapping=[bad])


def test_input_format_and_identity(tmp_path: Path) -> None:
    assert sp.SparkInput("s3://bucket/requests/").resolved_format() == "parquet"
    assert sp.SparkInput("lake.requests").resolved_format() == "table"
    (tmp_path / "d" / "_delta_log").mkdir(parents=True)
    assert sp.SparkInput(str(tmp_path / "d")).resolved_format() == "delta"
    with pytest.raises(UsageError):
        sp.SparkInput("x", format="xls")
    a = sp.SparkInput("lake.requests", mapping={"model": "m"})
    assert a.identity != sp.SparkInput("lake.requests").identity


def test_spark_types() -> None:
    assert sp.spark_type("TIMESTAMP") == "TIMESTAMP_NTZ"
    assert sp.spark_type("VARCHAR[]") == "ARRAY<STRING>"
    assert sp.spark_type("MAP(VARCHAR, VARCHAR)") == "MAP<STRING, STRING>"
    assert sp.spark_type("DECIMAL(38,10)") == "DECIMAL(38,10)"


def test_local_analyze_refuses_a_spark_database(con) -> None:
    from planner.analyze import run_stages
    from planner.config import load_config

    con.execute("INSERT INTO usage_rollup (source_id, grain, usage_rows) VALUES ('spark:x', 'request', 3)")
    with pytest.raises(UsageError, match="Spark engine"):
        run_stages(con, load_config(None), "r1")
