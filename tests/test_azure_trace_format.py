"""A new user's path on the Azure LLM inference trace 2023 format (CRLF, 7 fractional digits, no zone),
with fixtures we wrote in that format: every row lands, totals match the file, an empty cell stays
NULL, fractions are truncated to microseconds, a steady and a bursty workload are told apart, and
a long-context request gets its own context band."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from planner import db

FILES = {"conv": "azure_conv_2023.csv", "code": "azure_code_2023.csv"}


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def per_minute_vmr(stamps: list[str]) -> float:
    """Variance/mean of per-minute arrivals over the span (first to last minute, idle minutes included)."""
    minutes = Counter(s[:16] for s in stamps)
    first, last = min(minutes), max(minutes)
    span = int(last[14:16]) - int(first[14:16]) + 1  # the fixtures stay inside one hour
    counts = [minutes.get(f"{first[:14]}{m:02d}", 0) for m in range(int(first[14:16]), int(first[14:16]) + span)]
    mean = sum(counts) / span
    return (sum(c * c for c in counts) / span - mean * mean) / mean


@pytest.fixture
def loaded(cli, fixtures: Path, tmp_path: Path) -> Path:
    for workload, name in FILES.items():
        r = cli("ingest", fixtures / "generic" / name, "--format", "generic", "--json",
                "--map", "ts=TIMESTAMP", "--map", "input_tokens=ContextTokens", "--map", "output_tokens=GeneratedTokens",
                "--set", "provider=azure", "--set", "model=gpt-4", "--set", f"workload={workload}")
        assert r.exit_code == 0, r.stderr
    return tmp_path / "planner.duckdb"


def test_every_row_lands_totals_match_unknown_stays_null(loaded: Path, fixtures: Path):
    con = db.connect(loaded)
    try:
        for workload, name in FILES.items():
            rows = rows_of(fixtures / "generic" / name)
            n, inp, out, null_out = con.execute(
                "select count(*), sum(input_tokens), sum(output_tokens), count(*) filter (where output_tokens is null) "
                "from usage where workload = ?", [workload]).fetchone()
            assert n == len(rows)
            assert inp == sum(int(r["ContextTokens"]) for r in rows)
            assert out == sum(int(r["GeneratedTokens"]) for r in rows if r["GeneratedTokens"])
            assert null_out == sum(1 for r in rows if not r["GeneratedTokens"])
        # 7 fractional digits: truncated to the microsecond (…46.6805909 -> …46.680590), never rounded up
        first = con.execute("select strftime(min(ts), '%Y-%m-%d %H:%M:%S.%f') from usage where workload = 'conv'").fetchone()[0]
        assert first == "2023-11-16 18:45:05.680590"
        stamps = {r[0] for r in con.execute("select strftime(ts, '%Y-%m-%d %H:%M:%S.%f') from usage").fetchall()}
        expected = {r["TIMESTAMP"][:-1] for name in FILES.values() for r in rows_of(fixtures / "generic" / name)}
        assert stamps == expected
    finally:
        con.close()


def test_steady_and_bursty_told_apart_long_context_isolated(cli, loaded: Path, fixtures: Path):
    r = cli("analyze", "--quiet")
    assert r.exit_code in (0, 1), r.stderr  # 1: warnings (no sensitivity class, no kind)
    con = db.connect(loaded)
    try:
        segs = {
            (w, band): (requests, burst, vmr)
            for w, band, requests, burst, vmr in con.execute(
                "select workload, context_band, requests, burst_index, variance_to_mean from v_segments").fetchall()
        }
    finally:
        con.close()
    conv = rows_of(fixtures / "generic" / FILES["conv"])
    code = [row for row in rows_of(fixtures / "generic" / FILES["code"]) if int(row["ContextTokens"]) <= 8192]
    # the trace starts at :45 and stops at :54: its hour counts those 10 minutes, not 60 (3 a minute is no burst)
    assert segs[("conv", "<=8K")][1] == pytest.approx(0.0, abs=1e-9)
    assert segs[("conv", "<=8K")][1] == pytest.approx(per_minute_vmr([r["TIMESTAMP"] for r in conv]), abs=1e-9)
    assert segs[("code", "<=8K")][1] == pytest.approx(per_minute_vmr([r["TIMESTAMP"] for r in code]))
    assert segs[("code", "<=8K")][1] == pytest.approx(segs[("code", "<=8K")][2])  # one hour: the two agree
    assert segs[("code", "<=8K")][1] > 10 * max(segs[("conv", "<=8K")][1], 1.0)
    # the one request above 8,192 input tokens is its own segment
    assert segs[("code", "8K-32K")][0] == 1
    assert segs[("code", "<=8K")][0] == len(code)
