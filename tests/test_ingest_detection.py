"""Auto-detection by content: every fixture is claimed by its own format and by nothing else."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
from _billing import FIXTURES

from planner.errors import InputError
from planner.ingest import ADAPTERS, _adapter_for, detect_format, inspect


def _available() -> dict[str, object]:
    out = {}
    for name, modname in ADAPTERS.items():
        try:
            module = importlib.import_module(f"planner.ingest.{modname}")
        except ModuleNotFoundError:
            continue
        out[name] = _adapter_for(module, name)
    return out


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")


FILES = _fixture_files()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_each_fixture_is_claimed_by_its_own_format_only(path: Path):
    fmt = path.relative_to(FIXTURES).parts[0]
    adapters = _available()
    if fmt not in ADAPTERS or (fmt != "generic" and fmt not in adapters):
        pytest.skip(f"no adapter for {fmt} in this build")
    try:
        file = inspect(path)
    except InputError as exc:
        assert path.suffix in (".gz", ".zst") or "binary content" in str(exc), \
            f"{path}: only a broken archive or binary garbage may be unreadable"
        return
    claims = [name for name, impl in adapters.items() if impl.sniff(file.path, file.head, file.container)]
    if fmt == "generic":
        # generic needs a mapping: nothing claims its files on content, except the one shaped like a
        # Mooncake trace, which the mooncake adapter accepts by design
        assert claims == (["mooncake"] if path.name == "relative_ms.jsonl" else [])
    else:
        assert claims == [fmt]
        assert detect_format(file) == fmt


def test_detection_ignores_the_file_name(tmp_path):
    for src, fmt in ((FIXTURES / "anthropic-cost" / "cost_by_description_workspace.json", "anthropic-cost"),
                     (FIXTURES / "focus" / "gcp_focus_1_0.parquet", "focus"),
                     (FIXTURES / "openai-usage" / "completions_1d_ungrouped.jsonl.zst", "openai-usage")):
        renamed = tmp_path / f"export-{fmt}.txt"
        shutil.copy(src, renamed)
        assert detect_format(inspect(renamed)) == fmt


def test_unrecognised_files_list_every_format_tried(tmp_path):
    f = tmp_path / "usage.csv"
    f.write_text("when,tokens\n2025-01-01,3\n")
    with pytest.raises(InputError) as exc:
        detect_format(inspect(f))
    message = str(exc.value)
    for fmt in ("openai-usage", "openai-costs", "anthropic-usage", "anthropic-cost", "focus"):
        assert fmt in message
    assert exc.value.hint and "--format generic" in exc.value.hint


def test_cli_auto_detects_a_mixed_export_folder(cli, db_path, tmp_path):
    exports = tmp_path / "exports"
    for src in (FIXTURES / "openai-usage" / "every_kind.json", FIXTURES / "openai-costs" / "costs_eur_by_key.json",
                FIXTURES / "anthropic-usage" / "messages_1h_by_model_key.json",
                FIXTURES / "anthropic-cost" / "cost_ungrouped.jsonl", FIXTURES / "focus" / "oci_focus_1_3.csv"):
        dest = exports / src.parent.name / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
    r = cli("ingest", exports, "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    import json

    formats = {Path(f["path"]).parent.name: f["format"] for f in json.loads(r.stdout)["files"]}
    assert formats == {"anthropic-cost": "anthropic-cost", "anthropic-usage": "anthropic-usage", "focus": "focus",
                       "openai-costs": "openai-costs", "openai-usage": "openai-usage"}
    assert "planner: warning:" in r.stderr  # the unclassified Anthropic totals and the EUR costs are reported


def test_a_named_format_refuses_a_file_of_another_shape(cli, db_path):
    r = cli("ingest", FIXTURES / "focus" / "no_token_charges.csv", "--format", "openai-usage", "--db", db_path)
    assert r.exit_code == 2 and "OpenAI Usage API exports are JSON pages; this file is CSV" in r.stderr
    r = cli("ingest", FIXTURES / "generic" / "gateway.csv", "--format", "focus", "--db", db_path)
    assert r.exit_code == 2 and "not a FOCUS cost and usage file" in r.stderr


@pytest.mark.parametrize(("body", "fmt"), [
    ('{"object": "page", "data": [], "has_more": false, "next_page": null}', "openai-usage"),
    ('{"object": "page", "data": [{"object": "bucket", "start_time": 1735689600, "end_time": 1735776000, '
     '"results": []}], "has_more": false, "next_page": null}', "openai-usage"),
    ('{"data": [], "has_more": false, "next_page": null}', "anthropic-usage"),
    ('{"data": [{"starting_at": "2025-03-05T00:00:00Z", "ending_at": "2025-03-06T00:00:00Z", "results": []}], '
     '"has_more": false, "next_page": null}', "anthropic-usage"),
])
def test_a_page_with_nothing_in_it_loads_nothing_and_does_not_fail(tmp_path, body, fmt):
    from _billing import load

    f = tmp_path / "empty.json"
    f.write_text(body)
    got = load(f)
    assert (got.result.status, got.result.format, got.result.rows_read) == ("loaded", fmt, 0)
