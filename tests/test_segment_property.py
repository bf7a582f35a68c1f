"""Property: however rows arrive (split into sources, spread over nightly runs), the segments are the same
as one full build over all of them."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import db, segment, sensitivity
from planner.config import load_config

request = st.fixed_dictionaries({
    "sec": st.integers(0, 3 * 86400 - 1),              # three days
    "ms": st.sampled_from([0, 0, 250, 999]),
    "workload": st.sampled_from(["a", "b", None]),
    "fp": st.sampled_from(["t1", "t2", None]),
    "input": st.sampled_from([5, 900, 9000, 40000, 200000]),
    "output": st.integers(0, 2000),
    "status": st.sampled_from(["ok", "ok", "ok", "error"]),
    "session": st.sampled_from(["s1", "s2", None]),
})


def _insert(con, source: str, rows: list[dict]) -> None:
    con.execute("INSERT INTO sources (source_id, path, status) VALUES (?, ?, 'loaded')", [source, source])
    con.executemany(
        "INSERT INTO usage (event_id, source_id, grain, ts, requests, workload, prompt_fingerprint, project, "
        "input_tokens, output_tokens, status, session_id, tags, batch) VALUES (md5(?)::uuid, ?, 'request', "
        "TIMESTAMP '2026-05-01 00:00:00' + to_seconds(?) + to_milliseconds(?), 1, ?, ?, 'p', ?, ?, ?, ?, MAP {}, false)",
        [(f"{source}-{i}", source, r["sec"], r["ms"], r["workload"], r["fp"], r["input"], r["output"], r["status"],
          r["session"]) for i, r in enumerate(rows)])


def _run(con, cfg, run_id: str) -> None:
    with db.transaction(con):
        sensitivity.run(con, cfg, run_id)
    with db.transaction(con):
        segment.run(con, cfg, run_id)


def _segments(con, run_id: str) -> list[tuple]:
    return con.execute("SELECT * EXCLUDE (run_id) FROM segments WHERE run_id = ? ORDER BY segment_id",
                       [run_id]).fetchall()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(request, min_size=1, max_size=60), cuts=st.lists(st.integers(0, 60), max_size=3))
def test_nightly_runs_equal_one_full_build(tmp_path_factory, rows, cuts):
    cfg = load_config(None)
    bounds = sorted({0, len(rows), *(min(c, len(rows)) for c in cuts)})
    parts = [rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    tmp = tmp_path_factory.mktemp("prop")
    nightly = db.connect(tmp / "nightly.duckdb")
    whole = db.connect(tmp / "whole.duckdb")
    try:
        for i, part in enumerate(parts):
            _insert(nightly, f"n{i}", part)
            _run(nightly, cfg, f"r{i}")
        _insert(whole, "w", rows)
        _run(whole, cfg, "w")
        assert _segments(nightly, f"r{len(parts) - 1}") == _segments(whole, "w")
        total = whole.execute("SELECT sum(requests) FROM segments WHERE run_id = 'w'").fetchone()[0]
        assert total == len(rows)
    finally:
        nightly.close()
        whole.close()


def test_empty_usage(con):
    cfg = load_config(None)
    _run(con, cfg, "r1")
    assert con.execute("SELECT count(*) FROM segments").fetchone()[0] == 0
