"""CLI behaviour: exit codes, stdout/stderr split, read-only SQL, output formats."""

from __future__ import annotations

import json
from pathlib import Path

GEN = Path(__file__).resolve().parent.parent / "fixtures" / "generic"


def _load(cli, db_path):
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "request_id=request_id",
            "--map", "input_tokens=input_tokens", "--map", "output_tokens=output_tokens", "--db", db_path)
    assert r.exit_code == 0, r.stderr


def test_help_lists_commands(cli):
    r = cli("--help")
    assert r.exit_code == 0
    for name in ("ingest", "sql", "demo", "assumptions"):
        assert name in r.stdout


def test_sql_formats(cli, db_path):
    _load(cli, db_path)
    r = cli("sql", "select request_id, input_tokens from usage order by 1", "--format", "csv", "--db", db_path)
    assert r.exit_code == 0 and r.stdout == "request_id,input_tokens\nreq-1,10\nreq-2,20\n" and r.stderr == ""
    r = cli("sql", "select request_id, input_tokens, ts from usage order by 1", "--format", "json", "--db", db_path)
    assert json.loads(r.stdout)[0] == {"request_id": "req-1", "input_tokens": 10, "ts": "2025-03-04T10:00:00"}
    r = cli("sql", "select count(*) as n from usage", "--db", db_path)
    assert r.exit_code == 0 and "n" in r.stdout and "2" in r.stdout


def test_sql_is_read_only(cli, db_path):
    _load(cli, db_path)
    for stmt in ("delete from usage", "insert into runs values ('x')", "drop table usage",
                 "create table t as select 1"):
        r = cli("sql", stmt, "--db", db_path)
        assert r.exit_code == 2, stmt
        assert r.stderr.startswith("planner: error: planner sql is read-only"), r.stderr
    r = cli("sql", "copy usage to 'out.csv'", "--db", db_path)
    assert r.exit_code == 2 and "read-only" in r.stderr
    r = cli("sql", "select count(*) from usage", "--db", db_path, "--format", "csv")
    assert r.stdout.splitlines()[1] == "2"


def test_sql_errors_are_one_line(cli, db_path):
    _load(cli, db_path)
    r = cli("sql", "select nope from usage", "--db", db_path)
    assert r.exit_code == 2 and r.stderr.startswith("planner: error: sql:") and "Traceback" not in r.stderr


def test_sql_without_database(cli, tmp_path):
    r = cli("sql", "select 1", "--db", tmp_path / "missing.duckdb")
    assert r.exit_code == 2 and "no planner database" in r.stderr


def test_assumptions_lists_units_and_sources(cli):
    r = cli("assumptions", "--json")
    rows = json.loads(r.stdout)
    assert rows and all(row["unit"] and row["source"] for row in rows)


def test_bad_ts_unit_is_a_usage_error(cli, db_path):
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "input_tokens=input_tokens", "--ts-unit", "h",
            "--db", db_path)
    assert r.exit_code == 2 and "--ts-unit" in r.stderr


def test_runs_are_logged(cli, db_path):
    _load(cli, db_path)
    r = cli("sql", "select command, status, exit_code from runs", "--db", db_path, "--format", "csv")
    assert r.stdout.splitlines()[1] == "ingest,ok,0"
