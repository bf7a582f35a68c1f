"""The generic adapter: any CSV / JSONL / JSON / Parquet log through a column mapping (DESIGN §5.3)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from _billing import q

GEN = Path(__file__).resolve().parent.parent / "fixtures" / "generic"

GATEWAY_MAP = ["--map", "ts=Start Time", "--map", "request_id=Request Id", "--map", "model=Model Name",
               "--map", "input_tokens=Prompt Tokens", "--map", "cached_input_tokens=Cached Tokens",
               "--map", "output_tokens=Completion Tokens", "--map", "project=Team", "--map", "latency_ms=Latency ms",
               "--set", "provider=openai"]
BAD_MAP = ["--map", "ts=ts", "--map", "request_id=request_id", "--map", "input_tokens=input_tokens",
           "--map", "output_tokens=output_tokens", "--map", "cached_input_tokens=cached_input_tokens",
           "--map", "reasoning_tokens=reasoning_tokens"]


def test_csv_with_bom_crlf_quotes_spaces_and_offsets(cli, db_path):
    r = cli("ingest", GEN / "gateway.csv", *GATEWAY_MAP, "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select source_row, ts, model, project, input_tokens, cached_input_tokens, output_tokens, "
                      "latency_ms, tags, provider, grain, requests from usage order by source_row")
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    # 7 fractional digits, +02:00, zone-less (UTC), 9 digits with -05:00
    assert [r[1] for r in rows] == [datetime(2025, 3, 4, 10, 0, 0, 123456), datetime(2025, 3, 4, 9, 30, 0, 500000),
                                    datetime(2025, 3, 4, 10, 5), datetime(2025, 3, 4, 15, 6, 0, 123456)]
    assert rows[0][8] == {"Notes": 'said "hi", then left'}
    assert rows[2][3] == "ops, emea"
    # empty cells are unknown (NULL), never 0
    assert rows[1][5] is None and rows[1][7] is None and rows[3][6] is None
    assert rows[2][5] == 0
    assert {r[9] for r in rows} == {"openai"}
    assert {r[10] for r in rows} == {"request"} and {r[11] for r in rows} == {1}


@pytest.mark.parametrize("name", ["semicolon.csv", "tabs.tsv", "pipe.csv"])
def test_csv_delimiters(cli, db_path, name):
    r = cli("ingest", GEN / name, "--map", "ts=ts", "--map", "model=model", "--map", "input_tokens=in",
            "--map", "output_tokens=out", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert q(db_path, "select sum(input_tokens), sum(output_tokens), count(*) from usage") == [(300, 30, 2)]


def test_compressed_copies_load_once(cli, db_path):
    r = cli("ingest", GEN / "gateway.csv.gz", GEN / "gateway.csv.zst", GEN / "gateway.csv", *GATEWAY_MAP,
            "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [f["status"] for f in out["files"]] == ["loaded", "loaded", "loaded"]
    assert [f["rows_loaded"] for f in out["files"]] == [4, 0, 0]
    assert [f["rows_duplicate"] for f in out["files"]] == [0, 4, 4]
    assert q(db_path, "select count(*), sum(input_tokens) from usage") == [(4, 7300)]


def test_jsonl_nested_paths_and_tags(cli, db_path):
    r = cli("ingest", GEN / "requests.jsonl", "--map", "ts=created", "--map", "request_id=id",
            "--map", "input_tokens=usage.prompt_tokens", "--map", "output_tokens=usage.completion_tokens",
            "--map", "cached_input_tokens=usage.prompt_tokens_details.cached_tokens", "--map", "user_id=user",
            "--map", "model=model", "--map", "tags.team=metadata.team", "--set", "provider=openai", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select request_id, input_tokens, cached_input_tokens, output_tokens, user_id, tags['team'], "
                      "tags['usage'] from usage order by source_row")
    assert rows[0][:6] == ("chatcmpl-a1", 1200, 1024, 80, "u1", "search")
    assert rows[1][2] == 0 and rows[1][4] is None
    assert rows[2][2] is None and rows[2][5] == "ops"
    assert rows[0][6] is None  # the parent of mapped nested fields is not copied into tags


def test_json_array_with_epoch_seconds(cli, db_path):
    r = cli("ingest", GEN / "requests.json", "--map", "ts=time", "--map", "request_id=id", "--map", "input_tokens=input",
            "--map", "output_tokens=output", "--map", "model=model", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select ts, input_tokens, output_tokens from usage order by source_row")
    assert rows[0] == (datetime(2025, 3, 4, 10, 0), 100, 10)
    assert rows[2][2] is None


def test_parquet_typed_columns(cli, db_path):
    r = cli("ingest", GEN / "requests.parquet", "--map", "ts=ts", "--map", "request_id=request_id",
            "--map", "input_tokens=input_tokens", "--map", "output_tokens=output_tokens", "--map", "model=model",
            "--map", "billed_cost_usd=cost", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select source_row, ts, input_tokens, output_tokens, billed_cost_usd, tags from usage order by 1")
    assert rows[1][1] == datetime(2025, 3, 4, 10, 0, 1, 500000)
    assert rows[1][4] == Decimal("0.002")
    assert rows[2][2] is None and rows[2][4] is None
    assert rows[0][5] == {"meta": '{"team":"a"}'}


@pytest.mark.parametrize(("name", "unit", "ts_col", "inp", "out"), [
    ("relative_seconds.csv", "s", "Timestamp", "Request tokens", "Response tokens"),
    ("relative_ms.jsonl", "ms", "timestamp", "input_length", "output_length"),
])
def test_relative_timestamps(cli, db_path, name, unit, ts_col, inp, out):
    r = cli("ingest", GEN / name, "--map", f"ts={ts_col}", "--map", f"input_tokens={inp}",
            "--map", f"output_tokens={out}", "--ts-unit", unit, "--ts-origin", "2025-01-01T00:00:00Z", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    ts = [row[0] for row in q(db_path, "select ts from usage order by source_row")]
    if unit == "s":
        assert ts == [datetime(2025, 1, 1, 0, 0, 5), datetime(2025, 1, 1, 0, 0, 46), datetime(2025, 1, 1, 0, 0, 46, 500000)]
    else:
        assert ts == [datetime(2025, 1, 1), datetime(2025, 1, 1, 0, 0, 0, 412000), datetime(2025, 1, 1, 0, 0, 1, 999000)]


def test_relative_timestamps_without_unit_are_rejected_with_a_hint(cli, db_path):
    r = cli("ingest", GEN / "relative_ms.jsonl", "--map", "ts=timestamp", "--map", "input_tokens=input_length",
            "--db", db_path)
    assert r.exit_code == 1
    reasons = [row[0] for row in q(db_path, "select reason from rejected order by source_row")]
    assert len(reasons) == 3 and all("--ts-unit" in reason for reason in reasons)


def test_zone_less_text_in_a_named_zone(cli, db_path):
    r = cli("ingest", GEN / "local_times.csv", "--map", "ts=ts", "--map", "input_tokens=input_tokens",
            "--tz", "America/New_York", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    ts = [row[0] for row in q(db_path, "select ts from usage order by source_row")]
    assert ts[0] == datetime(2025, 3, 4, 14, 0)   # EST, UTC-5
    assert ts[2] == datetime(2025, 11, 2, 6, 30)  # the repeated hour resolves to standard time


def test_bad_rows_are_rejected_with_reasons_and_good_rows_load(cli, db_path):
    r = cli("ingest", GEN / "bad_rows.csv", *BAD_MAP, "--db", db_path, "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["totals"]["rows_read"] == 11
    assert out["totals"]["rows_loaded"] == 3 and out["totals"]["rows_rejected"] == 8
    assert "bad_rows.csv:2: ts: unparseable timestamp" in r.stderr
    got = {row[0]: row[1:] for row in q(db_path, "select source_row, field, source_column, reason, raw from rejected")}
    assert got[2][0] == "ts" and "unparseable" in got[2][2]
    assert got[3][0] == "input_tokens" and '"12k"' in got[3][2]
    assert got[4][0] == "input_tokens" and "negative" in got[4][2]
    assert got[5][0] == "cached_input_tokens" and "above" in got[5][2]
    assert got[6][0] == "reasoning_tokens"
    assert got[7][0] == "input_tokens" and "100.5" in got[7][2]
    assert got[8][0] == "ts" and "2015" in got[8][2]
    assert got[10][0] == "ts" and "missing" in got[10][2]
    assert all(len(g[3]) <= 1024 and g[3].startswith("{") for g in got.values())
    loaded = q(db_path, "select request_id, input_tokens, output_tokens from usage order by source_row")
    assert loaded == [("b1", 100, 10), ("b9", 1000, 100), ("b11", 100, 10)]


def test_unparseable_file_fails_alone(cli, db_path):
    r = cli("ingest", GEN / "semicolon.csv", GEN / "truncated.csv.gz", GEN / "garbage.csv", GEN / "pipe.csv",
            "--map", "ts=ts", "--map", "input_tokens=in", "--db", db_path, "--json")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert [f["status"] for f in out["files"]] == ["loaded", "failed", "failed", "loaded"]
    assert "truncated.csv.gz" in out["files"][1]["error"]
    assert len([line for line in r.stderr.splitlines() if line.startswith("planner: error:")]) == 2
    assert q(db_path, "select count(*) from usage") == [(4,)]


def test_reingesting_a_file_is_a_no_op(cli, db_path):
    assert cli("ingest", GEN / "gateway.csv", *GATEWAY_MAP, "--db", db_path).exit_code == 0
    before = q(db_path, "select * exclude (tags) from usage order by event_id")
    r = cli("ingest", GEN / "gateway.csv", *GATEWAY_MAP, "--db", db_path, "--json")
    assert json.loads(r.stdout)["files"][0]["status"] == "skipped"
    assert q(db_path, "select * exclude (tags) from usage order by event_id") == before
    assert q(db_path, "select count(*) from sources") == [(1,)]


def test_overlapping_files_never_double_count(cli, db_path):
    for name in ("overlap_a.csv", "overlap_b.csv"):
        r = cli("ingest", GEN / name, "--map", "ts=ts", "--map", "request_id=request_id",
                "--map", "input_tokens=input_tokens", "--map", "output_tokens=output_tokens", "--db", db_path)
        assert r.exit_code == 0
    assert q(db_path, "select count(*), sum(input_tokens) from usage") == [(3, 60)]
    assert q(db_path, "select rows_loaded, rows_duplicate from sources order by path") == [(2, 0), (1, 1)]


def test_copies_of_an_event_at_different_time_precisions_count_once(cli, db_path, tmp_path):
    """One export keeps microseconds, another milliseconds: the stored copy of the file's last event lies
    just past the new file's time window and must still be found."""
    a, b = tmp_path / "micro.csv", tmp_path / "milli.csv"
    a.write_text("request_id,ts,input_tokens\nr1,2025-03-04T10:00:00.000100Z,5\nr2,2025-03-04T10:00:00.999999Z,7\n")
    b.write_text("request_id,ts,input_tokens\nr1,2025-03-04T10:00:00.000Z,5\nr2,2025-03-04T10:00:00.999Z,7\n")
    for f in (a, b):
        r = cli("ingest", f, "--map", "ts=ts", "--map", "request_id=request_id", "--map", "input_tokens=input_tokens",
                "--db", db_path)
        assert r.exit_code == 0, r.stderr
    assert q(db_path, "select count(*), count(distinct event_id), sum(input_tokens) from usage") == [(2, 2, 12)]


