"""The portable-subset lint (no JVM): every raw-row file of sql/ passes it, each banned construct is caught,
and the Spark SQL of every raw-row file matches its reviewed golden (a sqlglot bump shows up as a diff)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from planner import portable, sqllint

GOLDEN = Path(__file__).parent / "spark_golden"


@pytest.fixture(scope="module")
def macros() -> portable.Macros:
    return portable.default_macros()


def test_raw_row_files_are_portable(macros: portable.Macros) -> None:
    t0 = time.perf_counter()
    assert sqllint.lint_files(macros=macros) == []
    assert time.perf_counter() - t0 < 5  # tens of milliseconds per file once sqlglot is imported


def test_goldens_match(macros: portable.Macros) -> None:
    assert sqllint.golden_diffs(GOLDEN, macros) == [], "python -m planner.sqllint --write-golden tests/spark_golden"


def test_cli_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert sqllint.main([]) == 0
    assert "portable subset" in capsys.readouterr().err


@pytest.mark.parametrize(("sql", "needle"), [
    ("select quantile_disc(x, 0.5) from t", "quantile_disc"),
    ("select quantile(x, 0.5) from t", "discrete"),
    ("select percentile_cont(0.5) within group (order by x) from t", "WITHIN GROUP"),
    ("select approx_quantile(x, 0.5) from t", "approximate"),
    ("select dayofweek(ts) from t", "isodow"),
    ("select time_bucket(interval 5 minute, ts) from t", "time_bucket"),
    ("select l[1] from t", "indexing"),
    ("select a / b from t", "division without a guard"),
    ("select a // b from t", "integer division"),
    ("select regexp_replace(s, 'a', 'b') from t", "'g'"),
    ("select regexp_matches(s, 'a', 'i') from t", "flags"),
    ("select histogram(x) from t", "histogram"),
    ("select * from read_parquet('x.parquet')", "logical table"),
    ("select now() from t", "parameter"),
    ("select random() from t", "deterministic"),
    ("select string_agg(s, ',') from t", "string_agg"),
    ("select list(x) from t", "list()"),
    ("select json_extract_string(j, '$.a') from t", "JSON"),
    ("select * from t using sample 10%", "SAMPLE"),
    ("select my_udf(x) from t", "unknown to sqlglot"),
    ("select * from a union all by name select * from b", "UNION BY NAME"),
    ("delete from t", "only SELECT"),
])
def test_lint_catches(sql: str, needle: str) -> None:
    problems = portable.lint(sql)
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize("sql", [
    "select a / nullif(b, 0) from t",
    "select a / 60.0 from t",
    "select a / greatest(b, 1) from t",
    "select regexp_replace(s, 'a', 'b', 'g') from t",
    "select quantile_cont(x, 0.5) from t",
    "select count(*) filter (where a > 0) from t group by all",
    "create temp table x as select md5(s) from t",
    "insert into x by name select 1 as a",
    "select * from t union all by name select * from usage_rollup",
])
def test_lint_allows(sql: str) -> None:
    assert portable.lint(sql) == []


def test_overrides_keep_duckdb_meaning() -> None:
    def spark(sql: str) -> str:
        ((_, out),) = portable.to_spark(sql)
        return out

    assert "PERCENTILE(x, 0.5)" in spark("select quantile_cont(x, 0.5) from t")
    # DuckDB counts day boundaries crossed: both sides truncated first on Spark
    assert "TIMESTAMPDIFF(DAY, DATE_TRUNC('DAY', a), DATE_TRUNC('DAY', b))" in spark(
        "select date_diff('day', a, b) from t")
    assert "UNIX_MICROS(ts) / 1000000.0" in spark("select epoch(ts) from t")
    # DuckDB's / is floating division, also on DECIMALs
    assert "CAST(a AS DOUBLE) / NULLIF(b, 0)" in spark("select a / nullif(b, 0) from t")
    # null-safe hash key: the null mask follows the values
    assert spark("select hash(a, b) from t") == "SELECT XXHASH64(a, b, ISNULL(a), ISNULL(b)) FROM t"


def test_macros_are_inlined() -> None:
    m = portable.Macros().add_sql("create or replace macro twice(x) as x * 2;")
    ((_, out),) = portable.to_spark("select twice(a + 1) as y from t", m)
    assert out == "SELECT ((a + 1) * 2) AS y FROM t"
    assert portable.lint("select twice(a) from t", m) == []
    assert portable.lint("select twice(a) from t") != []


def test_local_only_union_branch_is_dropped() -> None:
    ((_, out),) = portable.to_spark("select a from t union all by name select a from usage_rollup")
    assert out == "SELECT a FROM t"


def test_spark_usage_with_the_detect_rules_is_portable(con, tmp_path: Path) -> None:
    # spark_usage.sql gets the detect stage's class expressions spliced in (planner.sensitivity.class_sql)
    from planner import sensitivity
    from planner.config import load_config
    from planner.db import load_sql

    toml = tmp_path / "planner.toml"
    toml.write_text('[sensitivity]\ndefault = "internal"\n')
    for cfg in (load_config(None), load_config(toml)):
        cls, src, tp = sensitivity.class_sql(cfg, con)
        text = (load_sql("stages/spark_usage").replace("__CLASS__", cls).replace("__SOURCE__", src)
                .replace("__THIRD_PARTY__", tp))
        assert portable.lint(text, portable.default_macros()) == []
