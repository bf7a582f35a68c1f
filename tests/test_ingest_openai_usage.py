"""openai-usage: Usage API pages of every kind -> bucket rows in `usage` (fixtures/openai-usage)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from _billing import FIXTURES, Loaded, load

OU = FIXTURES / "openai-usage"
BAD = OU / "malformed"


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return load(OU / "completions_1h_grouped.json")


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return load(OU / "every_kind.json")


def test_hourly_buckets_become_bucket_rows_stamped_with_their_window(grouped):
    r = grouped.result
    assert (r.format, r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == ("openai-usage", "loaded", 4, 4, 0)
    rows = grouped.q("select source_row, grain, ts, ts_end, provider, kind from usage order by source_row")
    start = datetime(2025, 1, 1, 1)  # 1735693200 s, UTC
    assert [x[0] for x in rows] == [1, 2, 3, 4]  # the empty bucket holds no result: nothing to number
    assert {(x[1], x[4], x[5]) for x in rows} == {("bucket", "openai", "completions")}
    assert [x[2] for x in rows] == [start] * 3 + [start + timedelta(hours=2)]
    assert all(x[3] - x[2] == timedelta(hours=1) for x in rows)


def test_input_tokens_stay_the_total_and_cache_parts_are_never_added_twice(grouped):
    totals = grouped.q("select sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), "
                       "sum(output_tokens), sum(requests), sum(reasoning_tokens) from usage")
    assert totals == [(109340, 7168, 512, 34112, 273, None)]
    row = grouped.q("select input_tokens, cached_input_tokens, cache_write_tokens, tags['input_uncached_tokens'] "
                    "from usage where model = 'gpt-4.1-2025-04-14'")
    assert row == [(5000, 1024, 512, "3464")]  # 3464 + 1024 + 512 = 5000, as the source says


def test_group_by_fields_are_kept_as_the_source_wrote_them(grouped):
    rows = grouped.q("select model, project, batch, service_tier, api_key_id, user_id from usage order by source_row")
    assert rows == [
        ("gpt-4o-mini-2024-07-18", "proj_T3stAbc", False, "default", None, None),
        ("o3-mini-2025-01-31", "proj_T3stAbc", True, "default", None, None),
        ("gpt-4.1-2025-04-14", "proj_0ther", False, "flex", None, None),
        ("gpt-4o-mini-2024-07-18", "proj_T3stAbc", False, "default", None, None),
    ]
    assert grouped.result.warnings == []


def test_a_null_model_stays_null_and_the_user_is_told(tmp_path):
    got = load(OU / "completions_1d_ungrouped.jsonl")
    assert got.result.rows_loaded == 3
    assert got.q("select count(*) filter (where model is null), sum(input_tokens), sum(requests) from usage") == \
        [(3, 900000, 2300)]
    assert got.q("select distinct project, batch, service_tier from usage") == [(None, None, None)]
    assert any("3 of 3 result(s) name no model" in w for w in got.result.warnings)


def test_every_kind_keeps_its_measure_in_tags_and_no_invented_tokens(kinds):
    rows = {r[0]: r[1:] for r in kinds.q(
        "select kind, count(*), sum(requests), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens) "
        "from usage group by kind")}
    assert rows == {
        "embeddings": (1, 900, 250000, None, None), "moderations": (1, 40, 12000, None, None),
        "images": (2, 15, None, None, None), "audio_speeches": (1, 30, None, None, None),
        "audio_transcriptions": (1, 25, None, None, None), "vector_stores": (1, None, None, None, None),
        "code_interpreter_sessions": (1, None, None, None, None), "file_searches": (1, None, None, None, None),
        "web_searches": (1, None, None, None, None),
    }
    tags = {r[0]: r[1] for r in kinds.q("select kind, tags from usage where kind not in ('images', 'embeddings', "
                                        "'moderations')")}
    assert tags["audio_speeches"] == {"characters": "45000"}
    assert tags["audio_transcriptions"] == {"seconds": "3600"}
    assert tags["vector_stores"] == {"usage_bytes": "1073741824"}
    assert tags["code_interpreter_sessions"] == {"num_sessions": "7"}
    assert tags["file_searches"] == {"num_requests": "55", "vector_store_id": "vs_abc123"}
    # web search calls ride on requests already counted under completions: their count stays a tag
    assert tags["web_searches"] == {"num_model_requests": "20", "num_requests": "31", "context_level": "medium"}
    images = kinds.q("select tags from usage where kind = 'images' order by source_row")
    assert [t[0] for t in images] == [{"images": "12", "size": "1024x1024", "source": "image.generation"},
                                      {"images": "3", "size": "1792x1024", "source": "image.generation"}]
    assert kinds.result.warnings == []


def test_bare_bucket_arrays_and_key_user_grouping(tmp_path):
    got = load(OU / "buckets_only.json")
    assert got.q("select api_key_id, user_id, input_tokens from usage order by source_row") == [
        ("key_abc123", "user-Xyz123", 4000), ("key_abc123", "user-Xyz123", 2000), ("key_def456", None, 700)]


def test_an_older_snapshot_without_cache_write_leaves_it_null(tmp_path):
    got = load(OU / "legacy_fields.json")
    assert got.q("select input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, batch from usage") == \
        [(64000, 12800, None, 9000, None)]


def test_compressed_copies_are_the_same_buckets(tmp_path):
    got = load(OU / "completions_1h_grouped.json", OU / "completions_1h_grouped.json.gz",
               OU / "completions_1d_ungrouped.jsonl", OU / "completions_1d_ungrouped.jsonl.zst")
    assert [(r.rows_loaded, r.rows_duplicate) for r in got.results] == [(4, 0), (0, 4), (3, 0), (0, 3)]
    assert got.one("select count(*) from usage") == 7


@pytest.mark.parametrize("order", [("partial", "final"), ("final", "partial")])
def test_a_re_exported_day_replaces_the_partial_one_and_never_double_counts(tmp_path, order):
    files = [OU / "reexport" / f"2025-01-05_{name}.json" for name in order]
    got = load(*files)
    assert got.q("select model, requests, input_tokens, output_tokens from usage order by model") == [
        ("gpt-4.1-2025-04-14", 5, 3000, 200), ("gpt-4o-mini-2024-07-18", 180, 18000, 1800)]


def test_the_time_zone_flag_does_not_move_unix_seconds(tmp_path):
    got = load(OU / "buckets_only.json", tz="America/New_York")
    assert got.one("select min(ts) from usage") == datetime(2025, 1, 1, 1)


def test_missing_fields_are_rejected_with_the_field_named(tmp_path):
    got = load(BAD / "missing_fields.json")
    assert (got.result.rows_read, got.result.rows_loaded, got.result.rows_rejected) == (4, 1, 3)
    reasons = got.reasons()
    assert reasons[1] == ("output_tokens", "output_tokens", "missing output_tokens (required in completions results)")
    assert reasons[2][0:2] == ("kind", "object") and "missing object" in reasons[2][2]
    assert reasons[3] == ("tags.images", "images", "missing images (required in images results)")
    assert got.result.first_error.startswith("row 1: output_tokens: missing output_tokens")


def test_wrong_types_are_rejected_with_the_value_quoted(tmp_path):
    got = load(BAD / "wrong_types.json")
    reasons = {row: (f, reason) for row, (f, _, reason) in got.reasons().items()}
    assert reasons == {
        1: ("input_tokens", 'expected a non-negative integer, got "12k"'),
        2: ("requests", 'expected a non-negative integer, got "-3"'),
        3: ("batch", 'expected true or false, got "maybe"'),
        4: ("cached_input_tokens", "cache reads (500) above input_tokens (100)"),
        5: ("tags.images", 'expected a non-negative integer, got "three"'),
        7: ("ts", 'unparseable timestamp "yesterday"'),
    }
    assert got.q("select source_row, output_tokens from usage") == [(6, 7)]
    raw = json.loads(got.one("select raw from rejected where source_row = 1"))
    assert raw["input_tokens"] == "12k" and raw["start_time"] == "1735693200"


def test_milliseconds_where_seconds_belong_are_named(tmp_path):
    got = load(BAD / "start_time_in_ms.json")
    assert got.reasons()[1] == ("ts", "start_time", "start_time looks like Unix milliseconds; the API writes Unix seconds")


def test_a_costs_result_in_a_usage_page_is_rejected_not_guessed(tmp_path):
    got = load(BAD / "costs_result_in_usage.json")
    assert got.result.format == "openai-usage"
    assert got.reasons()[2][2] == "a Costs API result in a usage file: load it with --format openai-costs"
    assert got.one("select count(*) from usage") == 1


def test_a_truncated_page_fails_alone_and_files_around_it_load(cli, db_path):
    r = cli("ingest", OU / "buckets_only.json", BAD / "truncated.json", OU / "legacy_fields.json", "--db", db_path,
            "--json")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert [f["status"] for f in out["files"]] == ["loaded", "failed", "loaded"]
    assert "truncated.json: cannot parse" in out["files"][1]["error"]
    assert "planner: error:" in r.stderr and "truncated.json" in r.stderr


def test_map_is_refused_and_set_applies(cli, db_path):
    r = cli("ingest", OU / "legacy_fields.json", "--format", "openai-usage", "--map", "ts=start_time",
            "--db", db_path)
    assert r.exit_code == 2 and "--map" in r.stderr
    r = cli("ingest", OU / "legacy_fields.json", "--format", "openai-usage", "--set", "workload=support",
            "--db", db_path)
    assert r.exit_code == 0, r.stderr


def test_set_constant_lands_in_its_column(tmp_path):
    got = load(OU / "legacy_fields.json", sets={"workload": "support"})
    assert got.one("select workload from usage") == "support"


def test_checks_pass_after_loading_every_fixture(tmp_path):
    from planner.db import load_sql

    got = load(*sorted(p for p in OU.rglob("*.json*") if "malformed" not in p.parts))
    for check in ("checks/check_usage__unique_event", "checks/check_usage__token_subsets"):
        assert got.q(load_sql(check)) == []


def test_identity_of_a_bucket_ignores_its_measures(tmp_path):
    """A re-export with a larger image count must replace the bucket, not add a second one."""
    first = json.loads((OU / "every_kind.json").read_text())
    later = json.loads((OU / "every_kind.json").read_text())
    later[2]["data"][0]["results"][0]["images"] = 20
    later[2]["data"][0]["results"][0]["num_model_requests"] = 20
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(first))
    b.write_text(json.dumps(later))
    got = load(a, b)
    assert got.q("select tags['images'], requests from usage where kind = 'images' order by 1") == [("20", 20),
                                                                                                    ("3", 3)]


def test_file_rows_are_numbered_across_pages(tmp_path):
    got = load(OU / "completions_1d_ungrouped.jsonl")
    assert got.q("select source_row, ts from usage order by source_row") == [
        (1, datetime(2025, 1, 1)), (2, datetime(2025, 1, 2)), (3, datetime(2025, 1, 3))]




def test_the_same_hours_cut_by_another_group_by_are_flagged():
    got = load(OU / "completions_1d_ungrouped.jsonl", OU / "completions_1h_grouped.json", OU / "every_kind.json")
    warnings = got.results[1].warnings
    assert len(warnings) == 1 and warnings[0].startswith("overlaps 1 loaded file(s) (first: ")
    assert "completions_1d_ungrouped.jsonl) for the same openai completions periods" in warnings[0]
    assert "(this file: batch, model, project, service_tier; loaded: none)" in warnings[0]
    assert got.results[2].warnings == []  # other kinds, other traffic


def test_the_same_hours_in_another_bucket_width_are_flagged(tmp_path):
    page = json.loads((OU / "completions_1h_grouped.json").read_text())
    day = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1735689600, "end_time": 1735776000,
         "results": page["data"][0]["results"]}]}
    f = tmp_path / "daily.json"
    f.write_text(json.dumps(day))
    got = load(OU / "completions_1h_grouped.json", f)
    assert any("another bucket width (this file: 1 day; loaded: 01:00:00)" in w for w in got.results[1].warnings)
