"""`planner export`: eval-set, router, serve and trace, from the stand-in demo plan."""

from __future__ import annotations

import json
import math
import shlex

import pytest
import upstream

from planner import db, export
from planner.config import load_config

RUN = "20261102T060000Z-aaaaaa"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    path = folder / "planner.duckdb"
    cfg = load_config(None)
    con = db.connect(path)
    upstream.load_demo(con, folder / "exports", days=2, scale=0.05, config=cfg)
    upstream.standin_analyze(con, cfg, RUN, volume=10000)
    # redacted samples as the ingest stage keeps them: 260 for the self-hosted segment, 10 for another
    # (in place of the ones the ingest kept, so the counts below are exact)
    con.execute("delete from prompt_samples")
    sh = con.execute("select segment_id from plan_segments where action = 'self_host' order by segment_id "
                     "limit 1").fetchone()[0]
    other = con.execute("select segment_id from plan_segments where action = 'open_model_api' order by segment_id "
                        "limit 1").fetchone()[0]
    for seg, n in ((sh, 260), (other, 10)):
        con.execute(
            "insert into prompt_samples select event_id, source_id, workload, prompt_fingerprint, workload, "
            "md5(CAST(event_id AS VARCHAR)), 'Extract the fields from ticket <EMAIL_ADDRESS> please', 50, output_tokens, "
            "['EMAIL_ADDRESS'] from usage_enriched where segment_id = ? order by event_id limit ?", [seg, n])
    con.close()
    return path, sh, other


@pytest.fixture
def ro(demo_db):
    con = db.connect(demo_db[0], read_only=True)
    yield con
    con.close()


def test_eval_set_samples_the_segments_the_plan_moves(ro, demo_db):
    _, sh, other = demo_db
    result = export.export(ro, "eval-set", max_per_segment=200)
    rows = [json.loads(line) for line in result.lines]
    per = {}
    for r in rows:
        per.setdefault(r["segment_id"], []).append(r)
    available = min(260, ro.execute("select count(*) from usage_enriched where segment_id = ?", [sh]).fetchone()[0])
    assert len(per[sh]) == min(200, available)
    assert [r["sample_id"] for r in per[sh]] == sorted(r["sample_id"] for r in per[sh])
    assert len(per[other]) == min(10, ro.execute("select count(*) from usage_enriched where segment_id = ?",
                                                 [other]).fetchone()[0])
    first = per[sh][0]
    assert first["prompt"] == "Extract the fields from ticket <EMAIL_ADDRESS> please"
    assert first["candidate_model"] == "llama-3.1-8b" and first["action"] == "self_host"
    assert first["current_provider"] and first["current_model"]
    assert any(other in w and "fewer than 50" in w for w in result.warnings)
    assert len(per[sh]) < 50 or not any(sh in w for w in result.warnings)
    moved = {r[0] for r in ro.execute("select segment_id from plan_segments where action in "
                                      "('self_host', 'open_model_api')").fetchall()}
    assert set(per) <= moved


def test_eval_set_named_segment_and_cap(ro, demo_db):
    _, sh, _ = demo_db
    rows = list(export.export(ro, "eval-set", segments=[sh], max_per_segment=5).lines)
    assert len(rows) == 5 and {json.loads(r)["segment_id"] for r in rows} == {sh}


def test_router_routes_moved_segments_by_tag_and_falls_back(ro, demo_db):
    _, sh, _ = demo_db
    text = "\n".join(export.export(ro, "router").lines)
    assert text.startswith("# LiteLLM proxy config from planner run")
    assert '"hosted_vllm/meta-llama/Llama-3.1-8B-Instruct"' in text
    assert '"os.environ/PLANNER_LLAMA_3_1_8B_L40SX1_API_BASE"' in text
    assert f'"{sh}"' in text
    assert 'tags: ["default"' in text
    assert "enable_tag_filtering: true" in text
    assert '- {"ticket-extraction": ["ticket-extraction-api"]}' in text
    assert "sk-" not in text  # keys stay in the environment


