"""litellm: LiteLLM_SpendLogs (CSV, JSON API, JSONL, Parquet) and the daily spend tables."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from _billing import q

LIT = Path(__file__).resolve().parent.parent / "fixtures" / "litellm"
COLS = ("request_id, ts, ts_end, provider, model, project, api_key_id, user_id, session_id, input_tokens, "
        "cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, status, latency_ms, ttft_ms, "
        "billed_cost_usd, kind, grain, requests")


def rows_by_id(db_path: Path) -> dict[str, dict]:
    c = duckdb.connect(str(db_path), read_only=True)
    try:
        cur = c.execute(f"select {COLS}, tags, prompt_chars, pii_types, prompt_sha256 from usage")
        names = [d[0] for d in cur.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    finally:
        c.close()


def test_spend_logs_csv_field_mapping(cli, db_path):
    r = cli("ingest", LIT / "spend_logs.csv", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["files"][0]["format"] == "litellm" and out["files"][0]["rows_loaded"] == 5
    rows = rows_by_id(db_path)
    a = rows["chatcmpl-9xTESTa1"]
    assert a["ts"] == datetime(2025, 5, 6, 9, 12, 1, 120000) and a["ts_end"] == datetime(2025, 5, 6, 9, 12, 2, 940000)
    assert (a["provider"], a["model"], a["project"], a["user_id"]) == ("openai", "gpt-4o-mini", "team_a", "u_42")
    assert a["api_key_id"].startswith("88c1f0e1")
    # chat completions: prompt_tokens already includes the cache reads
    assert (a["input_tokens"], a["cached_input_tokens"], a["output_tokens"], a["reasoning_tokens"]) == (1402, 1024, 128, 0)
    assert a["cache_write_tokens"] is None  # not reported: unknown, never 0
    assert a["status"] == "ok" and a["latency_ms"] == 1820 and a["ttft_ms"] == 490
    assert a["billed_cost_usd"] == Decimal("0.000412") and a["kind"] == "completions"
    assert a["grain"] == "request" and a["requests"] == 1
    assert a["tags"]["model_group"] == "gpt-4o-mini" and a["tags"]["request_tags"] == '["prod","search"]'
    assert a["tags"]["call_type"] == "acompletion" and a["tags"]["cache_hit"] == "False"
    assert a["tags"]["end_user"] == "cust_991" and a["tags"]["key_alias"] == "svc-search"
    assert "requester_ip_address" not in a["tags"] and "10.0.3.7" not in str(a["tags"])


def test_end_user_tag_is_redacted(cli, db_path, tmp_path):
    src = (LIT / "spend_logs.csv").read_text().replace("cust_991", "jo@example.com")
    f = tmp_path / "spend_logs.csv"
    f.write_text(src)
    assert cli("ingest", f, "--db", db_path).exit_code == 0
    assert rows_by_id(db_path)["chatcmpl-9xTESTa1"]["tags"]["end_user"] == "<EMAIL_ADDRESS>"


def test_no_samples_scans_no_text(cli, db_path):
    assert cli("ingest", LIT / "spend_logs.csv", "--no-samples", "--db", db_path).exit_code == 0
    assert q(db_path, "select count(prompt_chars), count(pii_types), count(prompt_fingerprint) from usage") == [(0, 0, 0)]


def test_anthropic_messages_convention_adds_cache_back(cli, db_path):
    assert cli("ingest", LIT / "spend_logs.csv", "--db", db_path).exit_code == 0
    c = rows_by_id(db_path)["msg_01TESTc3"]
    # prompt_tokens 12 excludes 2048 cache reads and 500 cache writes on /v1/messages
    assert (c["input_tokens"], c["cached_input_tokens"], c["cache_write_tokens"]) == (2560, 2048, 500)
    assert c["reasoning_tokens"] == 120 and c["output_tokens"] == 404
    assert c["session_id"] == "sess-cc-1" and c["tags"]["organization_id"] == "org_1"
    # bedrock through the proxy: provider id as genai-prices names it, LiteLLM's name kept
    e = rows_by_id(db_path)["bedrock-TESTe5"]
    assert e["provider"] == "aws" and e["tags"]["litellm_provider"] == "bedrock"
    assert (e["input_tokens"], e["cached_input_tokens"], e["cache_write_tokens"]) == (2100, 0, 1800)


def test_failures_and_nulls(cli, db_path):
    assert cli("ingest", LIT / "spend_logs.csv", "--db", db_path).exit_code == 0
    rows = rows_by_id(db_path)
    b = rows["msg_01TESTb2"]
    assert b["status"] == "error" and b["ttft_ms"] is None and b["latency_ms"] == 30000
    assert b["tags"]["error_code"] == "529" and b["tags"]["error_class"] == "InternalServerError"
    assert b["cached_input_tokens"] is None and b["prompt_chars"] is None and b["pii_types"] is None
    d = rows["emb-TESTd4"]
    assert d["kind"] == "embeddings" and d["api_key_id"] is None and d["user_id"] is None and d["project"] is None
    assert d["cached_input_tokens"] is None and d["reasoning_tokens"] is None


def test_prompt_text_is_scanned_and_never_stored(cli, db_path):
    assert cli("ingest", LIT / "spend_logs.csv", "--db", db_path).exit_code == 0
    rows = rows_by_id(db_path)
    a, c = rows["chatcmpl-9xTESTa1"], rows["msg_01TESTc3"]
    assert a["pii_types"] == ["EMAIL_ADDRESS"] and a["prompt_chars"] == len(
        "You answer questions about orders.\nWhere is my order? Reach me at jane.roe@example.com")
    assert c["pii_types"] == [] and c["prompt_chars"] == len("You are a coding agent.\nFix the failing test in tests/test_api.py")
    dump = str(q(db_path, "select * from usage")) + str(q(db_path, "select * from rejected"))
    assert "jane.roe" not in dump and "failing test" not in dump and "10.0.3.7" not in dump


@pytest.mark.parametrize("name", ["spend_logs_api.json", "spend_logs.jsonl", "spend_logs.parquet"])
def test_every_container_gives_the_same_rows(cli, db_path, tmp_path, name):
    other = tmp_path / "other.duckdb"
    assert cli("ingest", LIT / "spend_logs.csv", "--db", db_path).exit_code == 0
    r = cli("ingest", LIT / name, "--db", other)
    assert r.exit_code == 0, r.stderr
    strip = "select * exclude (event_id, source_id) from usage order by request_id"
    assert q(other, strip) == q(db_path, strip)


def test_reexport_in_another_container_never_double_counts(cli, db_path):
    r = cli("ingest", LIT / "spend_logs.csv", LIT / "spend_logs_api.json", LIT / "spend_logs_page.json",
            "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [f["rows_duplicate"] for f in out["files"]] == [0, 5, 2]
    assert q(db_path, "select count(*) from usage") == [(5,)]


def test_time_zone_flag_applies_to_zone_less_times(cli, db_path):
    r = cli("ingest", LIT / "spend_logs.csv", "--tz", "Europe/Paris", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    a = rows_by_id(db_path)["chatcmpl-9xTESTa1"]
    assert a["ts"] == datetime(2025, 5, 6, 7, 12, 1, 120000)  # CEST is UTC+2
    assert a["ttft_ms"] == 490


def test_daily_team_table_is_bucket_grain(cli, db_path):
    r = cli("ingest", LIT / "daily_team_spend.csv", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select project, ts, ts_end, model, provider, requests, input_tokens, cached_input_tokens, "
                      "cache_write_tokens, output_tokens, billed_cost_usd, kind, grain, status, tags['endpoint'] "
                      "from usage order by project, ts, input_tokens")
    assert rows[0] == ("team_a", datetime(2025, 5, 6), datetime(2025, 5, 7), "gpt-4o-mini", "openai", 930, 880000,
                       512000, 0, 91000, Decimal("0.186"), "completions", "bucket", None, "/chat/completions")
    # /v1/messages rows exclude the cache from prompt_tokens: added back
    assert rows[2][6:9] == (6000 + 900000 + 120000, 900000, 120000)
    assert rows[3][11] == "embeddings" and rows[3][14] == "/embeddings"


def test_a_later_fuller_export_of_the_same_day_replaces_it(cli, db_path, tmp_path):
    assert cli("ingest", LIT / "daily_team_spend.csv", "--db", db_path).exit_code == 0
    lines = (LIT / "daily_team_spend.csv").read_text().splitlines()
    # the same team, day, key, model and endpoint a few hours later: more requests and tokens
    later = lines[1].replace(",5120033,210877,", ",6120033,250877,").replace(",1204,1198,6,", ",1404,1396,8,")
    f = tmp_path / "daily_team_spend_later.csv"
    f.write_text("\n".join([lines[0], later]) + "\n")
    assert cli("ingest", f, "--db", db_path).exit_code == 0
    assert q(db_path, "select count(*), sum(requests) from usage") == [(4, 1404 + 930 + 55 + 400)]


def test_two_daily_tables_warn_about_double_counting(cli, db_path):
    assert cli("ingest", LIT / "daily_team_spend.csv", "--db", db_path).exit_code == 0
    r = cli("ingest", LIT / "daily_user_spend.json", "--db", db_path)
    assert r.exit_code == 0
    assert "DailyTeamSpend" in r.stderr and "counts the same requests again" in r.stderr
    assert q(db_path, "select user_id, project, requests from usage where tags['litellm_table'] = 'DailyUserSpend'") == [
        ("u_42", None, 930)]


def test_bad_rows_rejected_with_reasons(cli, db_path):
    r = cli("ingest", LIT / "bad_rows.csv", "--db", db_path, "--json")
    assert r.exit_code == 1
    got = {row[0]: row[1:] for row in q(db_path, "select source_row, field, source_column, reason, raw from rejected")}
    assert got[2][:2] == ("ts", "startTime") and "missing" in got[2][2]
    assert got[3][:2] == ("input_tokens", "prompt_tokens") and '"lots"' in got[3][2]
    assert got[4][:2] == ("billed_cost_usd", "spend")
    assert got[5][:2] == ("cached_input_tokens", "metadata") and "not valid JSON" in got[5][2]
    assert got[6][0] == "ts" and "yesterday" in got[6][2]
    assert got[7][0] == "output_tokens" and "negative" in got[7][2]
    assert all(len(g[3]) <= 1024 for g in got.values())
    assert q(db_path, "select request_id, status from usage order by source_row") == [("ok-1", "ok"), ("ok-8", "error")]


def test_truncated_jsonl_rejects_the_cut_line_only(cli, db_path):
    r = cli("ingest", LIT / "truncated.jsonl", "--db", db_path, "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)["files"][0]
    assert (out["status"], out["rows_read"], out["rows_loaded"], out["rows_rejected"]) == ("loaded", 4, 3, 1)
    assert q(db_path, "select source_row, field from rejected") == [(5, "record")]  # line 5 (line 4 is blank)
    assert "truncated.jsonl:5: record: not a JSON object" in r.stderr


def test_wrong_types_in_json(cli, db_path):
    r = cli("ingest", LIT / "wrong_types.jsonl", "--db", db_path)
    assert r.exit_code == 1
    got = dict(q(db_path, "select source_row, field from rejected"))
    assert got == {2: "ts", 3: "record"}


def test_truncated_gzip_fails_alone(cli, db_path):
    r = cli("ingest", LIT / "truncated.csv.gz", LIT / "spend_logs.csv", "--db", db_path, "--json")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert [f["status"] for f in out["files"]] == ["failed", "loaded"]
    assert "truncated.csv.gz" in out["files"][0]["error"]


def test_forced_format_on_a_foreign_csv_names_the_missing_column(cli, db_path):
    r = cli("ingest", LIT.parent / "generic" / "overlap_a.csv", "--format", "litellm", "--db", db_path)
    assert r.exit_code == 2
    assert "not a litellm export: no column 'call_type'" in r.stderr


def test_parquet_with_nested_json_columns(cli, db_path, tmp_path):
    # e.g. copied out of Postgres with DuckDB's postgres scanner: jsonb columns arrive as JSON / STRUCT
    f = tmp_path / "spend.parquet"
    c = duckdb.connect()
    try:
        c.execute(f"""copy (
            select 'r-1' as request_id, 'acompletion' as call_type, 'h' as api_key, 0.5::double as spend,
                   100 as prompt_tokens, 7 as completion_tokens, timestamp '2025-05-06 10:00:00' as "startTime",
                   timestamp '2025-05-06 10:00:02' as "endTime", 'gpt-4o' as model, 'openai' as custom_llm_provider,
                   {{'usage_object': {{'prompt_tokens_details': {{'cached_tokens': 64}}}}}} as metadata,
                   ['a', 'b'] as request_tags, '[{{"role": "user", "content": "hi"}}]'::json as messages,
                   'success' as status
        ) to '{f}' (format parquet)""")
    finally:
        c.close()
    r = cli("ingest", f, "--db", db_path)
    assert r.exit_code == 0, r.stderr
    row = rows_by_id(db_path)["r-1"]
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"], row["latency_ms"]) == (100, 64, 7, 2000)
    assert row["prompt_chars"] == 2 and row["tags"]["request_tags"] == '["a","b"]'
