"""anthropic-usage: Messages usage report pages -> bucket rows in `usage` (fixtures/anthropic-usage)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from _billing import FIXTURES, Loaded, load

AU = FIXTURES / "anthropic-usage"
BAD = AU / "malformed"


@pytest.fixture(scope="module")
def hourly() -> Loaded:
    return load(AU / "messages_1h_by_model_key.json")


@pytest.fixture(scope="module")
def daily() -> Loaded:
    return load(AU / "messages_1d_workspace_tier.jsonl")


def test_canonical_input_is_uncached_plus_cache_read_plus_cache_writes(hourly):
    rows = hourly.q("select ts, ts_end, model, api_key_id, input_tokens, cached_input_tokens, cache_write_tokens, "
                    "output_tokens, requests, grain, provider, kind from usage order by source_row")
    assert rows[0] == (datetime(2025, 3, 4, 10), datetime(2025, 3, 4, 11), "claude-sonnet-4-20250514",
                       "apikey_01TestKeyAAAA", 4210 + 152300 + 18000 + 0, 152300, 18000, 3877, None, "bucket",
                       "anthropic", "messages")
    assert rows[1][2:9] == ("claude-3-5-haiku-20241022", None, 920, 0, 0, 211, None)
    # a 1-hour cache write counts as a cache write too
    assert rows[2][4:8] == (1500 + 30000 + 0 + 2048, 30000, 2048, 900)
    assert hourly.q("select tags from usage where source_row = 3")[0][0] == {
        "uncached_input_tokens": "1500", "cache_creation.ephemeral_5m_input_tokens": "0",
        "cache_creation.ephemeral_1h_input_tokens": "2048", "server_tool_use.web_search_requests": "0"}


def test_there_is_no_request_count_so_requests_stay_null(hourly, daily):
    assert hourly.one("select count(*) from usage where requests is not null") == 0
    assert daily.one("select count(*) from usage where requests is not null") == 0


def test_workspace_is_the_project_and_batch_comes_from_the_service_tier(daily):
    rows = daily.q("select ts, model, project, service_tier, batch, tags['context_window'], tags['inference_geo'] "
                   "from usage order by source_row")
    assert rows == [
        (datetime(2025, 3, 1), "claude-sonnet-4-20250514", "wrkspc_01Support", "standard", False, "0-200k", "global"),
        (datetime(2025, 3, 1), "claude-3-5-haiku-20241022", "wrkspc_01Support", "batch", True, "0-200k", "global"),
        (datetime(2025, 3, 1), "claude-sonnet-4-20250514", "wrkspc_01Legal", "standard", False, "200k-1M", "us"),
        (datetime(2025, 3, 2), "claude-sonnet-4-20250514", "wrkspc_01Support", "priority", False, "0-200k", "global"),
        (datetime(2025, 3, 2), "claude-opus-4-1-20250805", None, "standard", False, "0-200k", "not_available"),
    ]
    assert daily.q("select sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), sum(output_tokens) "
                   "from usage") == [(1450000 + 3000000 + 250000 + 1330000 + 1000, 2300000, 100000, 559100)]
    assert daily.one("select max(ts_end - ts) from usage") == timedelta(days=1)


def test_ungrouped_report_keeps_model_null_and_says_so():
    got = load(AU / "messages_1d_ungrouped.json")
    assert got.q("select model, project, api_key_id, input_tokens from usage") == [(None, None, None, 62000)]
    assert any("name no model" in w for w in got.result.warnings)


def test_gzip_copy_of_the_pages_counts_once():
    got = load(AU / "messages_1d_workspace_tier.jsonl", AU / "messages_1d_workspace_tier.jsonl.gz")
    assert [(r.rows_loaded, r.rows_duplicate) for r in got.results] == [(5, 0), (0, 5)]


def test_rfc3339_times_are_utc_whatever_the_tz_flag():
    got = load(AU / "messages_1h_by_model_key.json", tz="Asia/Tokyo")
    assert got.one("select min(ts) from usage") == datetime(2025, 3, 4, 10)


def test_offsets_other_than_z_are_converted_to_utc(tmp_path):
    page = json.loads((AU / "messages_1h_by_model_key.json").read_text())
    page["data"] = page["data"][:1]
    page["data"][0]["starting_at"] = "2025-03-04T11:00:00+01:00"
    page["data"][0]["ending_at"] = "2025-03-04T12:00:00+01:00"
    f = tmp_path / "offset.json"
    f.write_text(json.dumps(page))
    assert load(f).one("select distinct ts from usage") == datetime(2025, 3, 4, 10)


def test_a_later_export_of_the_same_bucket_replaces_it(tmp_path):
    page = json.loads((AU / "messages_1h_by_model_key.json").read_text())
    page["data"][0]["results"][0]["output_tokens"] = 5000
    page["data"][0]["results"][0]["uncached_input_tokens"] = 6000
    f = tmp_path / "later.json"
    f.write_text(json.dumps(page))
    got = load(AU / "messages_1h_by_model_key.json", f)
    assert got.one("select count(*) from usage") == 3
    assert got.q("select input_tokens, output_tokens from usage where ts = '2025-03-04 10:00:00' "
                 "and model = 'claude-sonnet-4-20250514'") == [(6000 + 152300 + 18000, 5000)]


def test_missing_parts_are_rejected_never_read_as_zero():
    got = load(BAD / "missing_fields.json")
    assert got.reasons() == {
        1: ("cache_write_tokens", "cache_creation.ephemeral_5m_input_tokens",
            "missing cache_creation.ephemeral_5m_input_tokens"),
        2: ("cache_write_tokens", "cache_creation.ephemeral_1h_input_tokens",
            "missing cache_creation.ephemeral_1h_input_tokens"),
        3: ("output_tokens", "output_tokens", "missing output_tokens"),
    }
    assert got.q("select model, input_tokens from usage") == [("claude-sonnet-4-20250514", 100)]


def test_wrong_types_are_rejected():
    got = load(BAD / "wrong_types.json")
    assert got.reasons() == {
        1: ("input_tokens", "uncached_input_tokens", 'expected a non-negative integer, got "4210 tokens"'),
        2: ("output_tokens", "output_tokens", 'expected a non-negative integer, got "-5"'),
        3: ("cached_input_tokens", "cache_read_input_tokens", 'expected a non-negative integer, got "1.5"'),
        5: ("ts", "starting_at", 'unparseable timestamp "not a time"'),
    }
    assert got.one("select model from usage") == "claude-opus-4-20250514"


def test_truncated_report_fails(cli, db_path):
    r = cli("ingest", BAD / "truncated.json", AU / "messages_1d_ungrouped.json", "--db", db_path, "--json")
    assert r.exit_code == 2
    assert [f["status"] for f in json.loads(r.stdout)["files"]] == ["failed", "loaded"]
