"""Every SQL recipe in docs/reports.md re-derives the plan.json figure it names, through `planner sql`'s
read-only path."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import upstream

from planner import db, query, report
from planner.config import load_config

DOC = Path(__file__).resolve().parent.parent / "docs" / "reports.md"


def recipes() -> list[tuple[str, str]]:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    out = []
    for block in blocks:
        m = re.match(r"-- figure: (\S+)\n", block)
        if m:
            out.append((m.group(1), block))
    return out


def lookup(obj, path: str):
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        obj = obj[int(part[1:-1])] if part.startswith("[") else obj[part]
    return obj


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recipes")
    cfg = load_config(None)
    con = db.connect(folder / "planner.duckdb")
    upstream.load_demo(con, folder / "exports", days=2, scale=0.05, config=cfg)
    upstream.standin_analyze(con, cfg, "20261101T060000Z-aaaaaa", volume=3000)
    upstream.standin_analyze(con, cfg, "20261102T060000Z-bbbbbb", volume=10000)
    # a model no price covers: its requests count as unpriced, never as $0
    con.execute("insert into usage (event_id, source_id, grain, ts, provider, model, requests, input_tokens, "
                "output_tokens, status) values (md5('u1')::uuid, 'x', 'request', timestamp '2026-10-01 12:00:00', 'acme', "
                "'mystery-1', 1, 100, 10, 'ok')")
    con.close()
    ro = db.connect(folder / "planner.duckdb", read_only=True)
    yield ro, report.build_plan(ro)
    ro.close()


def test_every_headline_has_a_recipe():
    figures = {f for f, _ in recipes()}
    assert {"portfolio.monthly_savings_usd", "portfolio.one_time_cost_usd", "portfolio.breakeven_month",
            "portfolio.gpus", "portfolio.savings_at_volume[1].savings_usd", "totals.api_cost_usd",
            "portfolio.current_monthly_cost_usd", "portfolio.moved_api_cost_usd"} <= figures


def assert_recipe(con, plan_obj, figure: str, sql: str):
    """Run the recipe read-only; its one value must be the plan.json figure. Returns the figure."""
    headers, rows = query.run_readonly(con, sql.strip())
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    got, want = rows[0][0], lookup(plan_obj, figure)
    if want is None:
        assert got is None, (figure, got)
    elif isinstance(want, str):
        assert Decimal(str(got)) == Decimal(want), (figure, got, want)
    elif isinstance(want, float):
        assert float(got) == pytest.approx(want, abs=1e-4), (figure, got, want)
    else:
        assert got == want, (figure, got, want)
    return want


@pytest.mark.parametrize(("figure", "sql"), recipes(), ids=[f for f, _ in recipes()])
def test_recipe_matches_plan_json(demo, figure, sql):
    want = assert_recipe(*demo, figure, sql)
    assert want not in (None, "0", 0), f"{figure}: the fixture should make this figure non-trivial"


@pytest.fixture(scope="module")
def real_demo(tmp_path_factory):
    """The real pipeline (no stand-ins): the demo company through `planner demo`."""
    from planner import nightly

    folder = tmp_path_factory.mktemp("recipes-real")
    nightly.demo(out=folder, days=30, seed=7, db_path=None, config=load_config(None))
    ro = db.connect(folder / "planner.duckdb", read_only=True)
    yield ro, report.build_plan(ro)
    ro.close()


@pytest.mark.slow
@pytest.mark.parametrize(("figure", "sql"), recipes(), ids=[f for f, _ in recipes()])
def test_recipe_matches_plan_json_on_the_real_demo(real_demo, figure, sql):
    assert_recipe(*real_demo, figure, sql)
