"""The same synthetic traffic, written in every request-grain format, ingests to the same per-day totals.

`planner.generate` writes one traffic model in each format; each file is loaded with its own adapter
(auto-detected, except the generic CSV which needs its mapping) into its own database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import db, generate, ingest
from planner.config import load_config

DAILY = """
select cast(ts as date) as day, count(*) as requests, sum(input_tokens) as input_tokens,
       sum(output_tokens) as output_tokens, sum(cached_input_tokens) as cached_input_tokens
from usage group by all order by day
"""
EXTRA = """
select cast(ts as date) as day, count(*) filter (where status = 'error') as errors,
       count(prompt_sha256) as prompts, count(*) filter (where len(pii_types) > 0) as with_pii
from usage group by all order by day
"""


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("exports")
    table = generate.traffic(days=3, seed=11, scale=0.12)
    generate.write_formats(table, out, generate.REQUEST_FORMATS, origin=generate.DEFAULT_START)
    return out, table


def _load(tmp: Path, file: Path, fmt: str) -> tuple[list[tuple], list[tuple], object]:
    cfg = load_config(None)
    options = ingest.IngestOptions.from_config(cfg, format="auto")
    if fmt == "generic":
        options = ingest.IngestOptions.from_config(cfg, format="generic", mapping=generate.GENERIC_MAPPING)
    if fmt == "mooncake":
        options.ts_origin = generate.DEFAULT_START.isoformat()
    con = db.connect(tmp / f"{fmt}.duckdb")
    try:
        results, _ = ingest.ingest_paths(con, [file], options)
        return con.execute(DAILY).fetchall(), con.execute(EXTRA).fetchall(), results[0]
    finally:
        con.close()


def test_every_request_format_gives_identical_daily_totals(exports, tmp_path):
    out, table = exports
    got = {}
    for fmt in generate.REQUEST_FORMATS:
        daily, extra, result = _load(tmp_path, out / generate.FILE_NAMES[fmt], fmt)
        assert result.status == "loaded" and result.rows_rejected == 0, (fmt, result)
        assert result.format == generate.INGEST_FORMATS[fmt], fmt
        assert result.rows_loaded == table.num_rows, fmt
        got[fmt] = (daily, extra)
    reference = got["generic"][0]
    assert len(reference) == 3 and sum(r[1] for r in reference) == table.num_rows
    for fmt, (daily, _) in got.items():
        assert daily == reference, fmt
    # status and prompt scanning agree wherever the format carries them
    for fmt in ("litellm-csv", "litellm-json", "bedrock", "openrouter"):
        assert [r[:2] for r in got[fmt][1]] == [r[:2] for r in got["generic"][1]], fmt
    for fmt in ("litellm-csv", "litellm-json", "bedrock"):
        assert got[fmt][1] == got["generic"][1], fmt
    assert sum(r[3] for r in got["generic"][1]) > 0  # some prompts carry PII


def test_generator_totals_match_the_model(exports, tmp_path):
    import pyarrow.compute as pc

    out, table = exports
    daily, _, _ = _load(tmp_path, out / generate.FILE_NAMES["litellm-csv"], "litellm-csv")
    assert sum(r[2] for r in daily) == pc.sum(table.column("input_tokens")).as_py()
    assert sum(r[4] for r in daily) == pc.sum(table.column("cached_input_tokens")).as_py()


def test_traffic_is_deterministic_and_time_ordered():
    a = generate.traffic(days=2, seed=3, scale=0.05)
    b = generate.traffic(days=2, seed=3, scale=0.05)
    assert a.equals(b)
    ts = a.column("ts").to_pylist()
    assert ts == sorted(ts)
    import pyarrow.compute as pc

    # subsets hold: cached + writes never exceed the input
    over = pc.greater(pc.add(a.column("cached_input_tokens"), a.column("cache_write_tokens")), a.column("input_tokens"))
    assert not pc.any(over).as_py()
    # one cache write per workload with a cached prefix
    writes = a.filter(pc.greater(a.column("cache_write_tokens"), 0))
    assert sorted(writes.column("workload").to_pylist()) == ["contract-summaries", "support-chat"]
