"""The hybrid option (a fleet for the base load, the overflow to today's API) on synthetic segments with
known per-minute arrival profiles: flat, spiky (8x peaks), regulated spiky; and its speed."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import numpy as np
import pytest
from scoring_helpers import insert_segments, minute_profile, segment, setup_tables

from planner import hybrid, score
from planner.config import load_config
from planner.db import fetch_dicts, transaction

RUN = "20261101T000000Z-hybrid"
REQUESTS = 30_000_000


@pytest.fixture
def db(con):
    setup_tables(con)
    con.execute("alter table segments add column if not exists minute_histogram "
                "struct(arrivals bigint, minutes bigint)[]")
    return con


def _bulk(name: str, **kw):
    """30M extraction requests a month on GPT-5 mini: cheap enough per request that overflow can pay."""
    kw = {"provider": "openai", "model": "gpt-5-mini", **kw}
    return segment(name, kind="extraction", requests=REQUESTS, input_per=2000, output_per=300, cached_share=0.0, **kw)


def _score(con, segs, profiles, config=None):
    insert_segments(con, RUN, segs)
    for s, prof in zip(segs, profiles, strict=True):
        con.execute("update segments set minute_histogram = ? where segment_id = ?", [prof, s["segment_id"]])
    with transaction(con):
        score.run(con, config or load_config(None), RUN)
    rows = fetch_dicts(con, "select * from segment_options where run_id = ?", [RUN])
    return {(r["segment_id"], r["option"]): r for r in rows}


FLAT = minute_profile(REQUESTS)
SPIKY = minute_profile(REQUESTS, peak_mult=8, peak_share=0.02)


def test_flat_segment_gets_no_overflow(db):
    opts = _score(db, [_bulk("flat", peak_to_mean=1.0)], [FLAT])
    h = opts[("flat", "hybrid")]
    assert h["feasible"], h["reasons"]
    assert h["overflow_share"] == pytest.approx(0.0, abs=1e-9)
    d = json.loads(h["details"])
    assert d["fleet"]["capacity_per_minute"] >= FLAT[0]["arrivals"]
    assert Decimal(d["cost"]["overflow_api_cost_usd"]) == 0


def test_spiky_segment_overflows_and_beats_both_pure_options(db):
    opts = _score(db, [_bulk("spiky", peak_to_mean=8.0)], [SPIKY])
    h, sh, cur = opts[("spiky", "hybrid")], opts[("spiky", "self_host")], opts[("spiky", "api_current")]
    assert h["feasible"], h["reasons"]
    d = json.loads(h["details"])
    peak = SPIKY[1]["arrivals"]
    assert d["fleet"]["capacity_per_minute"] < peak                        # sized below the peak
    assert d["fleet"]["replicas_for_peak"] > d["fleet"]["replicas"]
    assert 0 < h["overflow_share"] < 0.5
    assert d["overflow"]["requests_share"] == pytest.approx(h["overflow_share"], rel=1e-3)
    assert d["overflow"]["provider"] == "openai" and d["overflow"]["latency"] is None
    assert h["monthly_cost_usd"] < sh["monthly_cost_usd"]
    assert h["monthly_cost_usd"] < cur["monthly_cost_usd"]
    # the money adds up from its parts (re-derivable)
    c = d["cost"]
    parts = sum(Decimal(c[k]) for k in ("gpu_cost_usd", "labor_cost_usd", "observability_cost_usd",
                                        "overflow_api_cost_usd", "failover_api_cost_usd"))
    assert abs(parts - h["monthly_cost_usd"]) < Decimal("0.05")
    # the overflow share is exactly sum(max(0, k - C) x minutes) / arrivals over the histogram
    cap = d["fleet"]["capacity_per_minute"]
    arrivals = sum(b["arrivals"] * b["minutes"] for b in SPIKY)
    over = sum(max(0.0, b["arrivals"] - cap) * b["minutes"] for b in SPIKY)
    assert h["overflow_share"] == pytest.approx(over / arrivals, rel=1e-3)
    sc = fetch_dicts(db, "select * from segment_scores where run_id = ?", [RUN])[0]
    assert sc["chosen_option"] in ("hybrid", "open_model_api")   # a cheap open-model API may beat both


def test_spiky_segment_chooses_hybrid_without_open_model_apis(db, tmp_path):
    cfg = tmp_path / "planner.toml"
    cfg.write_text("[candidates]\nopen_model_providers = [\"none\"]\n")
    _score(db, [_bulk("spiky", peak_to_mean=8.0)], [SPIKY], load_config(cfg))
    sc = fetch_dicts(db, "select * from segment_scores where run_id = ?", [RUN])[0]
    assert sc["chosen_option"] == "hybrid" and sc["decision"] in ("migrate", "pilot")
    assert "hybrid" in " ".join(json.loads(sc["reasons"]) if isinstance(sc["reasons"], str) else sc["reasons"])


def test_regulated_spiky_segment_gets_no_third_party_overflow(db):
    opts = _score(db, [_bulk("phi", peak_to_mean=8.0, sensitivity="regulated")], [SPIKY])
    h = opts[("phi", "hybrid")]
    assert not h["feasible"] and h["monthly_cost_usd"] is None
    assert h["overflow_share"] == 0
    assert any("may not overflow" in r for r in h["reasons"])
    sc = fetch_dicts(db, "select * from segment_scores where run_id = ?", [RUN])[0]
    assert sc["chosen_option"] != "hybrid"


def test_a_sensitivity_rule_lets_regulated_traffic_overflow(db, tmp_path):
    cfg = tmp_path / "planner.toml"
    cfg.write_text("[[sensitivity.rules]]\nwhere = \"workload = 'phi'\"\nsensitivity = \"regulated\"\n"
                   "allow_third_party = true\n")
    db.execute("alter table segments add column if not exists allow_third_party boolean")
    segs = [_bulk("phi", peak_to_mean=8.0, sensitivity="regulated"),
            _bulk("phi2", peak_to_mean=8.0, sensitivity="regulated")]
    insert_segments(db, RUN, segs)
    db.execute("update segments set allow_third_party = (segment_id = 'phi'), minute_histogram = ?", [SPIKY])
    with transaction(db):
        score.run(db, load_config(cfg), RUN)
    opts = {(r["segment_id"], r["option"]): r for r in fetch_dicts(db, "select * from segment_options")}
    assert opts[("phi", "hybrid")]["feasible"] and opts[("phi", "hybrid")]["overflow_share"] > 0
    assert any("a sensitivity rule allows it" in r for r in opts[("phi", "hybrid")]["reasons"])
    assert not opts[("phi2", "hybrid")]["feasible"] and opts[("phi2", "hybrid")]["overflow_share"] == 0


def test_batch_and_profile_less_segments_have_no_hybrid(db):
    opts = _score(db, [_bulk("batchy", mode="batch", batch=True), _bulk("noprof")], [SPIKY, None])
    assert not opts[("batchy", "hybrid")]["feasible"]
    assert any("batch" in r for r in opts[("batchy", "hybrid")]["reasons"])
    assert not opts[("noprof", "hybrid")]["feasible"]
    assert any("arrival profile" in r for r in opts[("noprof", "hybrid")]["reasons"])


def test_hybrid_can_be_switched_off(db, tmp_path):
    cfg = tmp_path / "planner.toml"
    cfg.write_text("[hybrid]\nenabled = false\n")
    opts = _score(db, [_bulk("spiky", peak_to_mean=8.0)], [SPIKY], load_config(cfg))
    assert not opts[("spiky", "hybrid")]["feasible"]


def test_profiles_share_matches_the_definition():
    rng = np.random.default_rng(3)
    hists = []
    for _ in range(20):
        ks = np.unique(rng.integers(0, 500, size=rng.integers(1, 30)))
        hists.append(np.column_stack([ks, rng.integers(1, 1000, size=len(ks))]).astype(float))
    prof = hybrid.Profiles.build(hists)
    for s, h in enumerate(hists):
        for level in (0.0, 3.5, 100.0, 250.0, 499.0, 1000.0):
            want = (np.maximum(h[:, 0] - level, 0) * h[:, 1]).sum() / (h[:, 0] * h[:, 1]).sum() \
                if (h[:, 0] * h[:, 1]).sum() else np.nan
            got = prof.share(np.array([s]), np.array([level]))[0]
            if np.isnan(want):
                assert np.isnan(got)
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_cheapest_fleet_is_the_brute_force_minimum():
    """The newsvendor shortcut finds the same fleet as trying every replica count."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        ks = np.unique(rng.integers(0, 400, size=rng.integers(2, 40))).astype(float)
        h = np.column_stack([ks, rng.integers(1, 2000, size=len(ks)).astype(float)])
        prof = hybrid.Profiles.build([h])
        c = np.array([[float(rng.uniform(5, 120))]])
        g = np.array([[float(rng.uniform(500, 20000))]])
        bill = np.array([[float(rng.uniform(1000, 200000))]])
        kw = {"c": c, "gpu_replica": g, "obs_replica": np.zeros((1, 1)), "fixed_obs": 0.0, "labor": 0.0,
              "bill": bill, "fail": 0.0, "volume": 1.0}
        best = hybrid.cheapest(prof, np.array([[0]]), ok=np.ones((1, 1), dtype=bool), **kw)
        cover = int(np.ceil(ks.max() / c[0, 0]))
        brute = min(hybrid.cost_of(prof, np.array([[0]]), np.array([[float(n)]]), **kw)[0, 0]
                    for n in range(1, max(cover, 1) + 1))
        assert best.total[0, 0] == pytest.approx(brute, rel=1e-9)