def test_unmapped_column_is_a_clear_error(cli, db_path):
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "input_tokens=input tokens", "--db", db_path)
    assert r.exit_code == 2
    assert "no column 'input tokens'" in r.stderr and "did you mean 'input_tokens'" in r.stderr


def test_missing_required_mapping(cli, db_path):
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "input_tokens=input_tokens", "--db", db_path)
    assert r.exit_code == 2 and "--map ts=COLUMN" in r.stderr
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "project=request_id", "--db", db_path)
    assert r.exit_code == 2 and "input_tokens" in r.stderr


def test_unknown_field_and_bad_constant(cli, db_path):
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "input_token=input_tokens", "--db", db_path)
    assert r.exit_code == 2 and "did you mean 'input_tokens'" in r.stderr
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "input_tokens=input_tokens",
            "--set", "batch=maybe", "--db", db_path)
    assert r.exit_code == 2 and "--set batch=maybe" in r.stderr


def test_prompt_text_is_scanned_and_never_stored(cli, db_path, tmp_path):
    f = tmp_path / "prompts.csv"
    f.write_text('ts,tokens,text\n2025-03-04T10:00:00Z,10,"mail jane.doe@example.com now"\n'
                 "2025-03-04T10:00:01Z,12,plain words\n")
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=tokens", "--map", "prompt=text", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    rows = q(db_path, "select prompt_chars, pii_types, tags, prompt_sha256 is not null from usage order by source_row")
    assert rows[0][0] == len("mail jane.doe@example.com now") and rows[0][1] == ["EMAIL_ADDRESS"] and rows[0][3]
    assert rows[1][1] == [] and rows[0][2] == {} and rows[1][2] == {}
    dump = str(q(db_path, "select * from usage")) + str(q(db_path, "select * from sources"))
    assert "jane.doe" not in dump and "plain words" not in dump


