"""bedrock: model invocation logs (JSONL .gz from S3, JSON arrays, concatenated CloudWatch objects)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
from _billing import q

BED = Path(__file__).resolve().parent.parent / "fixtures" / "bedrock"


def by_request(db_path: Path) -> dict[str, dict]:
    c = duckdb.connect(str(db_path), read_only=True)
    try:
        cur = c.execute("select * from usage")
        names = [d[0] for d in cur.description]
        return {r[names.index("request_id")][-1]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    finally:
        c.close()


def test_s3_delivery_jsonl_gz_field_mapping(cli, db_path):
    r = cli("ingest", BED / "invocations.jsonl.gz", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["format"] == "bedrock"
    rows = by_request(db_path)
    a = rows["1"]
    assert a["ts"] == datetime(2025, 7, 1, 14, 2, 11) and a["provider"] == "aws"
    assert a["model"] == "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    assert a["tags"]["base_model"] == "anthropic.claude-3-7-sonnet-20250219-v1:0"
    assert a["tags"]["model_vendor"] == "anthropic" and a["tags"]["inference_region"] == "us-east-2"
    assert a["user_id"] == "arn:aws:sts::111122223333:assumed-role/app-role/i-0abc"
    assert a["request_id"] == "5e0c1a2b-0000-4c11-9d00-000000000001"
    # inputTokenCount is the uncached part only
    assert (a["input_tokens"], a["cached_input_tokens"], a["cache_write_tokens"], a["output_tokens"]) == (2060, 2048, 0, 96)
    assert a["latency_ms"] == 1840 and a["status"] == "ok" and a["grain"] == "request" and a["requests"] == 1
    assert a["project"] is None and a["billed_cost_usd"] is None


def test_cache_writes_arn_profiles_and_streams(cli, db_path):
    assert cli("ingest", BED / "invocations.jsonl.gz", "--db", db_path).exit_code == 0
    rows = by_request(db_path)
    c = rows["3"]  # the Claude Code pattern: 3 uncached + 31814 written to the cache
    assert (c["input_tokens"], c["cache_write_tokens"], c["cached_input_tokens"]) == (31817, 31814, 0)
    assert c["model"].startswith("arn:aws:bedrock:") and c["tags"]["base_model"] == "anthropic.claude-sonnet-4-20250514-v1:0"
    d = rows["4"]
    assert (d["latency_ms"], d["ttft_ms"], d["output_tokens"]) == (612, 288, 3)


def test_old_logs_without_cache_fields_keep_nulls(cli, db_path):
    assert cli("ingest", BED / "invocations.jsonl.gz", "--db", db_path).exit_code == 0
    f = by_request(db_path)["6"]
    assert f["ts"] == datetime(2024, 11, 20, 23, 59, 58)
    assert (f["input_tokens"], f["cached_input_tokens"], f["cache_write_tokens"]) == (18, None, None)
    b = by_request(db_path)["2"]
    assert b["kind"] == "embeddings" and b["prompt_chars"] is None and b["pii_types"] is None  # no body logged


def test_errors_are_kept_as_failed_requests(cli, db_path):
    assert cli("ingest", BED / "invocations.jsonl.gz", "--db", db_path).exit_code == 0
    e = by_request(db_path)["5"]
    assert e["status"] == "error" and e["tags"]["error_code"] == "ThrottlingException"
    assert e["input_tokens"] is None and e["output_tokens"] is None


def test_prompt_bodies_are_scanned_never_stored(cli, db_path):
    assert cli("ingest", BED / "invocations.jsonl.gz", "--db", db_path).exit_code == 0
    rows = by_request(db_path)
    assert rows["1"]["prompt_chars"] == len("You summarise support tickets.\nSummarise ticket 4411")
    assert rows["3"]["pii_types"] == ["PHONE_NUMBER"]
    assert rows["3"]["prompt_chars"] == len("You are a coding assistant.\nCall me back on +1 415-555-0134 about the build")
    assert rows["7"]["pii_types"] == ["US_SSN"]
    assert rows["6"]["prompt_chars"] == len("<|begin_of_text|>Translate to French: good morning")
    dump = str(q(db_path, "select * from usage"))
    for secret in ("415-555-0134", "123-45-6789", "ticket 4411", "late refund", "Bonjour"):
        assert secret not in dump


def test_arrays_and_pretty_printed_objects_are_the_same_events(cli, db_path):
    r = cli("ingest", BED / "invocations.jsonl.gz", BED / "invocations_array.json", BED / "cloudwatch_pretty.json",
            "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert [f["format"] for f in files] == ["bedrock"] * 3
    assert [(f["rows_read"], f["rows_duplicate"]) for f in files] == [(7, 0), (2, 2), (2, 2)]


def test_malformed_records(cli, db_path):
    r = cli("ingest", BED / "bad_records.jsonl", "--db", db_path)
    assert r.exit_code == 1
    got = {row[0]: row[1:] for row in q(db_path, "select source_row, field, source_column, reason from rejected")}
    assert got[2] == ("model", "modelId", "missing modelId")
    assert got[3] == ("input_tokens", "input.inputTokenCount", "missing input.inputTokenCount")
    assert got[4][0] == "input_tokens" and '"twelve"' in got[4][2]
    assert got[5][0] == "ts" and "01/07/2025" in got[5][2]
    assert got[6][0] == "record" and "not a JSON object" in got[6][2]
    assert q(db_path, "select request_id from usage") == [("bad-1",)]


def test_truncated_archive_fails_alone(cli, db_path):
    r = cli("ingest", BED / "truncated.jsonl.gz", BED / "invocations.jsonl.gz", "--db", db_path, "--json")
    assert r.exit_code == 2
    assert [f["status"] for f in json.loads(r.stdout)["files"]] == ["failed", "loaded"]


def test_base_model_sql(con):
    from planner.ingest.bedrock import base_model_sql

    cases = {
        "anthropic.claude-3-5-sonnet-20240620-v1:0": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "eu.anthropic.claude-3-7-sonnet-20250219-v1:0": "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "apac.amazon.nova-lite-v1:0": "amazon.nova-lite-v1:0",
        "us-gov.anthropic.claude-3-haiku-20240307-v1:0": "anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-1-70b-instruct-v1:0": "meta.llama3-1-70b-instruct-v1:0",
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5": None,
    }
    for model, want in cases.items():
        assert con.execute(f"select {base_model_sql('m')} from (select ? as m)", [model]).fetchone()[0] == want, model


def test_cloudwatch_exports_carry_the_same_records(cli, db_path):
    r = cli("ingest", BED / "invocations.jsonl.gz", BED / "cloudwatch_filter_log_events.json",
            BED / "logs_insights.csv", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert [f["format"] for f in files] == ["bedrock"] * 3
    assert [(f["rows_read"], f["rows_duplicate"]) for f in files] == [(7, 0), (3, 3), (2, 2)]


def test_cloudwatch_page_alone_maps_like_s3(cli, db_path):
    assert cli("ingest", BED / "cloudwatch_filter_log_events.json", "--db", db_path).exit_code == 0
    rows = by_request(db_path)
    assert (rows["1"]["input_tokens"], rows["1"]["cached_input_tokens"]) == (2060, 2048)
    assert rows["3"]["pii_types"] == ["PHONE_NUMBER"]
    assert q(db_path, "select source_row from usage order by 1") == [(1,), (2,), (3,)]


def test_public_example_record(cli, db_path, tmp_path):
    # a Converse record as shown in a public AWS user-group talk (text masked there; date made valid here)
    record = ('{"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2025-04-29T23:00:17Z", '
              '"accountId": "654654377904", "identity": {"arn": "arn:aws:sts::xxxx"}, "region": "us-east-1", '
              '"requestId": "915a6a04-3f83-4c70-a277-7fbf7ea546b3", "operation": "Converse", '
              '"modelId": "anthropic.claude-3-haiku-20240307-v1:0", "input": {"inputContentType": "application/json", '
              '"inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "xxxx"}]}]}, "inputTokenCount": 35}, '
              '"output": {"outputContentType": "application/json", "outputBodyJson": {"output": {"message": '
              '{"role": "assistant", "content": [{"text": "yyyy"}]}}, "stopReason": "end_turn", "metrics": '
              '{"latencyMs": 3640}, "usage": {"inputTokens": 35, "outputTokens": 446, "totalTokens": 481}}, '
              '"outputTokenCount": 446}, "requestMetadata": {"traceId": "b956002a-fd01-47ba-9da7-07e4c9b1a6b6"}}')
    f = tmp_path / "000001.json"
    f.write_text(record + "\n")
    r = cli("ingest", f, "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["format"] == "bedrock"
    row = by_request(db_path)["3"]
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"], row["latency_ms"]) == (35, None, 446, 3640)
    assert row["tags"]["request_metadata"] == '{"traceId":"b956002a-fd01-47ba-9da7-07e4c9b1a6b6"}'
    assert row["prompt_chars"] == 4


def test_cloudwatch_export_task_lines(cli, db_path):
    r = cli("ingest", BED / "cloudwatch_export_task.gz", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["format"] == "bedrock"
    rows = by_request(db_path)
    assert rows["6"]["input_tokens"] == 18 and rows["7"]["pii_types"] == ["US_SSN"]