def test_scoring_1000_segments_with_profiles_under_a_second():
    from test_score import CAT, PARAMS, _book, _frame, _specs_1000

    rng = np.random.default_rng(7)
    specs = _specs_1000(rng)
    frame, _ = _frame(specs)
    hists = []
    for sp in specs:
        base = max(sp["requests"] / 43_200 / 1.2, 1)
        ks = np.unique(np.round(base * rng.lognormal(0, 0.6, size=60)))
        hists.append(np.column_stack([ks, rng.integers(10, 2000, size=len(ks))]).astype(float))
    frame.minute_hist = hists
    book = _book()
    small, _ = _frame(specs[:20])
    small.minute_hist = hists[:20]
    score.score_frame(small, PARAMS, CAT, book)     # warm caches
    res = score.score_frame(frame, PARAMS, CAT, book)
    assert sum(1 for opts in res.options if opts[4]["feasible"]) > 100

    plain, _ = _frame(specs)

    def cpu(f) -> float:
        t = time.process_time()
        score.score_frame(f, PARAMS, CAT, book)
        return time.process_time() - t

    best = min(cpu(frame) for _ in range(3))
    base = min(cpu(plain) for _ in range(2))
    # under a second on a quiet machine (bench/hybrid.py: 0.89 s); on a loaded shared one CPU time inflates for
    # every test alike, so the ratio to scoring without profiles in the same run is the guard there
    assert best < 1.0 or best < 1.4 * base, (f"{best:.2f} s of CPU for 1,000 segments with the hybrid option, "
                                             f"{base:.2f} s without profiles")


