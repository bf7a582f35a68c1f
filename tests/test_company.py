"""The demo company (planner/company.py): deterministic exports, and bills that reconcile with planner's prices."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from planner import company, db, nightly
from planner.config import load_config


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_traffic(tmp_path):
    a = company.generate_company(tmp_path / "a", days=2, seed=5, scale=0.05)
    company.generate_company(tmp_path / "b", days=2, seed=5, scale=0.05)
    company.generate_company(tmp_path / "c", days=2, seed=6, scale=0.05)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")
    formats = {w.format for w in a}
    assert formats == {"litellm-csv", "openai-usage", "openai-costs", "anthropic-usage", "anthropic-cost",
                       "bedrock", "focus"}
    assert (tmp_path / "a" / "planner.toml").read_text(encoding="utf-8") == company.CONFIG
    load_config(tmp_path / "a" / "planner.toml")  # the company's own config is valid


def test_month_has_overlapping_pulls_and_a_gap():
    pulls = company.Pulls.for_days(30)
    (a0, a1), (b0, b1), (c0, _c1) = pulls.openai
    assert b0 < a1 and c0 > b1  # the second pull overlaps the first; the third starts after a gap
    assert pulls.litellm[1][0] < pulls.litellm[0][1] and pulls.anthropic[1][0] < pulls.anthropic[0][1]


@pytest.mark.slow
def test_short_demo_reconciles_and_lists_the_unknown_model(tmp_path):
    """Bills are computed at `company.LIST_PRICES`: every provider reconciles with planner's own prices
    (a short demo has one pull per source, so no gap), and the fine-tuned model is unpriced, not $0."""
    out = tmp_path / "demo"
    result = nightly.demo(out=out, days=3, seed=7, db_path=None, config=load_config(None))
    assert result.exit_code in (0, 1)
    assert (out / "reports" / "latest" / "plan.html").is_file()
    con = db.connect(out / "planner.duckdb", read_only=True)
    try:
        worst = con.execute("select max(abs(variance_ratio)) from v_reconciliation where grain = 'month'").fetchone()[0]
        unpriced = [r[0] for r in con.execute("select distinct model from v_unpriced").fetchall()]
    finally:
        con.close()
    assert worst is not None and worst < 0.05
    assert company.FT_MODEL in unpriced
    plan = json.loads((out / "reports" / "latest" / "plan.json").read_text(encoding="utf-8"))
    assert Decimal(plan["portfolio"]["current_monthly_cost_usd"]) > 0
