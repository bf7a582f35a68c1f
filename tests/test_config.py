"""planner.toml validation: unknown keys name the nearest valid key; every default has unit and source."""

from __future__ import annotations

import pytest

from planner.config import default_assumptions, load_config
from planner.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "planner.toml"
    p.write_text(text)
    return p


def test_defaults_have_units_and_sources():
    for key, a in default_assumptions().items():
        assert a.unit and a.source, key


def test_unknown_top_level_key_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"ingst: unknown key \(did you mean ingest"):
        load_config(write(tmp_path, "[ingst]\nmin_ts = '2016-01-01'\n"))


def test_unknown_nested_key_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"ingest.min_tss: unknown key \(did you mean ingest.min_ts\?\)"):
        load_config(write(tmp_path, "[ingest]\nmin_tss = '2016-01-01'\n"))


def test_structured_section_unknown_key(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.0.glb: unknown key \(did you mean glob\?\)"):
        load_config(write(tmp_path, "[[sources]]\nglb = '*.csv'\n"))


def test_wrong_type(tmp_path):
    with pytest.raises(ConfigError, match="future_tolerance_hours: expected int"):
        load_config(write(tmp_path, "[ingest]\nfuture_tolerance_hours = 'soon'\n"))


def test_invalid_toml(tmp_path):
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[ingest\n"))


def test_override_is_recorded_with_origin(tmp_path):
    cfg = load_config(write(tmp_path, "[ingest]\nfuture_tolerance_hours = 48\n"))
    a = cfg.assumptions["ingest.future_tolerance_hours"]
    assert a.value == 48 and a.origin == "config"
    assert cfg.hash != load_config(None).hash


def test_structured_sections_parse(tmp_path):
    cfg = load_config(write(tmp_path, """
[[sources]]
glob = "gateway/*.csv"
format = "generic"
map = { ts = "Start Time", input_tokens = "Prompt Tokens" }

[[workloads.rules]]
name = "support"
where = "project = 'proj_support'"
"""))
    assert cfg.sources[0].map["ts"] == "Start Time"
    assert cfg.workloads.rules[0].name == "support"