def test_plan_prices_overflow_once_per_provider_and_router_overflows(db, tmp_path):
    """Two spiky hybrid segments on the same API: one overflow line for that provider in the plan, and the
    router export caps the fleet route at its capacity (rpm) with today's API as the fallback."""
    from planner import export, plan
    from planner.runs import record_assumptions

    cfg_path = tmp_path / "planner.toml"
    cfg_path.write_text("[candidates]\nopen_model_providers = [\"none\"]\n")
    config = load_config(cfg_path)
    segs = [_bulk("spiky", peak_to_mean=8.0), _bulk("spiky2", peak_to_mean=8.0)]
    _score(db, segs, [SPIKY, SPIKY], config)
    with transaction(db):
        record_assumptions(db, RUN, config)
    with transaction(db):
        plan.run(db, config, RUN)
    acts = dict(db.execute("select segment_id, action from plan_segments where run_id = ?", [RUN]).fetchall())
    assert acts == {"spiky": "hybrid", "spiky2": "hybrid"}
    lines = fetch_dicts(db, "select * from plan_overflow where run_id = ?", [RUN])
    assert len(lines) == 1 and lines[0]["provider"] == "openai" and lines[0]["segments"] == 2
    opts = fetch_dicts(db, "select details from segment_options where run_id = ? and option = 'hybrid'", [RUN])
    each = sum(Decimal(json.loads(o["details"])["overflow"]["api_cost_usd"])
               + Decimal(json.loads(o["details"])["overflow"]["failover_api_cost_usd"]) for o in opts)
    assert abs(lines[0]["monthly_cost_usd"] - each) < Decimal("0.01")
    head = fetch_dicts(db, "select * from plan where run_id = ?", [RUN])[0]
    assert abs(head["overflow_api_cost_usd"] - lines[0]["monthly_cost_usd"]) < Decimal("0.01")
    text = "\n".join(export.router(db, RUN).lines)
    assert "rpm: " in text and "overflow to today's API" in text
    assert '"openai/gpt-5-mini"' in text and "fallbacks:" in text


def test_breakeven_map_of_a_hybrid_decision(db, tmp_path):
    import xml.dom.minidom

    from planner.charts import breakeven_svg

    cfg = tmp_path / "planner.toml"
    cfg.write_text("[candidates]\nopen_model_providers = [\"none\"]\n")
    _score(db, [_bulk("spiky", peak_to_mean=8.0)], [SPIKY], load_config(cfg))
    sc = fetch_dicts(db, "select * from segment_scores where run_id = ?", [RUN])[0]
    m = json.loads(sc["breakeven_map"])
    assert len(m["cells"]) == len(m["volume_multipliers"])
    assert all(len(row) == len(m["gpu_price_multipliers"]) for row in m["cells"])
    assert m["at_today"] in ("Y", "y") and m["decision"] == m["at_today"] and 0 < m["holds_share"] <= 1
    cheap = m["cells"][0]            # a tenth of the volume: the fleet no longer pays, stay or optimise
    assert "Y" not in cheap[:3]
    xml.dom.minidom.parseString(breakeven_svg(m))
