"""The segment stage on synthetic traffic with known shapes (rows written straight into usage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import db, segment, sensitivity
from planner.config import load_config
from planner.errors import ConfigError

BASE = "TIMESTAMP '2026-03-02 08:00:00'"


def add(con, source_id: str, select: str) -> None:
    """Insert the rows of `select` (named usage columns) as one loaded source; the rest stays NULL."""
    con.execute("INSERT INTO sources (source_id, path, format, status) VALUES (?, ?, 'generic', 'loaded')",
                [source_id, f"{source_id}.csv"])
    given = {r[0] for r in con.execute(f"DESCRIBE {select}").fetchall()}
    defaults = {"grain": "'request'", "requests": "1", "status": "'ok'", "provider": "'openai'",
                "model": "'gpt-4o-mini'", "tags": "CAST(MAP {} AS MAP(VARCHAR, VARCHAR))", "batch": "false"}
    extra = "".join(f"{v} AS {k}, " for k, v in defaults.items() if k not in given)
    con.execute(f"""
        INSERT INTO usage BY NAME
        SELECT md5('{source_id}' || row_number() OVER ()) AS event_id, '{source_id}' AS source_id, {extra} *
        FROM ({select})
    """)


def analyze(con, cfg, run_id: str):
    with db.transaction(con):
        sensitivity.run(con, cfg, run_id)
    with db.transaction(con):
        return segment.run(con, cfg, run_id)


def seg(con, run_id: str, where: str = "true") -> list[dict]:
    return db.fetch_dicts(con, f"SELECT * FROM segments WHERE run_id = ? AND {where} ORDER BY segment_id", [run_id])


def config(tmp_path: Path, text: str = ""):
    p = tmp_path / "planner.toml"
    p.write_text(text)
    return load_config(p)


STEADY = f"""
    SELECT {BASE} + to_minutes(i) + INTERVAL 17 SECOND + to_milliseconds(i * 7) AS ts, 'steady' AS workload,
           1000 + i AS input_tokens, 100 AS output_tokens, 500 AS cached_input_tokens
    FROM range(120) t(i)
"""
# 120 requests in two minutes two hours apart: 60 at minute 0, 60 at minute 119
BURSTY = f"""
    SELECT {BASE} + to_minutes(CASE WHEN i < 60 THEN 0 ELSE 119 END) + to_milliseconds((i % 60) * 900 + 3) AS ts,
           'bursty' AS workload, 2000 AS input_tokens, 50 AS output_tokens
    FROM range(120) t(i)
