"""Property: any split, reordering or repetition of the same rows gives the same usage table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import db, ingest
from planner.config import load_config

COLUMNS = "event_id, request_id, ts, model, input_tokens, cached_input_tokens, output_tokens, status"

row = st.fixed_dictionaries({
    "ts": st.datetimes(min_value=__import__("datetime").datetime(2024, 1, 1),
                       max_value=__import__("datetime").datetime(2025, 12, 31)).map(lambda d: d.isoformat() + "Z"),
    "model": st.sampled_from(["gpt-4o-mini", "claude-3-5-haiku", "a model, with comma", 'q"uote']),
    "input": st.integers(0, 10**9),
    "cached": st.one_of(st.none(), st.integers(0, 1000)),
    "output": st.one_of(st.none(), st.integers(0, 10**6)),
    "status": st.sampled_from(["success", "failure", "", "200"]),
})


def _write(path: Path, rows: list[dict], delimiter: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if delimiter == ";" else "\n")
    w.writerow(["request id", "time stamp", "model", "in", "cached", "out", "status"])
    for r in rows:
        w.writerow([r["id"], r["ts"], r["model"], r["input"], "" if r["cached"] is None else min(r["cached"], r["input"]),
                    "" if r["output"] is None else r["output"], r["status"]])
    path.write_text(buf.getvalue(), encoding="utf-8")


def _load(tmp: Path, files: list[list[dict]], name: str) -> list[tuple]:
    cfg = load_config(None)
    path = tmp / f"{name}.duckdb"
    if path.exists():
        path.unlink()
    con = db.connect(path)
    options = ingest.IngestOptions.from_config(cfg, format="generic", mapping={
        "request_id": "request id", "ts": "time stamp", "model": "model", "input_tokens": "in",
        "cached_input_tokens": "cached", "output_tokens": "out", "status": "status"}, sets={"provider": "openai"})
    paths = []
    for i, rows in enumerate(files):
        p = tmp / f"{name}-{i}.csv"
        _write(p, rows, ";" if i % 2 else ",")
        paths.append(p)
    results, _ = ingest.ingest_paths(con, paths, options)
    assert all(r.status in ("loaded", "skipped") for r in results), [r.error for r in results]
    out = con.execute(f"select {COLUMNS} from usage order by event_id").fetchall()
    con.close()
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=12), data=st.data())
def test_split_reorder_repeat_gives_the_same_table(tmp_path, rows, data):
    for i, r in enumerate(rows):
        r["id"] = f"req-{i}"
    whole = _load(tmp_path, [rows], "whole")
    n_files = data.draw(st.integers(1, 4))
    files: list[list[dict]] = [[] for _ in range(n_files)]
    for r in rows:
        # every row lands in at least one file, some in several
        targets = data.draw(st.lists(st.integers(0, n_files - 1), min_size=1, max_size=3))
        for t in targets:
            files[t].append(r)
    for f in files:
        order = data.draw(st.permutations(range(len(f))))
        f[:] = [f[i] for i in order]
    files = [f for f in files if f]
    assert _load(tmp_path, files, "split") == whole
