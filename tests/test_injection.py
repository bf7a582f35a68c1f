"""Mapping names, tag keys and file names come from users' files and flags: always quoted as
identifiers or literals, never pasted into SQL. (Workload and sensitivity rules are the owner's own SQL.)"""

from __future__ import annotations

import json

from _billing import q

NASTY = ['we"ird col', "it's; drop table usage;--", 'x") from usage; select ("', "tab\tand\nnewline"]


def test_column_names_that_look_like_sql(cli, tmp_path, db_path):
    import csv

    f = tmp_path / "odd.csv"
    with f.open("w", newline="") as h:
        w = csv.writer(h)
        w.writerow(["ts", NASTY[0], NASTY[1], NASTY[2], NASTY[3]])
        w.writerow(["2026-10-01T00:00:00Z", "5", "gpt-4o-mini", "hello", "x"])
    r = cli("ingest", f, "--map", "ts=ts", "--map", f"input_tokens={NASTY[0]}", "--map", f"model={NASTY[1]}",
            "--map", f"tags.{NASTY[1]}={NASTY[2]}", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert q(db_path, "select input_tokens, model from usage") == [(5, "gpt-4o-mini")]
    tags = q(db_path, "select tags from usage")[0][0]
    assert tags[NASTY[1]] == "hello" and tags[NASTY[3]] == "x"
    assert q(db_path, "select count(*) from usage") == [(1,)]


def test_file_names_that_look_like_sql(cli, tmp_path, db_path):
    folder = tmp_path / "it's; drop table usage;--"
    folder.mkdir()
    f = folder / "a'b\"c;--.csv"
    f.write_text("ts,n\n2026-10-01T00:00:00Z,3\n")
    r = cli("ingest", folder, "--map", "ts=ts", "--map", "input_tokens=n", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["files"][0]["status"] == "loaded"
    assert q(db_path, "select path from sources") == [(str(f),)]


def test_set_values_are_literals(cli, tmp_path, db_path):
    f = tmp_path / "a.csv"
    f.write_text("ts,n\n2026-10-01T00:00:00Z,3\n")
    evil = "x'); delete from usage; --"
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=n", "--set", f"project={evil}",
            "--set", f"tags.k={evil}", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert q(db_path, "select project, tags['k'] from usage") == [(evil, evil)]


def test_dotted_paths_into_json_are_quoted(cli, tmp_path, db_path):
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"ts": "2026-10-01T00:00:00Z", "u": {"we'ird\"key": 7}}) + "\n")
    r = cli("ingest", f, "--map", "ts=ts", "--map", "input_tokens=u.we'ird\"key", "--db", db_path)
    assert r.exit_code == 0, r.stderr
    assert q(db_path, "select input_tokens from usage") == [(7,)]
