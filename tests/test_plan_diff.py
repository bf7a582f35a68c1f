"""`planner diff`: decisions, costs, new or vanished segments, price snapshot and assumption changes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import upstream

from planner import db, plan, report
from planner.config import load_config

RUN1 = "20261101T060000Z-aaaaaa"
RUN2 = "20261102T060000Z-bbbbbb"


@pytest.fixture
def two_runs(db_path):
    cfg = load_config(None)
    con = db.connect(db_path)
    upstream.start_analyze(con, cfg, RUN1, snapshot="2026-10-14")
    upstream.add_segment(con, RUN1, "seg_a", workload="tickets", current="20000")
    upstream.add_segment(con, RUN1, "seg_b", workload="summaries", kind="summarization", current="15000")
    upstream.add_segment(con, RUN1, "seg_gone", workload="old", current="900", decision="stay", chosen="api_current")
    upstream.plan_and_finish(con, cfg, RUN1)
    cfg2 = cfg.with_assumptions({"plan.wave_interval_months": 3}, "config")
    upstream.start_analyze(con, cfg2, RUN2, snapshot="2026-11-01")
    upstream.add_segment(con, RUN2, "seg_a", workload="tickets", current="20000", decision="stay",
                         chosen="api_current", reasons=["volume fell"])
    upstream.add_segment(con, RUN2, "seg_b", workload="summaries", kind="summarization", current="18000")
    upstream.add_segment(con, RUN2, "seg_new", workload="new", current="12000")
    upstream.plan_and_finish(con, cfg2, RUN2)
    yield con
    con.close()


def test_diff_lists_every_kind_of_change(two_runs):
    d = plan.diff(two_runs, RUN1, RUN2)
    assert d["run_id"] == RUN1
    assert d["decisions"] == [{"segment_id": "seg_a", "workload": "tickets", "from": "migrate", "to": "stay"}]
    assert [s["segment_id"] for s in d["new_segments"]] == ["seg_new"]
    assert [s["segment_id"] for s in d["vanished_segments"]] == ["seg_gone"]
    costs = {c["segment_id"]: c for c in d["costs"]}
    assert costs["seg_b"]["from_cost_usd"] == Decimal("15000") and costs["seg_b"]["to_cost_usd"] == Decimal("18000")
    assert d["price_snapshot"]["changed"]
    assert str(d["price_snapshot"]["from"]) == "2026-10-14" and str(d["price_snapshot"]["to"]) == "2026-11-01"
    assert [a["key"] for a in d["assumptions"]] == ["plan.wave_interval_months"]
    figures = {h["figure"] for h in d["headline"]}
    assert {"monthly_savings_usd", "current_monthly_cost_usd"} <= figures


def test_small_cost_changes_are_not_listed(two_runs):
    d = plan.diff(two_runs, RUN1, RUN2, min_cost_change=Decimal("100000"))
    assert d["costs"] == []
    assert d["decisions"]  # decisions are always listed


def test_identical_runs_have_an_empty_diff(db_path):
    cfg = load_config(None)
    con = db.connect(db_path)
    for run in (RUN1, RUN2):
        upstream.start_analyze(con, cfg, run)
        upstream.add_segment(con, run, "seg_a", workload="tickets", current="20000")
        upstream.plan_and_finish(con, cfg, run)
    d = plan.diff(con, RUN1, RUN2)
    con.close()
    assert not (d["headline"] or d["decisions"] or d["new_segments"] or d["vanished_segments"] or d["costs"]
                or d["assumptions"] or d["price_snapshot"]["changed"])
    assert "no change" in report.render_diff_text(report.diff_json(d), RUN2)


def test_cli_diff_defaults_to_the_two_latest_runs(two_runs, db_path, cli):
    two_runs.close()
    r = cli("diff", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith(f"changes from run {RUN1} to run {RUN2}:")
    assert "decision seg_a (tickets): migrate -> stay" in r.stdout
    assert "price snapshot: 2026-10-14 -> 2026-11-01" in r.stdout
    j = cli("diff", "--db", db_path, "--json", "--from", RUN1, "--to", RUN2)
    data = json.loads(j.stdout)
    assert data["costs"][0]["from_cost_usd"] == "15000"
    first = cli("diff", "--db", db_path, "--to", RUN1)
    assert first.exit_code == 2 and "first plan" in first.stderr


def test_failed_runs_are_neither_reported_nor_compared_with(two_runs):
    from planner.runs import finish_run

    finish_run(two_runs, RUN2, 70, "boom")
    assert plan.resolve_run(two_runs, None) == RUN1
    assert plan.previous_run(two_runs, "20261103T000000Z-cccccc") == RUN1
    assert two_runs.execute("select distinct run_id from v_plan").fetchall() == [(RUN1,)]


def test_plan_json_text_is_the_plan(two_runs):
    text = report.plan_json_text(two_runs, RUN2)
    assert json.loads(text)["run_id"] == RUN2


def test_plan_json_carries_the_diff(two_runs):
    p = report.build_plan(two_runs, RUN2)
    assert p["diff"]["decisions"][0]["to"] == "stay"
    assert report.build_plan(two_runs, RUN1)["diff"] is None
