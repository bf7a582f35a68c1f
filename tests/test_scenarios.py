"""Scenarios: `planner analyze --scenario NAME`, `--set-assumption`, `--volume`, `--price-change`, each stored
as its own run; `planner diff --from --to` between them; a scenario re-run from its stored assumptions alone."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from planner import analyze as an
from planner import db as dbmod
from planner import plan as planmod
from planner import scenarios as scn
from planner.config import load_config
from planner.errors import UsageError

TOML = """
[scenarios.cheap_gpus]
description = "GPU rent falls"
assumptions = { "gpus.h100.price_per_hour" = 1.2 }

[scenarios.growth]
volume = 3
price_change = { anthropic = "-20%" }
"""


@pytest.fixture
def built(cli, tmp_path):
    (tmp_path / "planner.toml").write_text(TOML)
    r = cli("generate", "--out", tmp_path / "ex", "--days", "2", "--rows-per-day", "400", "--formats",
            "litellm-csv,openrouter", "-q")
    assert r.exit_code == 0, r.stderr
    r = cli("ingest", tmp_path / "ex", "-q")
    assert r.exit_code in (0, 1), r.stderr
    r = cli("analyze", "-q")
    assert r.exit_code in (0, 1), r.stderr
    return tmp_path


def _runs(path):
    con = dbmod.connect(path / "planner.duckdb", read_only=True)
    try:
        return con.execute("select run_id, scenario from runs where command = 'analyze' order by run_id").fetchall()
    finally:
        con.close()


def _costs(con, run_id):
    return {(s, o): c for s, o, c in con.execute(
        "select segment_id, option, monthly_cost_usd from segment_options where run_id = ?", [run_id]).fetchall()}


@pytest.mark.slow
def test_scenario_runs_are_their_own_runs_and_diffable(cli, built):
    base = _runs(built)[-1][0]
    r = cli("analyze", "--scenario", "growth", "-q")
    assert r.exit_code in (0, 1), r.stderr
    r = cli("analyze", "--volume", "3", "--price-change", "anthropic:-20%", "--set-assumption",
            "gpus.h100.price_per_hour=1.9", "-q")
    assert r.exit_code in (0, 1), r.stderr
    runs = _runs(built)
    assert [s for _, s in runs] == [None, "growth", "adhoc"]
    growth, adhoc = runs[1][0], runs[2][0]
    con = dbmod.connect(built / "planner.duckdb", read_only=True)
    try:
        assumed = dict(con.execute("select key, value from assumptions where run_id = ?", [growth]).fetchall())
        origins = dict(con.execute("select key, origin from assumptions where run_id = ?", [adhoc]).fetchall())
        assert float(assumed["scoring.volume_multiplier"]) == 3.0
        assert json.loads(assumed["scoring.provider_price_multipliers"]) == {"anthropic": 0.8}
        assert origins["gpus.h100.price_per_hour"] == "flag" and origins["scoring.volume_multiplier"] == "flag"
        # the base run's rows are untouched, and the latest plan is still the base one
        assert _costs(con, base) and planmod.resolve_run(con, None) == base
        assert planmod.previous_run(con, growth) == base
        cur_base = con.execute("select sum(monthly_cost_usd) from segment_options where run_id = ? and "
                               "option = 'api_current'", [base]).fetchone()[0]
        cur_growth = con.execute("select sum(monthly_cost_usd) from segment_options where run_id = ? and "
                                 "option = 'api_current'", [growth]).fetchone()[0]
        assert cur_growth > 2 * cur_base          # 3x volume, a fifth off one provider's prices
    finally:
        con.close()
    r = cli("diff", "--from", base, "--to", growth, "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    keys = {a["key"] for a in d["assumptions"]}
    assert {"scoring.volume_multiplier", "scoring.provider_price_multipliers"} <= keys


@pytest.mark.slow
def test_a_scenario_run_is_reproducible_from_its_assumptions_alone(cli, built):
    r = cli("analyze", "--scenario", "cheap_gpus", "--volume", "2", "-q")
    assert r.exit_code in (0, 1), r.stderr
    run = _runs(built)[-1][0]
    con = dbmod.connect(built / "planner.duckdb")
    try:
        cfg = scn.config_from_run(con, run, load_config(None))      # the defaults plus the table: nothing else
        again = an.analyze(con, cfg, scenario="rerun")
        assert _costs(con, again.run_id) == _costs(con, run)
        a1 = con.execute("select key, value from assumptions where run_id = ? order by key", [run]).fetchall()
        a2 = con.execute("select key, value from assumptions where run_id = ? order by key", [again.run_id]).fetchall()
        assert a1 == a2
    finally:
        con.close()


def test_apply_validates_and_names():
    import tomllib

    from planner.config import Config

    cfg = load_config(None)
    cfg = Config(**{**cfg.__dict__, "scenarios": load_config(None).scenarios})
    assert scn.apply(cfg).name is None
    a = scn.apply(cfg, volume=2, price_changes=["OpenAI:-25%", "openai:+10%"])
    assert a.name == "adhoc"
    assert a.config.value("scoring.volume_multiplier") == 2.0
    assert a.config.value("scoring.provider_price_multipliers") == {"openai": pytest.approx(0.825)}
    assert a.config.assumptions["scoring.volume_multiplier"].origin == "flag"
    with pytest.raises(UsageError, match="PROVIDER"):
        scn.apply(cfg, price_changes=["openai-20%"])
    with pytest.raises(UsageError, match="no price"):
        scn.apply(cfg, price_changes=["openai:-100%"])
    with pytest.raises(UsageError, match="no \\[scenarios.nope\\]"):
        scn.apply(cfg, name="nope")
    with pytest.raises(Exception, match="unknown assumption"):
        scn.apply(cfg, set_assumptions=["gpus.h100.price_per_hr=2"])
    with pytest.raises(Exception, match="expected"):
        scn.apply(cfg, set_assumptions=["gpus.h100.price_per_hour=cheap"])
    with pytest.raises(UsageError, match="KEY=VALUE"):
        scn.apply(cfg, set_assumptions=["gpus.h100.price_per_hour"])
    assert tomllib.loads(TOML)["scenarios"]["growth"]["volume"] == 3


def test_named_scenario_from_config(tmp_path):
    p = tmp_path / "planner.toml"
    p.write_text(TOML)
    cfg = load_config(p)
    a = scn.apply(cfg, name="growth")
    assert a.name == "growth" and a.config.value("scoring.volume_multiplier") == 3.0
    assert a.config.value("scoring.provider_price_multipliers") == {"anthropic": pytest.approx(0.8)}
    assert a.config.assumptions["scoring.provider_price_multipliers"].origin == "scenario"
    b = scn.apply(cfg, name="cheap_gpus", volume=2)
    assert b.name == "cheap_gpus+flags" and b.config.value("gpus.h100.price_per_hour") == 1.2
    assert Decimal(str(b.config.value("scoring.volume_multiplier"))) == 2


def test_cli_rejects_a_bad_price_change(cli, tmp_path):
    r = cli("analyze", "--price-change", "openai=20")
    assert r.exit_code == 2 and "PROVIDER:±N%" in r.stderr
