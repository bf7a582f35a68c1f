"""openrouter: generation records, the activity CSV export and /api/v1/activity days."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from _billing import q

OR = Path(__file__).resolve().parent.parent / "fixtures" / "openrouter"


def by_id(db_path: Path) -> dict[str, dict]:
    c = duckdb.connect(str(db_path), read_only=True)
    try:
        cur = c.execute("select * from usage")
        names = [d[0] for d in cur.description]
        return {r[names.index("request_id")]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    finally:
        c.close()


def test_generation_records_field_mapping(cli, db_path):
    r = cli("ingest", OR / "generations.jsonl", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["format"] == "openrouter"
    rows = by_id(db_path)
    a = rows["gen-1736-TESTabcdef"]
    assert a["ts"] == datetime(2025, 1, 12, 8, 1, 55, 120045)
    assert (a["provider"], a["model"], a["user_id"]) == ("openrouter", "anthropic/claude-3.5-sonnet", "u-17")
    # native counts; prompt includes the cached reads; no cache-write figure exists
    assert (a["input_tokens"], a["cached_input_tokens"], a["cache_write_tokens"], a["output_tokens"]) == (4102, 3072, None, 388)
    # a generation's `latency` is its total latency; it carries no time to first token
    assert (a["latency_ms"], a["ttft_ms"], a["billed_cost_usd"]) == (930, None, Decimal("0.00739"))
    assert a["tags"]["generation_time"] == "4210"
    assert a["tags"]["serving_provider"] == "Anthropic" and a["tags"]["tokens_prompt"] == "3900"
    assert a["tags"]["upstream_id"] == "msg_01TESTccc" and a["status"] == "ok" and a["kind"] == "completions"
    b = rows["gen-1736-TESTaaa2"]
    assert (b["output_tokens"], b["reasoning_tokens"], b["service_tier"]) == (240, 180, "default")
    c = rows["gen-1736-TESTaaa3"]
    assert c["status"] == "error" and c["latency_ms"] is None and c["tags"]["is_byok"] == "true"


def test_public_sdk_example(cli, db_path, tmp_path):
    # the generation example of OpenRouter's SDK reference (GenerationResponseData), snake_case as on the wire
    data = {"api_type": "completions", "app_id": 12345, "cache_discount": 0.0002, "cancelled": False,
            "created_at": "2024-07-15T23:33:19.433273+00:00", "data_region": "global", "external_user": "user-123",
            "finish_reason": "stop", "generation_time": 1200, "http_referer": "https://openrouter.ai/",
            "id": "gen-3bhGkxlo4XFrqiabUM7NDtwDzWwG", "is_byok": False, "latency": 1250, "model": "sao10k/l3-stheno-8b",
            "moderation_latency": 50, "native_finish_reason": "stop", "native_tokens_cached": 3,
            "native_tokens_completion": 25, "native_tokens_completion_images": 0, "native_tokens_prompt": 10,
            "native_tokens_reasoning": 5, "num_fetches": 0, "num_input_audio_prompt": 0, "num_media_completion": 0,
            "num_media_prompt": 1, "num_search_results": 5, "origin": "https://openrouter.ai/",
            "preset_id": "a9e8d400-592a-494f-908c-375efa66cafd", "provider_name": "Infermatic",
            "provider_responses": None, "router": "openrouter/auto", "service_tier": "priority", "streamed": True,
            "tokens_completion": 25, "tokens_prompt": 10, "total_cost": 0.0015,
            "upstream_id": "chatcmpl-791bcf62-080e-4568-87d0-94c72e3b4946", "upstream_inference_cost": 0.0012,
            "usage": 0.0015, "user_agent": "Mozilla/5.0", "web_search_engine": "exa"}
    f = tmp_path / "generation.json"
    f.write_text(json.dumps({"data": data}, indent=2))
    r = cli("ingest", f, "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["format"] == "openrouter"
    g = by_id(db_path)["gen-3bhGkxlo4XFrqiabUM7NDtwDzWwG"]
    assert g["ts"] == datetime(2024, 7, 15, 23, 33, 19, 433273)
    assert (g["input_tokens"], g["cached_input_tokens"], g["output_tokens"], g["reasoning_tokens"]) == (10, 3, 25, 5)
    assert (g["latency_ms"], g["service_tier"], g["billed_cost_usd"]) == (1250, "priority", Decimal("0.0015"))
    assert g["tags"]["serving_provider"] == "Infermatic" and g["tags"]["upstream_inference_cost"] == "0.0012"


def test_offsets_are_converted_to_utc(cli, db_path):
    assert cli("ingest", OR / "generations.jsonl", "--db", db_path).exit_code == 0
    d = by_id(db_path)["gen-1736-TESTaaa4"]
    assert d["ts"] == datetime(2025, 1, 12, 23, 0, 2, 500000) and d["kind"] == "embeddings"


def test_arrays_bare_objects_and_the_csv_export_are_the_same_generations(cli, db_path):
    r = cli("ingest", OR / "generations.jsonl", OR / "generations_array.json", OR / "generation_bare.json",
            OR / "activity.csv", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert [f["format"] for f in files] == ["openrouter"] * 4
    assert [(f["rows_read"], f["rows_loaded"], f["rows_duplicate"]) for f in files] == [
        (4, 4, 0), (2, 0, 2), (1, 0, 1), (3, 1, 2)]


def test_activity_csv_mapping(cli, db_path):
    assert cli("ingest", OR / "activity.csv", "--db", db_path).exit_code == 0
    a = by_id(db_path)["gen-1736-TESTabcdef"]
    assert a["ts"] == datetime(2025, 1, 12, 8, 1, 55, 120000)
    assert (a["input_tokens"], a["cached_input_tokens"], a["output_tokens"], a["reasoning_tokens"]) == (4102, 3072, 388, 0)
    assert (a["latency_ms"], a["ttft_ms"], a["billed_cost_usd"], a["api_key_id"]) == (4210, 930, Decimal("0.00739"), "prod-key")
    assert a["tags"]["app_name"] == "Acme Support" and a["tags"]["cost_cache"] == "-0.00829"
    m = by_id(db_path)["gen-1736-TESTaaa5"]
    assert m["cached_input_tokens"] is None and m["reasoning_tokens"] is None  # empty cells: unknown


def test_activity_days_are_buckets(cli, db_path):
    r = cli("ingest", OR / "activity_days.json", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select grain, ts, ts_end, model, requests, input_tokens, output_tokens, reasoning_tokens, "
                      "latency_ms, billed_cost_usd, tags['serving_provider'] from usage order by requests")
    assert rows[0] == ("bucket", datetime(2025, 8, 24), datetime(2025, 8, 25), "openai/gpt-4.1-2025-04-14", 5, 50, 125,
                       25, None, Decimal("0.015"), "OpenAI")


def test_malformed_generations(cli, db_path):
    r = cli("ingest", OR / "bad_generations.jsonl", "--db", db_path)
    assert r.exit_code == 1
    got = {row[0]: row[1:] for row in q(db_path, "select source_row, field, source_column, reason from rejected")}
    assert got[1][:2] == ("ts", "created_at")
    assert got[2][:2] == ("input_tokens", "native_tokens_prompt") and '"n/a"' in got[2][2]
    assert got[3][0] == "cached_input_tokens" and "above input_tokens" in got[3][2]
    assert got[4][0] == "record"
