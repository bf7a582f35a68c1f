"""Names from the data (workloads, segment ids, models, providers, tags, file names, reasons) containing HTML,
JavaScript and Markdown control characters render inert in every format and every export."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import upstream

from planner import db, export, report
from planner.config import load_config

RUN = "20261102T060000Z-aaaaaa"
EVIL = ("<script>alert(1)</script> | **bold** _u_ [x](javascript:alert(1)) `code` $\\frac{1}{2}$ "
        "--> <!-- # h\n- item ~~s~~ <img src=x onerror=alert(2)> &amp; \\")
EVIL_ID = "seg_<img src=x onerror=alert(3)>|x"
EVIL_MODEL = "\"><svg onload=alert(4)>'; rm -rf / #"
EVIL_PATH = "exports/evil<script>alert(5)</script>|$(touch x).csv"


@pytest.fixture(scope="module")
def evil_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("evil") / "planner.duckdb"
    cfg = load_config(None)
    con = db.connect(path)
    upstream.start_analyze(con, cfg, RUN)
    upstream.add_segment(con, RUN, EVIL_ID, workload=EVIL, kind=EVIL, current="20000",
                         self_host={"model": EVIL_MODEL, "gpu": "h100"},
                         flips=[{"assumption": EVIL, "value": EVIL, "unit": EVIL, "flips_at": EVIL, "sentence": EVIL}],
                         reasons=[EVIL])
    upstream.add_segment(con, RUN, "seg_plain", workload="plain", current="100", decision="stay",
                         chosen="api_current", reasons=[EVIL])
    con.execute("update segment_options set model = ?, provider = ? where option = 'open_model_api'", [EVIL, EVIL])
    con.execute("insert into sources (source_id, path, format, status) values ('s1', ?, 'generic', 'loaded')",
                [EVIL_PATH])
    con.execute("insert into usage (event_id, source_id, grain, ts, provider, model, requests, input_tokens, "
                "output_tokens, status) values (md5('e1')::uuid, 's1', 'request', timestamp '2026-10-01 10:00:00', ?, ?, 1, "
                "100, 10, 'ok')", [EVIL, EVIL])
    con.execute("insert into prompt_samples values (md5('e1')::uuid, 's1', 'k', null, ?, 'h1', ?, 10, 5, [])", [EVIL, EVIL])
    con.execute("insert into assumptions values (?, 'evil.key', ?, ?, ?, 'config')", [RUN, EVIL, EVIL, EVIL])
    # every usage row belongs to the hostile segment (what the segments stage's view column will say)
    con.execute("create or replace view usage_enriched as select u.*, cast(null as varchar) as price_key, "
                "cast(null as decimal(38, 10)) as cost_usd, cast(null as boolean) as priced, '<=8K' as context_band, "
                f"'batch' as mode, {db.quote_literal(EVIL_ID)} as segment_id from usage as u")
    upstream.plan_and_finish(con, cfg, RUN)
    con.close()
    return path


@pytest.fixture(scope="module")
def plan_obj(evil_db):
    con = db.connect(evil_db, read_only=True)
    try:
        return report.build_plan(con, now=datetime(2026, 11, 2, tzinfo=UTC))
    finally:
        con.close()


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_comment(self, data):
        self.comments.append(data)


def test_json_keeps_the_strings_exactly(plan_obj):
    text = report.to_json(plan_obj)
    back = json.loads(text)
    seg = next(s for s in back["segments"] if s["segment_id"] == EVIL_ID)
    assert seg["workload"] == EVIL
    assert back["sources"][0]["path"] == EVIL_PATH


def test_html_has_no_live_markup_from_the_data(plan_obj):
    html = report.render_html(plan_obj)
    parser = Tags()
    parser.feed(html)
    names = {t for t, _ in parser.tags}
    assert "script" not in names and "img" not in names
    assert not parser.comments
    for tag, attrs in parser.tags:
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key)
            assert "javascript:" not in (value or "").lower(), (tag, key)
        if tag == "svg":
            assert ("class", "chart") in attrs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;svg onload=alert(4)&gt;" in html


def test_markdown_escapes_markup_and_keeps_tables_intact(plan_obj):
    md = report.render_markdown(plan_obj)
    for bad in ("<script", "<img", "<svg", "](javascript", "<!--"):
        assert bad not in md
    unescaped_pipe = re.compile(r"(?<!\\)\|")
    header = None
    for line in md.splitlines():
        if line.startswith("|"):
            n = len(unescaped_pipe.findall(line))
            if header is None:
                header = n
            assert n == header, line
        else:
            header = None
    assert "\\*\\*bold\\*\\*" in md and "&lt;script&gt;" in md


def test_router_yaml_quotes_every_data_string(evil_db):
    con = db.connect(evil_db, read_only=True)
    lines = list(export.export(con, "router").lines)
    con.close()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            assert "\n" not in line
            continue
        key, _, value = stripped.lstrip("- ").partition(": ")
        if key in ("model_name", "model", "api_base", "api_key"):
            value = value.split("  # ")[0]
            assert isinstance(json.loads(value), str), line
        if key == "tags":
            assert isinstance(json.loads(value), list), line
    assert any(json.dumps(EVIL, ensure_ascii=False) in line for line in lines)


def test_serve_commands_are_shell_quoted(evil_db):
    con = db.connect(evil_db, read_only=True)
    result = export.export(con, "serve")
    lines = list(result.lines)
    con.close()
    commands = [shlex.split(line) for line in lines if line.startswith("vllm ")]
    assert commands and commands[0][2] == EVIL_MODEL
    comments = [line for line in lines if line.startswith("#")]
    assert all("\n" not in c for c in comments)


def test_eval_set_lines_are_json(evil_db):
    con = db.connect(evil_db, read_only=True)
    lines = list(export.export(con, "eval-set", segments=[EVIL_ID]).lines)
    con.close()
    assert [json.loads(line)["prompt"] for line in lines] == [EVIL]
