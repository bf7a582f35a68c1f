"""PII detection in SQL, the detect stage, prompt samples, and that values are never stored."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

from planner import db, sensitivity
from planner.config import load_config
from planner.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

# key-shaped test data, assembled so the repository holds no literal that looks like a live key
FAKE_KEY = "sk-" + "proj-abcdefghijklmnopqrstuvwx1234"


def detect(*texts: str) -> list[list[str]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (n INTEGER, x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    return [r[0] for r in con.execute(f"SELECT {sensitivity.pii_types_sql('x')} FROM t ORDER BY n").fetchall()]


def redact(text: str) -> str:
    con = duckdb.connect()
    return con.execute(f"SELECT {sensitivity.redact_sql('x')} FROM (SELECT ? AS x)", [text]).fetchone()[0]


@pytest.mark.parametrize("text,expected", [
    ("write to jane.doe+news@mail.example.co.uk today", ["EMAIL_ADDRESS"]),
    ("card 4111 1111 1111 1111 exp 09/27", ["CREDIT_CARD"]),
    ("amex 3782-822463-10005", ["CREDIT_CARD"]),
    ("SSN: 536-22-1234", ["US_SSN"]),
    ("social security number 536221234", ["US_SSN"]),
    ("IBAN DE89 3704 0044 0532 0130 00 please", ["IBAN_CODE"]),
    ("pay GB82WEST12345698765432", ["IBAN_CODE"]),
    ("from 192.168.10.20 at noon", ["IP_ADDRESS"]),
    ("host 2001:db8:85a3::8a2e:370:7334 down", ["IP_ADDRESS"]),
    ("call (415) 555-0134", ["PHONE_NUMBER"]),
    ("ring +44 20 7946 0958", ["PHONE_NUMBER"]),
    ("Telefon: 030 12345678", ["PHONE_NUMBER"]),
    ("appelez le 06 12 34 56 78", ["PHONE_NUMBER"]),
    ("call 001-555-123-4567x891", ["PHONE_NUMBER"]),
    ("driver's license number D1234567", ["US_DRIVER_LICENSE"]),
    ("drivers license WDLABCD456DG", ["US_DRIVER_LICENSE"]),         # Washington's letters-first shape
    ("my key is " + FAKE_KEY, ["API_KEY"]),
    ("aws AKIAIOSFODNN7EXAMPLE", ["API_KEY"]),
    ("please contact 536-22-1234 about it", ["US_SSN"]),             # a phone word, but an SSN's shape
    ("contact 4111 1111 1111 1111 today", ["CREDIT_CARD"]),
    ("please contact DE89 3704 0044 0532 0130 00 about it", ["IBAN_CODE"]),
    ("My number is 345 12 34 567", ["PHONE_NUMBER"]),
    ("Card no. 4111 1111 1111 1111", ["CREDIT_CARD"]),               # "no." bridges to "card"
    ("Telefon Nr. 030 1234567", ["PHONE_NUMBER"]),
    ("1. call  555-123-4567 now", ["PHONE_NUMBER"]),
])
def test_detects(text, expected):
    assert detect(text) == [expected]


@pytest.mark.parametrize("text", [
    "order 4111111111111112 shipped",            # Luhn fails
    "SKU 4006381333931 restocked",                # an EAN, even if it passed Luhn
    "SSN 000-12-3456", "SSN 666-12-3456", "SSN 912-12-3456", "SSN 123-00-4567", "SSN 123-45-0000",
    "IBAN DE89 3704 0044 0532 0130 01",           # mod-97 fails
    "upgrade to version 1.2.3.4 tonight",          # a version, not an address
    "build 10.0.19045.2965",
    "meeting at 12:30:45 in room 4",
    "std::vector<int> v;",
    "MAC 00:1A:2B:3C:4D:5E",
    "date 2024-03-15 and 15.03.2024",
    "Ticket ID 2024-118-3345 closed",
    "order no. 555-123-4567 is late",              # "no." bridges to "order"
    "the NHS number 943 476 5919",
    "booking ref 555 123 4567",
    "1. order 555-123-4567",
    "account id 4111 1111 1111 1111",
    "Case 0410-37-281 pending",
    "Invoice INV-2024-000123 total $1,234.56",
    "ISBN 978-3-16-148410-0",
    "plain words about the weather",
    "driver license valid until 2027",
])
def test_tricky_negatives(text):
    found = detect(text)[0]
    assert not set(found) & set(sensitivity.HIGH_SENSITIVITY), (text, found)


def test_null_and_clean():
    con = duckdb.connect()
    assert con.execute(f"SELECT {sensitivity.pii_types_sql('x')} FROM (SELECT NULL::VARCHAR AS x)").fetchone()[0] is None
    assert detect("nothing here")[0] == []
    assert detect("a@b.co and 4111 1111 1111 1111 and (415) 555-0134")[0] == [
        "EMAIL_ADDRESS", "CREDIT_CARD", "PHONE_NUMBER"]


def test_redaction_removes_every_value():
    text = ("mail jane.doe@example.com, card 4111 1111 1111 1111, ssn 536-22-1234, iban DE89 3704 0044 0532 0130 00, "
            "ip 10.1.2.3, phone +44 20 7946 0958, DL: D1234567, key " + FAKE_KEY)
    out = redact(text)
    for value in ("jane.doe", "4111", "536-22", "DE89", "10.1.2.3", "7946", "D1234567", "abcdefghij"):
        assert value not in out, (value, out)
    assert "<EMAIL_ADDRESS>" in out and "<CREDIT_CARD>" in out and "<PHONE_NUMBER>" in out and "mail" in out


def test_corpus_meets_targets():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import pii_eval
    finally:
        sys.path.remove(str(ROOT / "bench"))
    records = pii_eval.load(sorted((ROOT / "fixtures" / "pii").glob("*.jsonl")), {})
    assert len(records) > 1000
    res = pii_eval.evaluate(records, pii_eval.detect(records))
    assert res["record_level"]["precision"] >= 0.95 and res["record_level"]["recall"] >= 0.95
    for t in sensitivity.HIGH_SENSITIVITY:
        assert res["per_type"][t]["recall"] >= 0.9, t
    # every span in the corpus points at real text
    for line in (ROOT / "fixtures" / "pii" / "corpus.jsonl").read_text().splitlines()[:50]:
        r = json.loads(line)
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]].strip() == r["text"][s["start"]:s["end"]]


# ---------------------------------------------------------------- the detect stage

def add(con, source_id, rows):
    """rows: (project, workload, pii_types or None, declared sensitivity or None)."""
    con.execute("INSERT INTO sources (source_id, path, status) VALUES (?, ?, 'loaded')", [source_id, source_id])
    con.executemany(
        "INSERT INTO usage (event_id, source_id, grain, ts, requests, project, workload, pii_types, sensitivity, tags, "
        "request_id) VALUES (md5(?)::uuid, ?, 'request', TIMESTAMP '2026-03-02 10:00:00', 1, ?, ?, ?, ?, MAP {}, ?)",
        [(f"{source_id}-{i}", source_id, p, w, t, s, f"{source_id}-{i}") for i, (p, w, t, s) in enumerate(rows)])


def cfg(tmp_path, text=""):
    p = tmp_path / "planner.toml"
    p.write_text(text)
    return load_config(p)


def classes(con):
    # request_id holds the row's label (event ids are UUIDs of it)
    return con.execute("SELECT request_id, sensitivity, sensitivity_source, allow_third_party FROM usage "
                       "ORDER BY request_id").fetchall()


def test_policy_rules_then_declared_then_detection(con, tmp_path):
    add(con, "a", [
        ("legal", None, [], None),                       # rule wins over clean detection
        ("web", None, ["EMAIL_ADDRESS"], None),           # confidential entity
        ("web", None, ["EMAIL_ADDRESS", "US_SSN"], None),  # regulated wins
        ("web", None, [], None),                          # clean -> internal
        ("web", None, None, None),                        # no text, no rule -> unknown
        ("web", None, None, "public"),                    # the source's own label
        ("legal", None, None, "public"),                  # a rule beats the source's label
    ])
    c = cfg(tmp_path, """