def test_serve_commands_carry_parallelism_and_context(ro):
    lines = list(export.export(ro, "serve").lines)
    cmds = [shlex.split(line) for line in lines if line.startswith("vllm ")]
    assert len(cmds) == 1
    cmd = cmds[0]
    assert cmd[:3] == ["vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct"]
    opts = {flag: cmd[i + 1] for i, flag in enumerate(cmd[:-1]) if flag.startswith("--")}
    assert opts["--tensor-parallel-size"] == "1"
    assert opts["--max-model-len"] == "32768"
    assert opts["--quantization"] == "fp8" and opts["--kv-cache-dtype"] == "fp8"
    assert "--enable-prefix-caching" in cmd
    assert any(line.startswith("# llama-3.1-8b@l40sx1: 2 replica(s)") for line in lines)


def test_trace_is_a_mooncake_replay_of_the_segment(ro):
    seg = ro.execute("select segment_id from segments where workload = 'support-chat' and sensitivity = 'internal' "
                     "and context_band = '<=8K' and run_id = ?", [RUN]).fetchone()[0]
    lines = [json.loads(line) for line in export.export(ro, "trace", segments=[seg]).lines]
    usage = ro.execute("select input_tokens, output_tokens, cached_input_tokens from usage_enriched "
                       "where segment_id = ? and status = 'ok' order by ts, event_id", [seg]).fetchall()
    assert len(lines) == len(usage)
    assert list(lines[0]) == ["timestamp", "input_length", "output_length", "hash_ids"]
    assert lines[0]["timestamp"] == 0
    assert all(a["timestamp"] <= b["timestamp"] for a, b in zip(lines, lines[1:], strict=False))
    for line, (inp, out, _cached) in zip(lines, usage, strict=True):
        assert (line["input_length"], line["output_length"]) == (inp, out)
        assert len(line["hash_ids"]) == math.ceil(inp / 512)
    # support-chat has a 2,048-token cached system prompt: requests with it share their first 4 block ids
    shared = [tuple(line["hash_ids"][:4]) for line, u in zip(lines, usage, strict=True) if (u[2] or 0) >= 2048]
    assert len(shared) > 10 and len(set(shared)) == 1
    rest = [i for line in lines for i in line["hash_ids"][4:]]
    assert len(rest) == len(set(rest))


def test_trace_limit(ro):
    seg = ro.execute("select segment_id from plan_segments order by segment_id limit 1").fetchone()[0]
    assert len(list(export.export(ro, "trace", segments=[seg], limit=3).lines)) <= 3


def test_cli_export_to_a_file_and_errors(cli, demo_db, tmp_path):
    path, sh, _ = demo_db
    out = tmp_path / "router.yaml"
    r = cli("export", "router", "--db", path, "--out", out)
    assert r.exit_code == 0, r.stderr
    assert out.read_text().startswith("# LiteLLM proxy config") and r.stdout == ""
    t = cli("export", "trace", "--db", path, "--segment", sh, "--limit", "2")
    assert t.exit_code == 0 and len(t.stdout.splitlines()) == 2
    assert cli("export", "trace", "--db", path).exit_code == 2
    bad = cli("export", "pdf", "--db", path)
    assert bad.exit_code == 2 and "unknown kind" in bad.stderr
    missing = cli("export", "eval-set", "--db", path, "--segment", "seg_nope")
    assert missing.exit_code == 2 and "no such segment" in missing.stderr
    ev = cli("export", "eval-set", "--db", path)
    assert ev.exit_code == 1 and "fewer than 50" in ev.stderr  # findings: a thin evaluation set


def test_trace_of_a_segment_without_request_rows_warns(ro):
    seg = ro.execute("select segment_id from plan_segments order by segment_id limit 1").fetchone()[0]
    catalog = ro.execute("select current_database()").fetchone()[0]
    # a read-only database takes temp objects only: a view shadowing usage_enriched with bucket rows
    ro.execute(f"create or replace temp view usage_enriched as select * replace ('bucket' as grain) "
               f'from "{catalog}".main.usage_enriched')
    result = export.export(ro, "trace", segments=[seg])
    assert list(result.lines) == [] and "nothing to replay" in result.warnings[0]
