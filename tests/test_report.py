"""plan.json, Markdown and HTML: snapshots (fixed clock and seed), schema, determinism, atomic writes, CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import upstream
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from planner import db, report
from planner.config import load_config

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 2, 6, 0, 0, tzinfo=UTC)
RUN1 = "20261102T060000Z-aaaaaa"
RUN2 = "20261103T060000Z-bbbbbb"


class _Text(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT


class JsonSnapshot(_Text):
    file_extension = "json"


class MarkdownSnapshot(_Text):
    file_extension = "md"


class HtmlSnapshot(_Text):
    file_extension = "html"


def schema() -> dict:
    return json.loads((ROOT / "schemas" / "plan.v1.schema.json").read_text())


def validate(plan: dict) -> None:
    jsonschema.validate(plan, schema(), cls=jsonschema.Draft202012Validator)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """Two days of demo traffic through the stand-in upstream stages, analyzed twice (the second run with a
    changed assumption), at a volume where every kind of decision occurs."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "planner.duckdb"
    cfg = load_config(None)
    con = db.connect(path)
    upstream.load_demo(con, folder / "exports", days=2, scale=0.05, config=cfg)
    upstream.standin_analyze(con, cfg, RUN1, volume=10000)
    cfg2 = cfg.with_assumptions({"plan.wave_interval_months": 3}, "config")
    upstream.standin_analyze(con, cfg2, RUN2, volume=12000)
    con.close()
    return path


@pytest.fixture
def ro(demo_db):
    con = db.connect(demo_db, read_only=True)
    yield con
    con.close()


@pytest.fixture
def plan_obj(ro):
    return report.build_plan(ro, now=NOW)


def test_plan_json_validates_against_the_schema(plan_obj):
    jsonschema.Draft202012Validator.check_schema(schema())
    validate(plan_obj)
    assert plan_obj["schema"] == "planner.plan/v1"
    assert plan_obj["run_id"] == RUN2


def test_plan_has_every_design_key(plan_obj):
    assert list(plan_obj)[:13] == ["schema", "run_id", "generated_at", "planner_version", "price_snapshot_date",
                                   "period", "totals", "reconciliation", "assumptions", "segments", "portfolio",
                                   "warnings", "diff"]
    seg = plan_obj["segments"][0]
    assert set(seg["options"]) >= {"api_current", "api_optimized", "open_model_api", "self_host"}
    actions = {s["plan"]["action"] for s in plan_obj["segments"]}
    assert actions == {"self_host", "open_model_api", "api_optimized", "stay"}
    assert [v["multiplier"] for v in plan_obj["portfolio"]["savings_at_volume"]] == [1, 3, 5]


def test_money_is_decimal_strings(plan_obj):
    money = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif key.endswith("_usd"):
            money.append(node)

    walk(plan_obj)
    assert money and all(m is None or (isinstance(m, str) and re.fullmatch(r"-?\d+(\.\d+)?", m)) for m in money)


def test_snapshot_json(plan_obj, snapshot):
    assert report.to_json(plan_obj) == snapshot(extension_class=JsonSnapshot)


def test_snapshot_markdown(plan_obj, snapshot):
    assert report.render_markdown(plan_obj) == snapshot(extension_class=MarkdownSnapshot)


def test_snapshot_html(plan_obj, snapshot):
    assert report.render_html(plan_obj) == snapshot(extension_class=HtmlSnapshot)


def test_rendering_uses_the_plan_object_only(plan_obj, tmp_path):
    """Re-rendering a saved plan.json gives the same HTML and Markdown as rendering the live object."""
    report.write(plan_obj, tmp_path, ["json"])
    saved = report.load(tmp_path / "plan.json")
    assert report.render_markdown(saved) == report.render_markdown(plan_obj)
    assert report.render_html(saved) == report.render_html(plan_obj)


def test_same_database_gives_byte_identical_plan_json(ro):
    a = report.to_json(report.build_plan(ro, now=NOW))
    b = report.to_json(report.build_plan(ro, now=datetime(2027, 1, 1, tzinfo=UTC)))
    strip = re.compile(r'"generated_at": "[^"]*"')
    assert a != b and strip.sub("", a) == strip.sub("", b)


def test_rerunning_analyze_gives_the_same_plan_apart_from_run_ids(tmp_path):
    cfg = load_config(None)
    con = db.connect(tmp_path / "p.duckdb")
    upstream.load_demo(con, tmp_path / "exports", days=1, scale=0.05, config=cfg)
    texts = []
    for run in ("20261102T060000Z-000001", "20261102T070000Z-000002", "20261102T080000Z-000003"):
        upstream.standin_analyze(con, cfg, run, volume=10000)
        texts.append(report.to_json(report.build_plan(con, run, now=NOW)))
    con.close()

    def strip(text: str) -> str:
        return re.sub(r'"run_id": "[^"]*"', '"run_id": ""', text)

    # the second and third runs each diff against an identical previous plan
    assert strip(texts[1]) == strip(texts[2])
    assert json.loads(texts[2])["diff"]["decisions"] == []


