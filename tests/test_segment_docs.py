"""The SQL recipes in docs/segments.md and docs/sensitivity.md run, read-only, on an analyzed database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from planner import db, generate, ingest, segment, sensitivity
from planner.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def recipes(name: str) -> list[str]:
    """Each statement of the doc's sql blocks, without its comment lines."""
    text = (ROOT / "docs" / name).read_text()
    out = []
    for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
        for statement in block.split(";"):
            body = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--")).strip()
            if body:
                out.append(body)
    return out


@pytest.fixture
def analyzed(tmp_path: Path) -> Path:
    path = tmp_path / "planner.duckdb"
    cfg = load_config(None)
    table = generate.traffic(days=2, seed=3, scale=0.05)
    csv = generate.write_generic_csv(table, tmp_path / "gateway.csv")
    con = db.connect(path)
    try:
        options = ingest.IngestOptions.from_config(cfg, format="generic", mapping=generate.GENERIC_MAPPING)
        results, _ = ingest.ingest_paths(con, [csv], options)
        assert results[0].status == "loaded"
        con.execute("INSERT INTO runs (run_id, command, started_at, status) VALUES ('r1', 'analyze', now(), 'ok')")
        with db.transaction(con):
            sensitivity.run(con, cfg, "r1")
        with db.transaction(con):
            segment.run(con, cfg, "r1")
    finally:
        con.close()
    return path


def test_docs_recipes_run(cli, analyzed):
    queries = recipes("segments.md")
    assert len(queries) >= 3
    for q in queries:
        r = cli("sql", q, "--db", analyzed, "--format", "json")
        assert r.exit_code == 0, (q, r.stderr)
        assert isinstance(json.loads(r.stdout), list), q


def test_demo_workloads_come_out_as_expected(cli, analyzed):
    r = cli("sql", "select workload, workload_kind, sensitivity, context_band, mode, requests from v_segments",
            "--db", analyzed, "--format", "json")
    rows = json.loads(r.stdout)
    kinds = {x["workload"]: x["workload_kind"] for x in rows}
    assert kinds["support-chat"] == "chat" and kinds["ticket-extraction"] == "extraction"
    assert kinds["contract-summaries"] == "summarization"
    assert {x["mode"] for x in rows if x["workload"] == "ticket-extraction"} == {"batch"}
    assert {"regulated", "internal"} <= {x["sensitivity"] for x in rows}
    bands = {x["context_band"] for x in rows if x["workload"] == "contract-summaries"}
    assert bands & {"32K-128K", ">128K"}


def test_bursty_and_steady_generated_workloads_are_told_apart(cli, analyzed):
    r = cli("sql", "select workload, sum(requests) as requests, max(burst_index) as burst_index from v_segments "
            "where sensitivity = 'internal' and context_band = '<=8K' group by workload", "--db", analyzed,
            "--format", "json")
    by = {x["workload"]: x for x in json.loads(r.stdout)}
    # consumer-chat has minute-scale bursts; support-chat is Poisson with a daily rhythm
    assert by["consumer-chat"]["burst_index"] > 3
    assert 0.5 < by["support-chat"]["burst_index"] < 1.5