"""


def test_bursty_and_steady_shapes(con, tmp_path):
    cfg = config(tmp_path)
    add(con, "s1", STEADY)
    add(con, "s2", BURSTY)
    analyze(con, cfg, "r1")
    steady = seg(con, "r1", "workload = 'steady'")[0]
    bursty = seg(con, "r1", "workload = 'bursty'")[0]
    assert steady["requests"] == bursty["requests"] == 120
    assert steady["span_minutes"] == 120 and bursty["span_minutes"] == 120
    assert steady["mean_per_minute"] == pytest.approx(1.0) and bursty["mean_per_minute"] == pytest.approx(1.0)
    assert steady["peak_per_minute"] == 1 and bursty["peak_per_minute"] == 60
    assert steady["peak_to_mean"] == pytest.approx(1.0) and bursty["peak_to_mean"] == pytest.approx(60.0)
    assert steady["variance_to_mean"] == pytest.approx(0.0, abs=1e-9)
    assert bursty["variance_to_mean"] == pytest.approx(59.0)  # E[k^2] = 2*3600/120 = 60, minus mean^2 = 1
    assert steady["empty_minutes"] == 0 and bursty["empty_minutes"] == 118
    # inside each hour: steady arrivals have no dispersion, the burst hours a lot (Poisson would give 1)
    assert steady["burst_index"] == pytest.approx(0.0, abs=1e-9) and bursty["burst_index"] == pytest.approx(59.0)
    # inside a day, idle gaps are measured between active minutes (within 60 s of the exact gap)
    assert steady["longest_idle_s"] == 60
    assert bursty["longest_idle_s"] == 119 * 60
    # histograms: zero minutes included, they add up to the span and to the arrivals
    assert bursty["minute_histogram"] == [{"arrivals": 0, "minutes": 118}, {"arrivals": 60, "minutes": 2}]
    assert steady["minute_histogram"] == [{"arrivals": 1, "minutes": 120}]
    assert sum(bursty["hour_profile"]) == 120 and len(bursty["hour_profile"]) == 24
    assert bursty["hour_profile"][8] == 60 and bursty["hour_profile"][9] == 60
    assert steady["cached_share"] == pytest.approx(500 * 120 / sum(1000 + i for i in range(120)))
    assert bursty["cached_share"] is None  # the source never said: unknown, not zero
    assert steady["coarse_timestamps"] is False and steady["ts_resolution_s"] == pytest.approx(0.001)
    # the ordering scoring relies on
    assert bursty["peak_to_mean"] > steady["peak_to_mean"] and bursty["variance_to_mean"] > steady["variance_to_mean"]


def test_quantiles_exact_small_and_histogram_at_scale(con, tmp_path):
    add(con, "q", f"SELECT {BASE} + to_seconds(i) AS ts, 'q' AS workload, 1 + i * 3 AS input_tokens, "
                  "10 + (i % 50) AS output_tokens FROM range(2000) t(i)")
    analyze(con, config(tmp_path), "r1")
    exact = seg(con, "r1")[0]
    assert exact["quantile_method"] == "exact" and exact["quantile_rel_error"] == 0
    assert exact["p50_input"] == pytest.approx(1 + 999.5 * 3)
    assert exact["p95_output"] == pytest.approx(57.0, abs=0.5)
    analyze(con, config(tmp_path, "[segments]\nexact_quantiles_max_rows = 10\n"), "r2")
    approx = seg(con, "r2")[0]
    assert approx["quantile_method"] == "histogram"
    err = approx["quantile_rel_error"]
    assert err == pytest.approx(2 ** (1 / 32) - 1)
    for key in ("p50_input", "p95_input", "p99_input", "p50_output", "p95_output", "p99_output"):
        assert approx[key] == pytest.approx(exact[key], rel=err + 0.002), key


def test_long_context_requests_get_their_own_segment(con, tmp_path):
    add(con, "l", f"SELECT {BASE} + to_minutes(i) AS ts, 'docs' AS workload, "
                  "CASE WHEN i % 10 = 0 THEN 200000 WHEN i % 10 = 1 THEN 40000 ELSE 3000 END AS input_tokens, "
                  "300 AS output_tokens FROM range(100) t(i)")
    analyze(con, config(tmp_path), "r1")
    bands = {s["context_band"]: s["requests"] for s in seg(con, "r1")}
    assert bands == {">128K": 10, "32K-128K": 10, "<=8K": 80}
    big = seg(con, "r1", "context_band = '>128K'")[0]
    assert big["p50_input"] == 200000 and big["workload"] == "docs"


def test_rule_beats_declared_beats_fingerprint(con, tmp_path):
    cfg = config(tmp_path, """
