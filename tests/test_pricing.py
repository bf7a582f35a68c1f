"""Pricing: every request's cost equals genai-prices' calc_price called independently, per request."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from genai_prices import Usage, calc_price

from planner import db, pricing
from planner.config import load_config

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures" / "pricing"
FIELDS = ["request_id", "ts", "provider", "model", "input_tokens", "cached_input_tokens", "cache_write_tokens",
          "output_tokens", "batch", "service_tier", "status"]
MAPS = [a for f in FIELDS for a in ("--map", f"{f}={f}")]
TOML = """
[pricing]
azure_deployments = { "prod-gpt4o" = "gpt-4o" }
"""
TOL = Decimal("0.000000001")

BATCH = {"processing": "batch"}
# request_id -> (genai-prices provider id, model ref, price_context, multiplier); None = unpriced; "zero" = $0
EXPECTED: dict[str, Any] = {
    "r01": ("openai", "gpt-4o", None, 1),
    "r02": ("openai", "gpt-5", BATCH, 1),
    "r03": ("openai", "gpt-5", {"service_tier": "flex"}, 1),
    "r04": ("openai", "gpt-5", {"service_tier": "priority"}, 1),
    "r05": ("anthropic", "claude-sonnet-4-5", None, 1),
    "r06": ("anthropic", "claude-sonnet-4-5", None, 1),
    "r07": ("anthropic", "claude-sonnet-4-5", None, 1),
    "r08": ("anthropic", "claude-sonnet-4-5", None, 1),
    "r09": ("anthropic", "claude-haiku-4-5", BATCH, 1),
    "r10": ("openai", "gpt-5.6-terra", None, 1),
    "r11": ("google", "gemini-2.5-pro", None, 1),
    "r12": ("aws", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", None, 1),
    "r13": ("aws", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", None, 1),
    "r14": ("openrouter", "meta-llama/llama-3.3-70b-instruct", None, 1),
    "r15": ("groq", "openai/gpt-oss-120b", None, 1),
    "r16": ("deepseek", "deepseek-chat", None, 1),
    "r17": ("deepseek", "deepseek-chat", None, 1),
    "r18": ("anthropic", "claude-sonnet-4-5", None, 1),
    "r19": ("openai", "gpt-5.6-terra", None, 1),
    "r20": None,
    "r21": "zero",
    # genai-prices has no OpenAI batch variant before 2026-10-14: planner applies pricing.batch_multiplier.openai
    "r22": ("openai", "gpt-4o", None, Decimal("0.5")),
    "r23": ("azure", "gpt-4o", None, 1),
    "r24": ("fireworks", "accounts/fireworks/models/gpt-oss-120b", None, 1),
    "r25": ("anthropic", "claude-3-5-haiku-20241022", None, 1),
    "r26": ("openai", "text-embedding-3-small", None, 1),
    "r27": None,
}


def _int(v: str | None) -> int | None:
    return None if v in (None, "") else int(v)


def fixture_rows() -> list[dict[str, str]]:
    import csv

    with (FIX / "requests.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def priced_db(cli, tmp_path: Path) -> tuple[Path, Any]:
    cfg_path = tmp_path / "planner.toml"
    cfg_path.write_text(TOML)
    db_path = tmp_path / "p.duckdb"
    r = cli("ingest", FIX / "requests.csv", *MAPS, "--db", db_path)
    assert r.exit_code == 0, r.stderr
    config = load_config(cfg_path)
    con = db.connect(db_path)
    with db.transaction(con):
        result = pricing.run(con, config, "run-test")
    con.close()
    return db_path, result


def costs(db_path: Path) -> dict[str, Any]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "select request_id, cost_usd, priced, price_key, model_ref from usage_enriched").fetchall()}
    finally:
        con.close()


def independent_price(row: dict[str, str], spec: tuple[str, str, Any, Any]) -> Decimal:
    provider_id, model_ref, ctx, factor = spec
    usage = Usage(input_tokens=_int(row["input_tokens"]), cache_read_tokens=_int(row["cached_input_tokens"]),
                  cache_write_tokens=_int(row["cache_write_tokens"]), output_tokens=_int(row["output_tokens"]))
    ts = datetime.fromisoformat(row["ts"].replace("Z", "+00:00")).astimezone(UTC)
    calc = calc_price(usage, model_ref, provider_id=provider_id, genai_request_timestamp=ts, price_context=ctx)
    return calc.total_price * Decimal(factor)


def test_every_request_matches_calc_price(priced_db):
    db_path, _ = priced_db
    got = costs(db_path)
    rows = {r["request_id"]: r for r in fixture_rows()}
    assert set(got) == set(EXPECTED) == set(rows)
    for rid, spec in EXPECTED.items():
        cost, priced, key, _ = got[rid]
        if spec is None:
            assert cost is None and priced is False, rid
        elif spec == "zero":
            assert cost == 0 and priced is True, rid
        else:
            want = independent_price(rows[rid], spec)
            assert cost is not None, (rid, key)
            assert abs(cost - want) <= TOL, (rid, key, cost, want)


def test_the_cases_are_not_trivial(priced_db):
    """Guard the fixture: the variants and tiers it exercises really change the price."""
    db_path, _ = priced_db
    got = {k: v[0] for k, v in costs(db_path).items()}
    assert got["r02"] < got["r04"] and got["r03"] < got["r04"]          # batch, flex < priority
    assert "ctx1" in costs(db_path)["r06"][2] and "ctx0" in costs(db_path)["r05"][2]
    assert "ctx0" in costs(db_path)["r07"][2] and "ctx1" in costs(db_path)["r08"][2]   # 'input > 200000'
    assert got["r16"] < got["r17"]                                         # DeepSeek off-peak
    terra_now = independent_price(fixture_rows()[18], EXPECTED["r19"])
    assert terra_now > 0


def test_unpriced_listed_with_reason_and_findings(priced_db):
    db_path, result = priced_db
    assert result.findings is True
    assert any("acme/mystery-model-1" in w and "v_unpriced" in w for w in result.warnings)
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("select provider, model, requests, input_tokens, output_tokens, reason from v_unpriced "
                       "order by model").fetchall()
    con.close()
    assert ("acme", "mystery-model-1", 1, 1000, 100) == rows[1][:5] or ("acme", "mystery-model-1", 1, 1000, 100) == rows[0][:5]
    reasons = {r[1]: r[5] for r in rows}
    assert "not in the price snapshot" in reasons["mystery-model-1"]
    assert reasons["gpt-4o"] == "input or output token count missing"      # r27: output unknown


def test_model_ref_filled_raw_model_kept(priced_db):
    db_path, _ = priced_db
    con = duckdb.connect(str(db_path), read_only=True)
    rows = dict(con.execute("select request_id, model || ' -> ' || coalesce(model_ref, 'NULL') from usage").fetchall())
    con.close()
    assert rows["r01"] == "gpt-4o-2024-08-06 -> gpt-4o"
    assert rows["r13"].endswith("-> regional.anthropic.claude-3-5-sonnet-20241022-v2:0")
    assert rows["r18"] == "anthropic/claude-sonnet-4-5 -> claude-sonnet-4-5"
    assert rows["r23"] == "prod-gpt4o -> gpt-4o"
    assert rows["r24"] == "gpt-oss-120b -> gpt-oss-120b"
    assert rows["r20"] == "mystery-model-1 -> NULL"


def test_second_run_rewrites_nothing(priced_db):
    db_path, _ = priced_db
    con = db.connect(db_path)
    with db.transaction(con):
        out = pricing.price_usage(con, load_config(db_path.parent / "planner.toml"), "run-2")
    assert out.updated_pairs == 0
    con.close()


def test_config_change_updates_model_ref(priced_db, tmp_path):
    db_path, _ = priced_db
    cfg = tmp_path / "other.toml"
    cfg.write_text('[pricing]\nazure_deployments = { "prod-gpt4o" = "gpt-4o-mini" }\n')
    con = db.connect(db_path)
    with db.transaction(con):
        out = pricing.price_usage(con, load_config(cfg), "run-3")
    assert out.updated_pairs == 1
    assert con.execute("select model_ref from usage where request_id = 'r23'").fetchone()[0] == "gpt-4o-mini"
    con.close()


def test_batch_rule_recorded_as_basis(priced_db):
    db_path, _ = priced_db
    con = duckdb.connect(str(db_path), read_only=True)
    basis = con.execute("select p.basis from usage_enriched u join prices p using (price_key) "
                        "where request_id = 'r22'").fetchone()[0]
    con.close()
    assert basis == "rule pricing.batch_multiplier.openai = 0.5"


def test_snapshot_date_on_run_and_prices(cli, tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    from planner.runs import start_run

    cfg = load_config()
    run_id = start_run(con, "analyze", cfg)
    with db.transaction(con):
        pricing.run(con, cfg, run_id)
    assert str(con.execute("select price_snapshot_date from runs where run_id = ?", [run_id]).fetchone()[0]) \
        == "2026-11-04"
    con.close()


def test_price_keys_query_is_one_group_by():
    # the stage reads the key ledger kept at ingest, never the usage rows; its check of the ledger
    # against usage is one pass without a GROUP BY
    text = db.load_sql("stages/price_keys").lower()
    assert re.search(r"group by", text) and "from usage_keys" in text and "from usage\n" not in text
    check = "\n".join(line for line in db.load_sql("stages/usage_keys_signature").lower().splitlines()
                      if not line.startswith("--")) + "\n"
    assert check.count("from usage\n") == 1 and "group by" not in check
