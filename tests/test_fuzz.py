"""Fuzz: random bytes and mutated real fixtures never produce a traceback, only exit 0, 1 or 2 with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".md" and p.stat().st_size < 200_000)


def _check(cli, path: Path, db: Path, *extra: str) -> None:
    import json

    r = cli("ingest", path, "--db", db, "--json", *extra)
    assert r.exit_code in (0, 1, 2), (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    if r.exit_code == 2:
        assert "planner: error:" in r.stderr
    if r.stdout.startswith("{"):
        for f in json.loads(r.stdout)["files"]:
            # no row is lost: every record read is loaded, rejected (with its reason) or a repeat
            assert f["rows_read"] == f["rows_loaded"] + f["rows_rejected"] + f["rows_duplicate"], f


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SAMPLES)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "dup_line", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 16))]
        else:
            nl = data.find(b"\n", i)
            start = data.rfind(b"\n", 0, i) + 1
            if nl > start:
                data[nl:nl] = b"\n" + data[start:nl]
    return bytes(data)


@pytest.mark.parametrize("mapping", [(), ("--map", "ts=ts", "--map", "input_tokens=tokens")])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=512), mutated()), suffix=st.sampled_from([".csv", ".json", ".jsonl", ".gz"]))
def test_fuzzed_files_get_a_clean_answer(cli, tmp_path, data, suffix, mapping):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    _check(cli, path, tmp_path / "fuzz.duckdb", *mapping)