[sensitivity]
[[sensitivity.rules]]
where = "project = 'legal'"
sensitivity = "regulated"
allow_third_party = false
""")
    with db.transaction(con):
        res = sensitivity.run(con, c, "r1")
    assert classes(con) == [
        ("a-0", "regulated", "rule", False), ("a-1", "confidential", "detected", None),
        ("a-2", "regulated", "detected", None), ("a-3", "internal", "detected", None),
        ("a-4", None, None, None), ("a-5", "public", "declared", None), ("a-6", "regulated", "rule", False),
    ]
    assert res.data["rows_classified"] == 7 and any("no sensitivity class" in w for w in res.warnings)
    # incremental: nothing to do the second time
    with db.transaction(con):
        assert sensitivity.run(con, c, "r2").data["rows_classified"] == 0
    add(con, "b", [("web", None, ["IBAN_CODE"], None)])
    with db.transaction(con):
        assert sensitivity.run(con, c, "r3").data["rows_classified"] == 1
    # a new policy: every row again; the source's label survives the earlier overwrite
    c2 = cfg(tmp_path, '[sensitivity]\ndefault = "internal"\nclean = "public"\n')
    with db.transaction(con):
        assert sensitivity.run(con, c2, "r4").data["rows_classified"] == 8
    got = {e: (s, src) for e, s, src, _ in classes(con)}
    assert got["a-0"] == ("public", "detected") and got["a-4"] == ("internal", "default")
    assert got["a-6"] == ("public", "declared") and got["b-0"] == ("regulated", "detected")


def test_bad_sensitivity_rule(con, tmp_path):
    add(con, "a", [("web", None, [], None)])
    c = cfg(tmp_path, '[[sensitivity.rules]]\nwhere = "nope = 1"\nsensitivity = "public"\n')
    with pytest.raises(ConfigError, match=r"sensitivity.rules\[0\].where: invalid predicate"):
        sensitivity.run(con, c, "r1")


# ---------------------------------------------------------------- ingest: samples, no values stored

PII_VALUES = ["jane.doe@example.com", "4111 1111 1111 1111", "536-22-1234", "DE89 3704 0044 0532 0130 00",
              "+44 20 7946 0958", "10.20.30.40"]


def write_prompts(path: Path, rows: list[tuple[int, str, str]]) -> Path:
    lines = ["ts,tokens,feature,text"]
    for i, feature, text in rows:
        lines.append(f'2026-03-02T10:{i // 60:02d}:{i % 60:02d}Z,{10 + i},{feature},"{text}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def prompts(n: int, start: int = 0) -> list[tuple[int, str, str]]:
    out = []
    for i in range(start, start + n):
        value = PII_VALUES[i % len(PII_VALUES)]
        out.append((i, "support" if i % 2 else "search", f"question {i} about my account, contact {value} thanks"))
    return out


MAP_ARGS = ["--map", "ts=ts", "--map", "input_tokens=tokens", "--map", "workload=feature", "--map", "prompt=text"]


def test_values_never_stored_and_samples_redacted(cli, db_path, tmp_path):
    f = write_prompts(tmp_path / "p.csv", prompts(40))
    r = cli("ingest", f, *MAP_ARGS, "--db", db_path)
    assert r.exit_code == 0, r.stderr
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        dump = ""
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            dump += str(con.execute(f'SELECT * FROM "{table}"').fetchall())
        samples = con.execute("SELECT sample_key, redacted_text, pii_types FROM prompt_samples").fetchall()
        types = con.execute("SELECT DISTINCT unnest(pii_types) FROM usage ORDER BY 1").fetchall()
    finally:
        con.close()
    for value in PII_VALUES:
        assert value not in dump, value
    assert {k for k, _, _ in samples} == {"workload:support", "workload:search"} and len(samples) == 40
    assert all("question" in t for _, t, _ in samples)
    assert [t[0] for t in types] == ["CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER",
                                     "US_SSN"]


def _samples(db_path: Path) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("SELECT sample_key, sample_hash, redacted_text FROM prompt_samples ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_samples_bounded_and_independent_of_file_order_and_split(cli, tmp_path):
    conf = tmp_path / "planner.toml"
    conf.write_text("[ingest]\nsamples_per_group = 7\n")
    rows = prompts(60)
    whole = write_prompts(tmp_path / "whole.csv", rows)
    a = write_prompts(tmp_path / "a.csv", rows[:25])
    b = write_prompts(tmp_path / "b.csv", rows[25:])
    results = []
    for name, files in (("whole", [whole]), ("ab", [a, b]), ("ba", [b, a])):
        dbp = tmp_path / f"{name}.duckdb"
        for f in files:
            r = cli("ingest", f, *MAP_ARGS, "--db", dbp, "--config", conf)
            assert r.exit_code == 0, r.stderr
        results.append(_samples(dbp))
    assert results[0] == results[1] == results[2]
    assert len(results[0]) == 14  # 7 per workload
    none = tmp_path / "none.duckdb"
    assert cli("ingest", whole, *MAP_ARGS, "--db", none, "--no-samples").exit_code == 0
    assert _samples(none) == []


class _Found:
    def __init__(self, entity_type, start, end, score=0.85):
        self.entity_type, self.start, self.end, self.score = entity_type, start, end, score


class _FakePresidio:
    """Finds 'Alice' as PERSON, as Presidio's spaCy NER would."""

    def analyze(self, text, entities, language):
        i = text.find("Alice")
        return [_Found("PERSON", i, i + 5)] if i >= 0 and "PERSON" in entities else []


