"""Migrations, schema checks, locking and read-only access."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from planner import db
from planner.errors import LockedError, SchemaError, UsageError


def test_migrations_create_every_contract_table(con):
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    for t in ("sources", "usage", "charges", "rejected", "runs", "assumptions", "prompt_samples",
              "schema_migrations", "usage_enriched", "v_daily_spend", "v_model_mix", "v_unpriced"):
        assert t in tables
    cols = [r[0] for r in con.execute("select column_name from information_schema.columns where table_name='usage' "
                                      "order by ordinal_position").fetchall()]
    for c in ("event_id", "source_id", "source_row", "grain", "ts", "ts_end", "provider", "model", "model_ref",
              "project", "api_key_id", "user_id", "session_id", "request_id", "workload", "tags", "requests",
              "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
              "batch", "service_tier", "status", "latency_ms", "ttft_ms", "billed_cost_usd", "prompt_chars",
              "prompt_sha256", "prompt_fingerprint", "pii_types", "sensitivity"):
        assert c in cols


def test_migrations_are_recorded_once(db_path):
    c = db.connect(db_path)
    n = c.execute("select count(*) from schema_migrations").fetchone()[0]
    c.close()
    c = db.connect(db_path)
    assert c.execute("select count(*) from schema_migrations").fetchone()[0] == n
    c.close()


def test_edited_migration_is_refused(db_path):
    c = db.connect(db_path)
    c.execute("update schema_migrations set checksum = 'x' where name = '0001_init'")
    c.close()
    with pytest.raises(SchemaError, match="0001_init has changed"):
        db.connect(db_path)


def test_newer_schema_is_refused(db_path):
    c = db.connect(db_path)
    c.execute("insert into schema_migrations values ('9999_future', 'x', now()::timestamp)")
    c.close()
    with pytest.raises(SchemaError, match="newer planner"):
        db.connect(db_path)
    with pytest.raises(SchemaError, match="newer planner"):
        db.connect(db_path, read_only=True)


def test_read_only_needs_existing_file(tmp_path):
    with pytest.raises(UsageError, match="no planner database"):
        db.connect(tmp_path / "missing.duckdb", read_only=True)


def test_second_writer_gets_locked_error_naming_the_holder(db_path):
    db.connect(db_path).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, duckdb
        c = duckdb.connect({str(db_path)!r})
        print('held', flush=True)
        time.sleep(20)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError) as info:
            db.connect(db_path)
        assert f"PID {holder.pid}" in str(info.value)
        assert info.value.exit_code == 4
        started = time.monotonic()
        with pytest.raises(LockedError):
            db.connect(db_path, wait=0.6)
        assert time.monotonic() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()


def test_transaction_rolls_back_on_error(con):
    with pytest.raises(RuntimeError):
        with db.transaction(con):
            con.execute("insert into runs (run_id, command, started_at, status) values ('r', 'x', now(), 'ok')")
            raise RuntimeError("boom")
    assert con.execute("select count(*) from runs").fetchone()[0] == 0


def test_sql_files_ship_with_the_package():
    names = [n for n, _ in db.migration_files()]
    assert names[0] == "0001_init"
    assert names == sorted(names)
    assert any(n == "usage_enriched" for n, _ in db.view_files())


def test_views_run_on_an_empty_database(con):
    for name, _ in db.view_files():
        con.execute(f'select * from "{name}" limit 1').fetchall()


def test_checks_pass_on_an_empty_database(con):
    root = db.sql_root() / "checks"
    for f in root.iterdir():
        if f.name.endswith(".sql"):
            assert con.execute(f.read_text()).fetchall() == [], f.name


def test_quote_ident_handles_odd_names():
    assert db.quote_ident('a "b" c') == '"a ""b"" c"'
    assert db.quote_literal("it's") == "'it''s'"


def test_default_db_path_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PLANNER_DB", str(tmp_path / "x.duckdb"))
    assert db.default_db_path() == Path(tmp_path / "x.duckdb")