def test_diff_is_at_the_top_of_every_report(plan_obj):
    d = plan_obj["diff"]
    assert d["run_id"] == RUN1
    assert {"key": "plan.wave_interval_months", "from": "2", "to": "3", "unit": "months between wave starts"} \
        in d["assumptions"]
    md = report.render_markdown(plan_obj)
    html = report.render_html(plan_obj)
    assert md.index("## What changed") < md.index("## Headline")
    assert f"Since run `{RUN1}`" in md
    assert html.index('id="diff"') < html.index('id="headline"')


def test_html_is_self_contained_and_printable(plan_obj):
    html = report.render_html(plan_obj)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    assert "@media print" in html
    assert html.count('<svg class="chart"') == 6
    assert "<!--" not in html


def test_charts_are_deterministic(plan_obj):
    from planner import charts

    assert charts.render_all(plan_obj) == charts.render_all(plan_obj)


def test_write_replaces_files_atomically(plan_obj, tmp_path, monkeypatch):
    report.write(plan_obj, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"plan.json", "plan.md", "plan.html"}

    def boom(_plan):
        raise RuntimeError("crash while rendering")

    monkeypatch.setattr(report, "render_html", boom)
    changed = dict(plan_obj, run_id="20270101T000000Z-ffffff")
    with pytest.raises(RuntimeError):
        report.write(changed, tmp_path)
    assert (tmp_path / "plan.html").read_bytes() == before["plan.html"]
    assert "20270101T000000Z-ffffff" in (tmp_path / "plan.json").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.html", "plan.json", "plan.md"]


def test_cli_report_writes_the_chosen_formats(cli, demo_db, tmp_path):
    out = tmp_path / "out"
    r = cli("report", "--db", demo_db, "--out", out, "--format", "json,md")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["plan.json", "plan.md"]
    assert "wrote" in r.stderr and r.stdout == ""
    validate(json.loads((out / "plan.json").read_text()))


def test_cli_report_older_run_and_bad_format(cli, demo_db, tmp_path):
    r = cli("report", "--db", demo_db, "--out", tmp_path / "o", "--format", "json", "--run", "20261102")
    assert r.exit_code == 0, r.stderr
    assert json.loads((tmp_path / "o" / "plan.json").read_text())["run_id"] == RUN1
    bad = cli("report", "--db", demo_db, "--out", tmp_path / "o", "--format", "pdf")
    assert bad.exit_code == 2 and "expected a comma list" in bad.stderr
    missing = cli("report", "--db", demo_db, "--run", "1999")
    assert missing.exit_code == 2 and "no plan for run" in missing.stderr


def test_cli_report_without_a_plan(cli, tmp_path):
    con = db.connect(tmp_path / "empty.duckdb")
    con.close()
    r = cli("report", "--db", tmp_path / "empty.duckdb")
    assert r.exit_code == 2
    assert r.stderr.startswith("planner: error: no plan in this database yet")


def test_formatting_filters():
    assert report.usd("1234.5") == "$1,235"
    assert report.usd("12.345") == "$12.35"
    assert report.usd("-1758.33") == "−$1,758"
    assert report.usd(None) == "unknown"
    assert report.dec(report.Decimal("0E-10")) == "0"
    assert report.dec(report.Decimal("49378.3400000000")) == "49378.34"
    assert report.md_escape("a|b <i>*x*</i> [l](u)") == "a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt; \\[l\\]\\(u\\)"


EXAMPLE_NOW = "2026-11-01T06:00:00Z"


@pytest.mark.slow
def test_example_report_is_what_its_documented_command_writes(tmp_path):
    """reports/example/ is the demo's report, written by the commands in docs/demo.md:
    `PLANNER_NOW=... planner demo --out reports/demo` then `PLANNER_NOW=... planner report --db
    reports/demo/planner.duckdb --out reports/example` (run from the repository root)."""
    env = {**os.environ, "PLANNER_NOW": EXAMPLE_NOW}
    demo = subprocess.run([sys.executable, "-m", "planner", "demo", "--out", "reports/demo", "--quiet"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert demo.returncode in (0, 1), demo.stderr
    rep = subprocess.run([sys.executable, "-m", "planner", "report", "--db", "reports/demo/planner.duckdb",
                          "--out", "reports/example", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr
    for name in ("plan.json", "plan.md", "plan.html"):
        written = (tmp_path / "reports" / "example" / name).read_bytes()
        assert written == (ROOT / "reports" / "example" / name).read_bytes(), name
