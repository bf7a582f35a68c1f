"""The plan stage: shared fleets, fixed costs once, waves, break-even, volume what-ifs, crossover."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
import upstream

from planner import db, plan
from planner.config import load_config

RUN = "20261102T060000Z-aaaaaa"


@pytest.fixture
def cfg():
    return load_config(None)


def run_plan(con, cfg, run_id=RUN):
    return upstream.plan_and_finish(con, cfg, run_id)


def one(con, query, *params):
    return con.execute(query, list(params)).fetchone()


def portfolio(con, cfg):
    """Five segments: two batch extraction ones sharing an 8B fleet, an interactive chat fleet, one API
    optimisation and one that stays."""
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_a", workload="tickets", current="20000", requests=300_000)
    upstream.add_segment(con, RUN, "seg_b", workload="summaries", kind="summarization", current="15000")
    upstream.add_segment(con, RUN, "seg_c", workload="chat", kind="chat", mode="interactive", current="30000",
                         sensitivity="confidential",
                         self_host={"model": "qwen3-32b", "gpu": "h100", "replicas": 3, "load_replicas": 1.4,
                                    "spare_replicas": 1, "gpu_usd_per_hour": "2.50"})
    upstream.add_segment(con, RUN, "seg_d", workload="code", kind="code", current="5000", decision="stay",
                         chosen="api_current", reasons=["capability tier too low for code"])
    upstream.add_segment(con, RUN, "seg_e", workload="support", kind="chat", current="8000", decision="optimize_api",
                         chosen="api_optimized", optimized="6500", one_time="2000")
    return run_plan(con, cfg)


def test_segments_on_one_deployment_share_a_fleet_and_its_fixed_costs(con, cfg):
    portfolio(con, cfg)
    row = one(con, "select replicas, gpus, load_replicas, spare_replicas, gpu_cost_usd, labor_cost_usd, "
                   "observability_cost_usd, monthly_cost_usd, api_cost_replaced_usd, segment_ids "
                   "from plan_deployments where deployment_id = 'llama-3.1-8b@l40sx1'")
    # 0.5 + 0.5 load replicas fit one replica; labour and observability once, not per segment
    assert row[:4] == (1, 1, Decimal("1.000000"), 0)
    assert row[4:9] == (Decimal("730"), Decimal("5208.33"), Decimal("100"), Decimal("6038.33"), Decimal("35000"))
    assert row[9] == ["seg_a", "seg_b"]


def test_interactive_fleet_keeps_one_spare_replica(con, cfg):
    portfolio(con, cfg)
    assert one(con, "select replicas, spare_replicas, gpus from plan_deployments where deployment_id = "
                    "'qwen3-32b@h100x1'") == (3, 1, 3)


def test_headline_counts_fixed_costs_once_and_beats_standalone(con, cfg):
    result = portfolio(con, cfg)
    h = result.data["plan"]
    assert h["segments_total"] == 5 and h["segments_moving"] == 4 and h["segments_staying"] == 1
    assert h["moved_api_cost_usd"] == Decimal("73000")
    assert h["self_host_cost_usd"] == Decimal("6038.33") + Decimal("10783.33")
    assert h["other_api_cost_usd"] == Decimal("6500")
    assert h["fixed_cost_usd"] == Decimal("300")
    assert h["monthly_savings_usd"] == Decimal("73000") - Decimal("16821.66") - Decimal("6500") - Decimal("300")
    assert h["monthly_savings_usd"] > h["standalone_savings_usd"]
    assert h["one_time_cost_usd"] == Decimal("62000")
    assert (h["deployments"], h["gpus"]) == (2, 4)


def test_waves_put_the_pilot_and_api_quick_wins_first_and_high_risk_last(con, cfg):
    portfolio(con, cfg)
    waves = con.execute("select wave, name, risk, start_month, segment_ids from plan_waves order by wave").fetchall()
    assert waves == [
        (1, "Pilot and API quick wins", "low", 0, ["seg_a", "seg_e"]),
        (2, "Low-risk segments", "low", 2, ["seg_b"]),
        (3, "High-risk segments", "high", 4, ["seg_c"]),
    ]
    stay = one(con, "select action, wave, stay_reasons from plan_segments where segment_id = 'seg_d'")
    assert stay == ("stay", None, ["capability tier too low for code"])


def test_pilot_is_the_lowest_risk_highest_volume_self_hosted_segment(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_small", workload="a", requests=1_000, current="9000")
    upstream.add_segment(con, RUN, "seg_big", workload="b", requests=900_000, current="9000")
    upstream.add_segment(con, RUN, "seg_risky", workload="c", kind="code", sensitivity="regulated",
                         mode="interactive", requests=5_000_000, current="90000")
    run_plan(con, cfg)
    assert one(con, "select segment_ids from plan_waves where wave = 1")[0] == ["seg_big"]
    assert one(con, "select name from plan_waves where wave = 1")[0] == "Pilot"


def test_incremental_wave_savings_add_up_to_the_plan(con, cfg):
    portfolio(con, cfg)
    total = one(con, "select sum(incremental_savings_usd) from plan_waves")[0]
    assert total == one(con, "select monthly_savings_usd from plan")[0]


def test_breakeven_month_includes_one_time_costs(con, cfg):
    portfolio(con, cfg)
    cash = con.execute("select month, live_waves, one_time_cost_usd, cumulative_usd from plan_cashflow "
                       "order by month limit 5").fetchall()
    assert [c[1] for c in cash] == [1, 1, 2, 2, 3]
    assert cash[0][2] == Decimal("22000") and cash[2][2] == Decimal("20000")
    assert cash[0][3] == Decimal("15161.67") - Decimal("22000")
    assert cash[0][3] < 0 <= cash[1][3]
    assert one(con, "select breakeven_month from plan")[0] == 2


def test_breakeven_beyond_the_horizon_is_extrapolated(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_x", workload="x", current="7000", one_time="500000")
    run_plan(con, cfg)
    savings = one(con, "select monthly_savings_usd from plan")[0]
    assert savings == Decimal("7000") - Decimal("6038.33") - Decimal("300")
    # cumulative after 36 months: 36 * 661.67 - 500000 < 0; then linear
    expected = 36 + math.ceil((500000 - 36 * savings) / savings)
    assert one(con, "select breakeven_month from plan")[0] == expected


def test_breakeven_is_null_when_nothing_moves(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_s", workload="s", current="100", decision="stay", chosen="api_current")
    run_plan(con, cfg)
    assert one(con, "select segments_moving, breakeven_month, monthly_savings_usd, gpus from plan") == (
        0, None, Decimal("0"), 0)
    assert one(con, "select count(*) from plan_waves")[0] == 0


def test_volume_what_ifs_resize_fleets_and_keep_fixed_costs(con, cfg):
    portfolio(con, cfg)
    rows = dict(con.execute("select multiplier, savings_usd from plan_volume where scope = 'portfolio'").fetchall())
    assert rows[Decimal("1")] == one(con, "select savings_1x_usd from plan")[0]
    # 3x: 8B fleet needs 3 replicas (3 x 730), chat fleet ceil(4.2)+1 = 6 x 1825; labour, nodes and fixed once
    api = 3 * Decimal("73000")
    cost = (3 * Decimal("730") + Decimal("5208.33") + 100) + (6 * Decimal("1825") + Decimal("5208.33") + 100) \
        + 3 * Decimal("6500") + 300
    assert rows[Decimal("3")] == api - cost
    assert one(con, "select savings_3x_usd from plan")[0] == api - cost


def test_crossover_volume_is_where_the_fleet_alone_starts_to_win(con, cfg):
    portfolio(con, cfg)
    k = one(con, "select crossover_volume from plan_deployments where deployment_id = 'llama-3.1-8b@l40sx1'")[0]
    # one replica (730 + 5208.33 labour + 100 node + 300 platform) against $35,000 of API bill at 1x
    assert k == round(Decimal("6338.33") / Decimal("35000"), 4)


def test_crossover_none_when_the_fleet_never_wins(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    # a fleet whose every added replica costs more than the API bill it absorbs
    upstream.add_segment(con, RUN, "seg_y", workload="y", current="500", savings="1", decision="pilot",
                         self_host={"load_replicas": 1.0, "gpu_usd_per_hour": "5.00"})
    run_plan(con, cfg)
    assert one(con, "select crossover_volume from plan_deployments")[0] is None
    assert any("costs more per month" in w for w in plan._warnings(con, RUN))


def test_unscored_and_unpriced_segments_stay_with_a_reason(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_a", workload="a", current="20000")
    con.execute("insert into segments (run_id, segment_id, workload, mode, requests) values (?, 'seg_new', 'n', "
                "'batch', 10)", [RUN])
    result = run_plan(con, cfg)
    assert one(con, "select action, stay_reasons from plan_segments where segment_id = 'seg_new'") == (
        "stay", ["not scored: no options were computed for this segment"])
    assert "1 segment(s) were not scored and stay on their current API" in result.warnings


def test_missing_labour_in_details_uses_the_fallback_and_says_so(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_a", workload="a", current="20000")
    con.execute("update segment_options set details = json_object('gpus_per_replica', 1, 'load_replicas', 0.5, "
                "'gpu_cost_usd', 730) where option = 'self_host'")
    result = run_plan(con, cfg)
    row = one(con, "select gpu_month_usd, labor_cost_usd from plan_deployments")
    assert row == (Decimal("730"), Decimal("5208.33"))
    assert any("plan.fallback_labor_usd" in w for w in result.warnings)


def test_gpu_month_falls_back_to_run_assumptions(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_a", workload="a", current="20000")
    con.execute("update segment_options set details = json_object('labor_cost_usd', 5000, 'load_replicas', 0.5, "
                "'gpu_cost_usd', 999) where option = 'self_host'")
    con.execute("delete from assumptions where run_id = ? and key in ('gpus.l40s.price_per_hour', "
                "'operations.hours_per_month')", [RUN])
    con.executemany("insert into assumptions values (?, ?, ?, 'x', 'test', 'config')",
                    [(RUN, "gpus.l40s.price_per_hour", "1.10"), (RUN, "operations.hours_per_month", "730")])
    run_plan(con, cfg)
    assert one(con, "select gpu_month_usd from plan_deployments")[0] == Decimal("803")


def test_rerunning_the_stage_replaces_its_rows(con, cfg):
    portfolio(con, cfg)
    first = con.execute("select * from plan_volume order by all").fetchall()
    run_plan(con, cfg)
    assert con.execute("select * from plan_volume order by all").fetchall() == first
    assert one(con, "select count(*) from plan")[0] == 1


def test_config_overrides_reach_the_sql(con, cfg):
    cfg2 = cfg.with_assumptions({"plan.wave_interval_months": 3, "plan.observability_fixed_usd": 0}, "config")
    portfolio(con, cfg2)
    assert [r[0] for r in con.execute("select start_month from plan_waves order by wave").fetchall()] == [0, 3, 6]
    assert one(con, "select fixed_cost_usd from plan")[0] == 0


def test_money_columns_are_decimal(con, cfg):
    portfolio(con, cfg)
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_name in ('plan', 'plan_deployments', 'plan_waves', 'plan_volume', "
                             "'plan_cashflow') and column_name like '%usd'").fetchall())
    assert set(types.values()) == {"DECIMAL(38,10)"}


def test_v_plan_shows_the_latest_plan(con, cfg):
    portfolio(con, cfg)
    rows = con.execute("select segment_id, workload, action, wave, deployment_id from v_plan").fetchall()
    assert rows[0] == ("seg_a", "tickets", "self_host", 1, "llama-3.1-8b@l40sx1")
    assert [r[0] for r in rows] == ["seg_a", "seg_e", "seg_b", "seg_c", "seg_d"]


def test_a_staying_segment_that_fits_a_planned_fleet_is_listed_as_an_opportunity(con, cfg):
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, "seg_a", workload="a", current="20000", self_host={"load_replicas": 0.7})
    # scored alone this one stays (its own fleet, labour and platform cost more than its $3,000 bill) ...
    upstream.add_segment(con, RUN, "seg_s", workload="s", current="3000", decision="stay", chosen="api_current",
                         self_host={"load_replicas": 0.2})
    # ... and this one would need a second replica: still cheaper than its bill
    upstream.add_segment(con, RUN, "seg_t", workload="t", current="900", decision="stay", chosen="api_current",
                         self_host={"load_replicas": 0.5})
    result = run_plan(con, cfg)
    rows = con.execute("select segment_id, deployment_id, marginal_cost_usd, monthly_savings_usd, replicas_added "
                       "from plan_opportunities order by segment_id").fetchall()
    assert rows == [("seg_s", "llama-3.1-8b@l40sx1", Decimal("0"), Decimal("3000"), 0),
                    ("seg_t", "llama-3.1-8b@l40sx1", Decimal("730"), Decimal("170"), 1)]
    assert any("seg_s stays on its API but would save" in w for w in result.warnings)
    assert one(con, "select action from plan_segments where segment_id = 'seg_s'")[0] == "stay"


def test_a_database_without_segments_gets_an_empty_plan_and_a_report(db_path, cfg, tmp_path):
    """Before the segmentation and scoring stages exist (or have run), analyze and report still work."""
    import json

    import jsonschema

    from planner import report
    from planner.runs import finish_run, start_run

    con = db.connect(db_path)
    upstream.load_demo(con, tmp_path / "exports", days=1, scale=0.02, config=cfg)
    run_id = start_run(con, "analyze", cfg, run_id=RUN)
    with db.transaction(con):
        result = plan.run(con, cfg, run_id)
    finish_run(con, run_id, 1)
    assert result.warnings[0].startswith("nothing to plan yet: no segments")
    con.close()
    ro = db.connect(db_path, read_only=True)
    obj = report.build_plan(ro)
    ro.close()
    schema = json.loads((upstream.ROOT / "schemas" / "plan.v1.schema.json").read_text())
    jsonschema.validate(obj, schema, cls=jsonschema.Draft202012Validator)
    assert obj["portfolio"]["segments_total"] == 0 and obj["totals"]["requests"] > 0
    assert "Nothing to plan yet" in report.render_markdown(obj)
    assert "Nothing to plan yet" in report.render_html(obj)