[[workloads.rules]]
name = "legal-review"
where = "project = 'legal'"
kind = "summarization"
mode = "batch"
""")
    add(con, "a", f"SELECT {BASE} + to_minutes(i) AS ts, 'legal' AS project, 'declared-name' AS workload, "
                  "10 AS input_tokens, 1 AS output_tokens FROM range(5) t(i)")
    add(con, "b", f"SELECT {BASE} + to_minutes(i) AS ts, 'web' AS project, 'declared-name' AS workload, "
                  "10 AS input_tokens, 1 AS output_tokens FROM range(6) t(i)")
    add(con, "c", f"SELECT {BASE} + to_minutes(i) AS ts, 'web' AS project, MAP {{'workload': 'tagged'}} AS tags, "
                  "10 AS input_tokens, 1 AS output_tokens FROM range(7) t(i)")
    # a template seen 60 times (>= 50) and one seen 3 times: only the first names a workload
    add(con, "d", f"SELECT {BASE} + to_minutes(i) AS ts, 'web' AS project, 'key1' AS api_key_id, "
                  "CASE WHEN i < 60 THEN 'fp_big' ELSE 'fp_small' END AS prompt_fingerprint, "
                  "10 AS input_tokens, 1 AS output_tokens FROM range(63) t(i)")
    analyze(con, cfg, "r1")
    got = {(s["workload"], s["workload_source"], s["fingerprint_basis"]): s for s in seg(con, "r1")}
    assert set(got) == {("legal-review", "rule", None), ("declared-name", "declared", None),
                        ("tagged", "declared", None), ("tpl-fp_big", "fingerprint", "template"),
                        ("web/key1/gpt-4o-mini", "fingerprint", "caller")}
    rule = got[("legal-review", "rule", None)]
    assert rule["requests"] == 5 and rule["mode"] == "batch" and rule["workload_kind"] == "summarization"
    assert rule["kind_source"] == "rule"
    assert got[("declared-name", "declared", None)]["requests"] == 6
    assert got[("tpl-fp_big", "fingerprint", "template")]["requests"] == 60
    assert got[("web/key1/gpt-4o-mini", "fingerprint", "caller")]["requests"] == 3
    # the view agrees with the table row by row
    assert con.execute("SELECT count(*) FROM usage_enriched WHERE segment_id NOT IN "
                       "(SELECT segment_id FROM segments WHERE run_id = 'r1')").fetchone()[0] == 0
    per_view = dict(con.execute("SELECT segment_id, count(*) FROM usage_enriched GROUP BY 1").fetchall())
    assert per_view == {s["segment_id"]: s["requests"] for s in seg(con, "r1")}


def test_segment_ids_are_stable_across_runs_and_databases(con, tmp_path):
    add(con, "s1", STEADY)
    cfg = config(tmp_path)
    analyze(con, cfg, "r1")
    analyze(con, cfg, "r2")
    ids1 = [s["segment_id"] for s in seg(con, "r1")]
    assert ids1 == [s["segment_id"] for s in seg(con, "r2")]
    other = db.connect(tmp_path / "other.duckdb")
    try:
        add(other, "zz", STEADY)
        analyze(other, cfg, "x")
        assert [s["segment_id"] for s in seg(other, "x")] == ids1
    finally:
        other.close()


def _comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "run_id"} for r in rows]


def test_incremental_equals_full_rebuild(con, tmp_path):
    cfg = config(tmp_path)
    add(con, "s1", STEADY)
    add(con, "s2", BURSTY)
    first = analyze(con, cfg, "r1")
    assert first.data["full_rebuild"] and first.data["days_rebuilt"] == 1
    # a later day arrives, and more of the first day
    add(con, "s3", STEADY.replace(BASE, "TIMESTAMP '2026-03-04 23:30:00'").replace("'steady'", "'steady'"))
    add(con, "s4", BURSTY.replace(BASE, "TIMESTAMP '2026-03-02 12:00:00'"))
    second = analyze(con, cfg, "r2")
    assert not second.data["full_rebuild"]
    assert second.data["days_rebuilt"] == 3  # 03-02 (s4), 03-04 and 03-05 (s3 crosses midnight)
    nothing = analyze(con, cfg, "r3")
    assert nothing.data["days_rebuilt"] == 0
    fresh = db.connect(tmp_path / "fresh.duckdb")
    try:
        for sid, sql in (("s1", STEADY), ("s2", BURSTY),
                         ("s3", STEADY.replace(BASE, "TIMESTAMP '2026-03-04 23:30:00'")),
                         ("s4", BURSTY.replace(BASE, "TIMESTAMP '2026-03-02 12:00:00'"))):
            add(fresh, sid, sql)
        analyze(fresh, cfg, "f1")
        assert _comparable(seg(con, "r3")) == _comparable(seg(fresh, "f1"))
    finally:
        fresh.close()
    steady = seg(con, "r3", "workload = 'steady'")[0]
    assert steady["requests"] == 240 and steady["days_active"] == 3
    # the idle gap between the two steady runs crosses two midnights
    assert steady["longest_idle_s"] > 2 * 86400


def test_template_promotion_rebuilds_old_days(con, tmp_path):
    cfg = config(tmp_path)
    add(con, "a", f"SELECT {BASE} + to_minutes(i) AS ts, 'tplx' AS prompt_fingerprint, 'p' AS project, "
                  "5 AS input_tokens, 1 AS output_tokens FROM range(30) t(i)")
    analyze(con, cfg, "r1")
    assert [s["fingerprint_basis"] for s in seg(con, "r1")] == ["caller"]
    add(con, "b", "SELECT TIMESTAMP '2026-03-09 08:00:00' + to_minutes(i) AS ts, 'tplx' AS prompt_fingerprint, "
                  "'p' AS project, 5 AS input_tokens, 1 AS output_tokens FROM range(30) t(i)")
    res = analyze(con, cfg, "r2")
    assert res.data["templates_promoted"] == 1 and res.data["days_rebuilt"] == 2
    rows = seg(con, "r2")
    assert [(s["workload"], s["requests"]) for s in rows] == [("tpl-tplx", 60)]


def test_config_change_rebuilds_everything(con, tmp_path):
    add(con, "s1", STEADY)
    analyze(con, config(tmp_path), "r1")
    res = analyze(con, config(tmp_path, '[[workloads.rules]]\nname = "all"\nwhere = "true"\n'), "r2")
    assert res.data["full_rebuild"]
    assert [(s["workload"], s["workload_source"]) for s in seg(con, "r2")] == [("all", "rule")]


def test_coarse_timestamps_are_flagged(con, tmp_path):
    add(con, "c", f"SELECT {BASE} + to_seconds(i * 7) AS ts, 'trace' AS workload, 100 AS input_tokens, "
                  "10 AS output_tokens FROM range(500) t(i)")
    add(con, "m", f"SELECT {BASE} + to_minutes(i) AS ts, 'minutes' AS workload, 100 AS input_tokens, "
                  "10 AS output_tokens FROM range(50) t(i)")
    res = analyze(con, config(tmp_path), "r1")
    trace = seg(con, "r1", "workload = 'trace'")[0]
    assert trace["coarse_timestamps"] is True and trace["ts_resolution_s"] == 1.0
    minutes = seg(con, "r1", "workload = 'minutes'")[0]
    assert minutes["coarse_timestamps"] is True and minutes["ts_resolution_s"] == 60.0
    assert any("coarse" in w for w in res.warnings)


def test_sessions_failures_and_kinds(con, tmp_path):
    add(con, "chat", f"SELECT {BASE} + to_seconds(i * 30) AS ts, 'web' AS project, 'k' AS api_key_id, "
                     "'sess' || (i // 4) AS session_id, 500 AS input_tokens, 200 AS output_tokens, "
                     "CASE WHEN i % 10 = 0 THEN 'error' ELSE 'ok' END AS status FROM range(40) t(i)")
    add(con, "tools", f"SELECT {BASE} + to_seconds(i * 30) AS ts, 'bot-x' AS project, "
                      "MAP {'tool_calls': '2'} AS tags, 500 AS input_tokens, 200 AS output_tokens FROM range(10) t(i)")
    add(con, "cls", f"SELECT {BASE} + to_seconds(i) AS ts, 'labels' AS project, 300 AS input_tokens, "
                    "2 AS output_tokens FROM range(10) t(i)")
    add(con, "emb", f"SELECT {BASE} + to_seconds(i) AS ts, 'vec' AS project, 'embedding' AS kind, "
                    "300 AS input_tokens, 0 AS output_tokens FROM range(10) t(i)")
    add(con, "odd", f"SELECT {BASE} + to_seconds(i) AS ts, 'misc' AS project, 300 AS input_tokens, "
                    "300 AS output_tokens FROM range(10) t(i)")
    res = analyze(con, config(tmp_path), "r1")
    by = {s["workload"].split("/")[0]: s for s in seg(con, "r1")}
    chat = by["web"]
    assert chat["sessions"] == 10 and chat["turns_per_session"] == pytest.approx(4.0)
    assert chat["failed_requests"] == 4 and chat["failed_share"] == pytest.approx(0.1)
    assert (chat["workload_kind"], chat["kind_source"]) == ("chat", "signal")
    assert by["bot-x"]["workload_kind"] == "agentic" and by["bot-x"]["tool_share"] == 1.0
    assert by["labels"]["workload_kind"] == "classification" and "p95 output" in by["labels"]["kind_signal"]
    assert by["vec"]["workload_kind"] == "embedding"
    assert by["misc"]["workload_kind"] is None and by["misc"]["kind_source"] is None
    assert by["misc"]["sessions"] is None  # no session ids: unknown, not zero
    assert any("no workload kind" in w for w in res.warnings)


def test_buckets_count_without_inventing_arrivals(con, tmp_path):
    add(con, "b", f"SELECT 'bucket' AS grain, {BASE} + to_days(i) AS ts, {BASE} + to_days(i + 1) AS ts_end, "
                  "'daily' AS workload, 1000 AS requests, 2000000 AS input_tokens, 300000 AS output_tokens "
                  "FROM range(3) t(i)")
    analyze(con, config(tmp_path), "r1")
    s = seg(con, "r1")[0]
    assert s["requests"] == 3000 and s["bucket_rows"] == 3 and s["context_band"] == "<=8K"
    assert s["mean_per_minute"] is None and s["peak_per_minute"] is None and s["coarse_timestamps"] is None
    assert s["quantile_method"] == "histogram"
    assert s["p50_input"] == pytest.approx(2000, rel=0.03)


def test_bad_rules_are_config_errors(con, tmp_path):
    add(con, "s1", STEADY)
    with pytest.raises(ConfigError, match=r"workloads.rules\[0\].where: invalid predicate"):
        analyze(con, config(tmp_path, '[[workloads.rules]]\nname = "x"\nwhere = "no_such_column = 1"\n'), "r1")
    with pytest.raises(ConfigError, match=r"workloads.rules\[0\].where: invalid predicate"):
        analyze(con, config(tmp_path, '[[workloads.rules]]\nname = "x"\nwhere = "segment_id is null"\n'), "r1")
    with pytest.raises(ConfigError, match=r"workloads.rules\[0\].kind: unknown kind"):
        analyze(con, config(tmp_path, '[[workloads.rules]]\nname = "x"\nwhere = "true"\nkind = "poetry"\n'), "r1")
    with pytest.raises(ConfigError, match=r"workloads.rules\[0\].where: (cannot parse|one SQL expression)"):
        analyze(con, config(tmp_path, '[[workloads.rules]]\nname = "x"\nwhere = "true); DROP TABLE usage; (true"\n'),
                "r1")
    assert con.execute("SELECT count(*) FROM usage").fetchone()[0] == 120


def test_rule_on_tags_and_cost_columns(con, tmp_path):
    cfg = config(tmp_path, """
