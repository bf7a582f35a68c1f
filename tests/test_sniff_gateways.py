"""Detection by content: every fixture of the gateway/trace formats is claimed by its own format only.

Covers this part's formats (litellm, bedrock, openrouter, mooncake) against their own fixtures and the
generic ones; the billing adapters test theirs the same way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.ingest import inspect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINE = ("litellm", "bedrock", "openrouter", "mooncake")
# a Mooncake-shaped JSONL is a Mooncake trace whatever folder it sits in
EXPECTED_ELSEWHERE = {"generic/relative_ms.jsonl": "mooncake"}


def _fixtures() -> list[Path]:
    out = []
    for folder in (*MINE, "generic"):
        out += sorted(p for p in (FIXTURES / folder).iterdir() if p.is_file() and p.name != "README.md")
    return out


def claims(path: Path) -> list[str]:
    import importlib

    try:
        file = inspect(path)
    except InputError:
        return ["<unreadable>"]
    return [name for name in MINE
            if importlib.import_module(f"planner.ingest.{name}").sniff(file.path, file.head, file.container)]


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_claimed_by_its_own_format_only(path):
    rel = f"{path.parent.name}/{path.name}"
    got = claims(path)
    if got == ["<unreadable>"]:
        assert "truncated" in path.name or "garbage" in path.name
        return
    if path.parent.name in MINE:
        assert got == [path.parent.name], rel
    else:
        want = EXPECTED_ELSEWHERE.get(rel)
        assert got == ([want] if want else []), rel


@pytest.mark.parametrize("path", [p for p in _fixtures() if p.parent.name in MINE], ids=lambda p: p.name)
def test_detection_ignores_the_file_name(path, tmp_path):
    renamed = tmp_path / ("export" + ("".join(path.suffixes[-1:]) if path.suffix in (".gz", ".zst") else ".dat"))
    shutil.copyfile(path, renamed)
    got = claims(renamed)
    if got != ["<unreadable>"]:
        assert got == [path.parent.name]


def test_nothing_matches_lists_the_formats_tried(cli, db_path):
    r = cli("ingest", FIXTURES / "generic" / "overlap_a.csv", "--db", db_path)
    assert r.exit_code == 2
    line = next(x for x in r.stderr.splitlines() if "format not recognised" in x)
    for name in MINE:
        assert name in line


def test_a_mixed_folder_loads_each_file_with_its_own_adapter(cli, db_path, tmp_path):
    folder = tmp_path / "exports"
    (folder / "gw").mkdir(parents=True)
    for src, dest in [("litellm/spend_logs.csv", "gw/a.csv"), ("bedrock/invocations.jsonl.gz", "b.jsonl.gz"),
                      ("openrouter/generations.jsonl", "gw/c.jsonl"), ("mooncake/trace.jsonl", "d.jsonl")]:
        shutil.copyfile(FIXTURES / src, folder / dest)
    r = cli("ingest", folder, "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    import json

    got = {Path(f["path"]).name: (f["format"], f["rows_loaded"]) for f in json.loads(r.stdout)["files"]}
    assert got == {"a.csv": ("litellm", 5), "b.jsonl.gz": ("bedrock", 7), "c.jsonl": ("openrouter", 4),
                   "d.jsonl": ("mooncake", 7)}