def test_bucket_grain_via_set(cli, db_path, tmp_path):
    f = tmp_path / "daily.csv"
    f.write_text("day,n,inp\n2025-03-04,10,1000\n2025-03-05,20,2000\n")
    r = cli("ingest", f, "--map", "ts=day", "--map", "requests=n", "--map", "input_tokens=inp", "--set", "grain=bucket",
            "--set", "provider=openai", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert q(db_path, "select grain, requests, input_tokens from usage order by ts") == [
        ("bucket", 10, 1000), ("bucket", 20, 2000)]
    # the same buckets from another file are the same events
    g = tmp_path / "daily2.csv"
    g.write_text("day,n,inp\n2025-03-05,20,2000\n")
    cli("ingest", g, "--map", "ts=day", "--map", "requests=n", "--map", "input_tokens=inp", "--set", "grain=bucket",
        "--set", "provider=openai", "--db", db_path)
    assert q(db_path, "select count(*) from usage") == [(2,)]


def test_a_later_more_complete_bucket_replaces_the_earlier_one(cli, db_path, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("day,n,inp\n2025-03-05,5,500\n")
    b.write_text("day,n,inp\n2025-03-05,20,2000\n")
    args = ["--map", "ts=day", "--map", "requests=n", "--map", "input_tokens=inp", "--set", "grain=bucket",
            "--db", db_path]
    cli("ingest", a, *args)
    cli("ingest", b, *args)
    cli("ingest", a, *args)
    assert q(db_path, "select requests, input_tokens from usage") == [(20, 2000)]


def test_json_summary_matches_design(cli, db_path):
    r = cli("ingest", GEN / "overlap_a.csv", "--map", "ts=ts", "--map", "input_tokens=input_tokens", "--db", db_path,
            "--json")
    out = json.loads(r.stdout)
    assert set(out) == {"files", "totals"}
    assert set(out["files"][0]) == {"path", "format", "source_id", "status", "rows_read", "rows_loaded",
                                    "rows_rejected", "rows_duplicate", "error"}
    for k in ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate"):
        assert k in out["totals"]


def test_folders_are_walked_recursively(cli, db_path, tmp_path):
    root = tmp_path / "exports"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "x.csv").write_text("ts,inp\n2025-03-04T10:00:00Z,5\n")
    (root / "y.csv").write_text("ts,inp\n2025-03-04T10:00:01Z,7\n")
    (root / "README.md").write_text("not data")
    (root / ".hidden.csv").write_text("ts,inp\n2025-03-04T10:00:01Z,9\n")
    r = cli("ingest", root, "--map", "ts=ts", "--map", "input_tokens=inp", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert q(db_path, "select sum(input_tokens) from usage") == [(12,)]


def test_a_bad_value_after_the_type_sniffing_sample_is_a_row_error(cli, db_path, tmp_path):
    f = tmp_path / "long.csv"
    lines = ["request_id,ts,tokens"] + [f"r{i},2025-03-04T10:00:00Z,{i}" for i in range(30_000)]
    lines.insert(25_001, "bad,2025-03-04T10:00:00Z,12k")
    f.write_text("\n".join(lines) + "\n")
    r = cli("ingest", f, "--map", "request_id=request_id", "--map", "ts=ts", "--map", "input_tokens=tokens",
            "--db", db_path, "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)["files"][0]
    assert (out["rows_read"], out["rows_loaded"], out["rows_rejected"]) == (30_001, 30_000, 1)
    assert q(db_path, "select source_row, field from rejected") == [(25_001, "input_tokens")]
    assert q(db_path, "select source_row from usage where request_id = 'r29999'") == [(30_001,)]


def test_tags_drop_missing_values_and_keep_every_column(cli, db_path, tmp_path):
    # rows with every tag value take a struct cast, rows with a gap the general path: same maps.
    # A key named twice (a mapped tag beside an unmapped column of that name) keeps both values;
    # DuckDB reads the header `region` after `Region` as `region_1`.
    f = tmp_path / "tags.csv"
    f.write_text("ts,tok,feature,other,Region,region\n"
                 "2026-01-01T00:00:00Z,5,a,b,EU,eu\n"
                 "2026-01-01T00:00:01Z,6,,b,,us\n"
                 "2026-01-01T00:00:02Z,7,,,,\n")
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=tok", "--map", "tags.feature=other", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    tags = [t for (t,) in q(db_path, "select tags from usage order by source_row")]
    assert tags[2] == {}
    assert [sorted(t.items()) for t in tags[:2]] == [
        [("Region", "EU"), ("feature", "b"), ("feature_1", "a"), ("region_1", "eu")],
        [("feature", "b"), ("region_1", "us")],
    ]


def test_tags_fast_path_matches_the_general_one(cli, db_path, tmp_path):
    f = tmp_path / "tags.csv"
    f.write_text('ts,tok,team,"odd ""key"".x"\n2026-01-01T00:00:00Z,5,search,1\n2026-01-01T00:00:01Z,6,ops,\n')
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=tok", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert [t for (t,) in q(db_path, "select tags from usage order by source_row")] == [
        {"team": "search", 'odd "key".x': "1"}, {"team": "ops"}]


def test_tag_keys_equal_but_for_case_take_the_general_path():
    import duckdb

    from planner.ingest._stage import _tags_sql

    sql = _tags_sql([("a", "'x'"), ("A", "'y'"), ("b", "CAST(NULL AS VARCHAR)")])
    assert "struct_pack(\"a\"" not in sql
    assert duckdb.connect().execute(f"SELECT {sql}").fetchone()[0] == {"a": "x", "A": "y"}


def test_iso_time_column_read_typed_still_rejects_a_late_bad_value(cli, db_path, tmp_path):
    # the reader types an ISO column from its sample; a bad value past the sample makes it read the
    # file again as text, and that one row is rejected with its reason
    f = tmp_path / "late.csv"
    rows = [f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.1234567Z,{i}" for i in range(30_000)]
    rows[25_000] = "yesterday,7"
    f.write_text("ts,tok\n" + "\n".join(rows) + "\n")
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=tok", "--db", db_path)
    assert r.exit_code == 1
    assert q(db_path, "select count(*), min(ts) from usage") == [(29_999, datetime(2026, 1, 1, 0, 0, 0, 123456))]
    assert q(db_path, "select source_row, field from rejected") == [(25_001, "ts")]


def test_day_month_times_are_not_guessed(cli, db_path, tmp_path):
    # the sniffer would read 04/03/2025 with a guessed format; planner reads ISO text only
    f = tmp_path / "dm.csv"
    f.write_text("ts,tok\n04/03/2025 10:00:00,1\n13/03/2025 10:00:00,2\n")
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=tok", "--db", db_path)
    assert r.exit_code == 1
    assert q(db_path, "select count(*) from usage") == [(0,)]
    assert q(db_path, "select count(*) from rejected where field = 'ts'") == [(2,)]