[[workloads.rules]]
name = "hr-bot"
where = "tags['team'] = 'hr' and context_band = '<=8K'"
""")
    add(con, "t", f"SELECT {BASE} + to_minutes(i) AS ts, MAP {{'team': CASE WHEN i < 3 THEN 'hr' ELSE 'it' END}} "
                  "AS tags, 'p' AS project, 10 AS input_tokens, 1 AS output_tokens FROM range(5) t(i)")
    analyze(con, cfg, "r1")
    names = {s["workload"]: s for s in seg(con, "r1")}
    assert names["hr-bot"]["requests"] == 3
    # nothing is priced yet (pricing fills usage_enriched.cost_usd): cost is unknown, never 0
    assert names["hr-bot"]["cost_usd"] is None and names["hr-bot"]["unpriced_requests"] == 3
    v = db.fetch_dicts(con, "SELECT * FROM v_segments")
    assert {r["workload"] for r in v} == set(names) and abs(sum(r["request_share"] for r in v) - 1) < 1e-9


def test_pii_spend_counts_types_only(con, tmp_path):
    add(con, "p", f"SELECT {BASE} + to_minutes(i) AS ts, 'w' AS workload, 100 AS input_tokens, 10 AS output_tokens, "
                  "CASE i % 4 WHEN 0 THEN ['EMAIL_ADDRESS'] WHEN 1 THEN ['EMAIL_ADDRESS', 'CREDIT_CARD'] "
                  "WHEN 2 THEN []::VARCHAR[] END AS pii_types FROM range(8) t(i)")
    analyze(con, config(tmp_path), "r1")
    rows = con.execute("SELECT entity, sensitivity, sum(requests), any_value(workload) FROM v_pii_spend "
                       "GROUP BY ALL ORDER BY ALL").fetchall()
    assert rows == [("(none)", "internal", 2, "w"), ("(not scanned)", None, 2, "w"),
                    ("CREDIT_CARD", "regulated", 2, "w"), ("EMAIL_ADDRESS", "confidential", 2, "w"),
                    ("EMAIL_ADDRESS", "regulated", 2, "w")]
    pii = seg(con, "r1", "sensitivity = 'regulated'")[0]
    assert pii["pii_share"] == 1.0 and seg(con, "r1", "sensitivity = 'internal'")[0]["pii_share"] == 0.0


def test_a_removed_source_rebuilds_everything(con, tmp_path):
    cfg = config(tmp_path)
    add(con, "s1", STEADY)
    add(con, "s2", BURSTY)
    analyze(con, cfg, "r1")
    con.execute("DELETE FROM usage WHERE source_id = 's2'")
    con.execute("DELETE FROM sources WHERE source_id = 's2'")
    res = analyze(con, cfg, "r2")
    assert res.data["full_rebuild"]
    assert [s["workload"] for s in seg(con, "r2")] == ["steady"]
    assert analyze(con, cfg, "r3").data["full_rebuild"] is False
    assert segment.run(con, cfg, "r4", rebuild=True).data["full_rebuild"]