def test_presidio_extra_adds_names(cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setitem(sensitivity._ANALYZER, "en", _FakePresidio())
    conf = tmp_path / "planner.toml"
    conf.write_text("[sensitivity]\npresidio = true\n")
    f = write_prompts(tmp_path / "p.csv", [(0, "hr", "note from Alice about leave"), (1, "hr", "nothing personal"),
                                           (2, "hr", "Alice at jane.doe@example.com")])
    r = cli("ingest", f, *MAP_ARGS, "--db", db_path, "--config", conf)
    assert r.exit_code == 0, r.stderr
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        types = [r[0] for r in con.execute("SELECT pii_types FROM usage ORDER BY source_row").fetchall()]
        texts = [r[0] for r in con.execute("SELECT redacted_text FROM prompt_samples").fetchall()]
    finally:
        con.close()
    assert types == [["PERSON"], [], ["EMAIL_ADDRESS", "PERSON"]]
    assert not any("Alice" in t for t in texts) and any("<PERSON>" in t for t in texts)


def test_presidio_missing_is_a_config_error(cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)
    sensitivity._ANALYZER.clear()
    conf = tmp_path / "planner.toml"
    conf.write_text("[sensitivity]\npresidio = true\n")
    f = write_prompts(tmp_path / "p.csv", [(0, "hr", "hello")])
    r = cli("ingest", f, *MAP_ARGS, "--db", db_path, "--config", conf)
    assert r.exit_code == 2 and "presidio-analyzer is not installed" in r.stderr
