"""mooncake: replay traces; cached input from repeated leading hash blocks, computed in SQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from _billing import q

MC = Path(__file__).resolve().parent.parent / "fixtures" / "mooncake"


def test_cached_prefix_is_the_leading_run_of_blocks_seen_before(cli, db_path):
    r = cli("ingest", MC / "trace.jsonl", "--ts-origin", "2026-03-01T00:00:00Z", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["format"] == "mooncake"
    assert "anchored" not in r.stderr  # an explicit origin: no warning
    rows = q(db_path, "select source_row, input_tokens, cached_input_tokens, output_tokens from usage order by source_row")
    assert rows == [
        (1, 6755, 0, 500),      # first request: nothing seen yet
        (2, 7319, 512, 490),    # block 0 shared, then new blocks
        (3, 7234, 7168, 794),   # blocks 0-13 all seen in request 1: 14 x 512
        (4, 2287, 512, 316),
        (5, 400, 400, 20),      # one seen block, capped at the input length
        (6, 1530, 0, 120),      # a new leading block stops the run even though 0 and 1 were seen
        (7, 1100, 0, 64),       # an empty list: nothing cached
    ]


def test_relative_milliseconds_anchor_at_the_origin(cli, db_path):
    assert cli("ingest", MC / "trace.jsonl", "--ts-origin", "2026-03-01T00:00:00Z", "--db", db_path).exit_code == 0
    ts = [r[0] for r in q(db_path, "select ts from usage order by source_row")]
    assert ts[0] == datetime(2026, 3, 1) and ts[2] == datetime(2026, 3, 1, 0, 0, 3, 52000)
    assert ts[4] == datetime(2026, 3, 1, 23, 59, 59, 999000) and ts[5] == datetime(2026, 3, 2)
    assert ts[6] == datetime(2026, 3, 2, 0, 0, 0, 412500)
    assert q(db_path, "select distinct grain, requests, provider, model, request_id from usage") == [
        ("request", 1, None, None, None)]


def test_default_origin_warns(cli, db_path):
    r = cli("ingest", MC / "trace.jsonl", "--db", db_path)
    assert r.exit_code == 0
    assert "anchored at 2025-01-01T00:00:00Z" in r.stderr and "--ts-origin" in r.stderr
    assert q(db_path, "select min(ts) from usage") == [(datetime(2025, 1, 1),)]


def test_any_jsonl_of_that_shape(cli, db_path):
    r = cli("ingest", MC / "no_hash_ids.jsonl", MC.parent / "generic" / "relative_ms.jsonl", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert [f["format"] for f in json.loads(r.stdout)["files"]] == ["mooncake", "mooncake"]
    # without hash_ids the cache is unknown, not 0
    assert q(db_path, "select count(*), count(cached_input_tokens) from usage") == [(5, 0)]


def test_sessions(cli, db_path):
    assert cli("ingest", MC / "conversation.jsonl", "--db", db_path).exit_code == 0
    assert q(db_path, "select session_id, cached_input_tokens from usage order by source_row") == [("s-1", 0), ("s-1", 1024)]


def test_malformed_lines(cli, db_path):
    r = cli("ingest", MC / "bad_lines.jsonl", "--db", db_path)
    assert r.exit_code == 1
    got = {row[0]: row[1:] for row in q(db_path, "select source_row, field, source_column, reason from rejected")}
    assert got[2][:2] == ("ts", "timestamp") and '"soon"' in got[2][2]
    assert got[3] == ("input_tokens", "input_length", "missing input_length")
    assert got[4][0] == "input_tokens" and '"big"' in got[4][2]
    assert got[5][:2] == ("cached_input_tokens", "hash_ids")
    assert got[6][0] == "output_tokens" and "negative" in got[6][2]
    assert got[8][0] == "record"
    assert q(db_path, "select source_row from usage order by 1") == [(1,), (7,)]


def test_block_size_is_an_assumption(tmp_path, db_path):
    from planner import db, ingest
    from planner.config import load_config

    cfg_file = tmp_path / "planner.toml"
    cfg_file.write_text("[adapters]\nmooncake_block_tokens = 256\n")
    cfg = load_config(cfg_file)
    con = db.connect(db_path)
    try:
        options = ingest.IngestOptions.from_config(cfg, format="mooncake", ts_origin="2026-03-01T00:00:00Z")
        results, _ = ingest.ingest_paths(con, [MC / "trace.jsonl"], options)
        assert results[0].status == "loaded"
        assert con.execute("select cached_input_tokens from usage where source_row = 3").fetchone() == (14 * 256,)
    finally:
        con.close()


def test_string_block_ids(cli, db_path, tmp_path):
    f = tmp_path / "hex.jsonl"
    f.write_text('{"timestamp": 0, "input_length": 1024, "output_length": 5, "hash_ids": ["9f2c", "77aa"]}\n'
                 '{"timestamp": 10, "input_length": 1500, "output_length": 5, "hash_ids": ["9f2c", "77aa", "01"]}\n'
                 '{"timestamp": 20, "input_length": 600, "output_length": 5, "hash_ids": ["9f2c", 5]}\n')
    assert cli("ingest", f, "--ts-origin", "2026-03-01T00:00:00Z", "--db", db_path).exit_code == 0
    assert q(db_path, "select cached_input_tokens from usage order by source_row") == [(0,), (1024,), (512,)]


def _reference(lines: list[dict]) -> list[int | None]:
    """The definition, row by row: leading blocks seen in an earlier line, x 512, capped at the input."""
    seen: set = set()
    out: list[int | None] = []
    for line in lines:
        ids = line.get("hash_ids")
        if ids is None:
            out.append(None)
            continue
        run = 0
        for h in ids:
            if h not in seen:
                break
            run += 1
        out.append(min(run * 512, line["input_length"]))
        seen.update(ids)
    return out


def test_sql_matches_the_definition_on_random_traces(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from planner import db, ingest
    from planner.config import load_config

    line = st.fixed_dictionaries({
        "timestamp": st.integers(0, 10_000),
        "input_length": st.integers(1, 6000),
        "output_length": st.integers(0, 500),
        "hash_ids": st.one_of(st.none(), st.lists(st.integers(0, 12), max_size=8),
                              st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4)),
    })

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(lines=st.lists(line, min_size=1, max_size=15))
    def check(lines):
        f = tmp_path / "trace.jsonl"
        f.write_text("".join(json.dumps({k: v for k, v in x.items() if v is not None}) + "\n" for x in lines))
        path = tmp_path / "p.duckdb"
        path.unlink(missing_ok=True)
        con = db.connect(path)
        try:
            options = ingest.IngestOptions.from_config(load_config(None), format="mooncake",
                                                       ts_origin="2026-03-01T00:00:00Z")
            results, _ = ingest.ingest_paths(con, [f], options)
            assert results[0].rows_loaded == len(lines)
            got = [r[0] for r in con.execute("select cached_input_tokens from usage order by source_row").fetchall()]
        finally:
            con.close()
        assert got == _reference(lines)

    check()
