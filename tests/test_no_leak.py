"""No leak: prompts seeded with known PII values and key-shaped secrets go through the whole pipeline
(three adapters that carry text, analyze, reports, every export, SQL); no output holds any of them:
not a table (the redacted samples included), a report, an export, stdout, stderr, nor the database
file's bytes. Runs in-process with sockets disabled (pytest-socket), so it also proves the whole run
makes no network connection."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import duckdb

SECRETS = {
    "email": "leak.test.person@example.org",
    "phone": "+1 415-555-0199",
    "card": "4000 0566 5566 5556",
    "ssn": "219-09-9999",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "key": "sk-" + "proj-Zq8LeakTestKeyAbCdEf0123456789xyz",  # assembled: no key-shaped literal in the repo
    "aws": "AKIAIOSFODNN7LEAKTST",
    "ip": "203.0.113.77",
}
VARIANTS = set(SECRETS.values()) | {v.replace(" ", "") for v in SECRETS.values()} | {"leak.test.person"}


def prompt(i: int) -> str:
    s = SECRETS
    return (f"Ticket {i}: customer {s['email']} (phone {s['phone']}) paid with card {s['card']}, "
            f"SSN {s['ssn']}, IBAN {s['iban']}; our key {s['key']} and {s['aws']} from host {s['ip']}.")


def write_inputs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    gen = folder / "gateway.csv"
    with gen.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "ts", "model", "in", "out", "prompt", "note"])
        for i in range(60):
            w.writerow([f"r{i}", f"2026-10-0{1 + i % 5}T1{i % 10}:00:00Z", "gpt-4o-mini", 900 + i, 80, prompt(i), "ok"])
        # a rejected row whose text fields carry the secrets too
        w.writerow(["bad", "not a time", "gpt-4o-mini", "12k", 80, prompt(99), f"call {SECRETS['phone']}"])
    litellm = folder / "spend_logs.json"
    rows = []
    for i in range(40):
        rows.append({
            "request_id": f"chatcmpl-leak{i}", "call_type": "acompletion", "api_key": "88c1" * 16, "spend": 0.0004,
            "total_tokens": 1130, "prompt_tokens": 1000, "completion_tokens": 130,
            "startTime": f"2026-10-02T0{i % 9}:00:00", "endTime": f"2026-10-02T0{i % 9}:00:02",
            "model": "gpt-4o-mini", "model_group": "gpt-4o-mini", "custom_llm_provider": "openai", "user": "u_1",
            "metadata": {"user_api_key_alias": "svc"}, "cache_hit": "False", "request_tags": ["prod"],
            "team_id": "team_a", "end_user": "cust_1", "status": "success",
            "messages": [{"role": "system", "content": "You are the billing assistant."},
                         {"role": "user", "content": prompt(i)}],
            "response": {"choices": [{"message": {"content": f"Noted {SECRETS['email']}"}}]},
        })
    litellm.write_text(json.dumps(rows))
    bedrock = folder / "invocations.jsonl.gz"
    buf = io.StringIO()
    for i in range(30):
        buf.write(json.dumps({
            "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": f"2026-10-03T0{i % 9}:00:0{i % 10}Z",
            "accountId": "111122223333", "identity": {"arn": "arn:aws:sts::111122223333:assumed-role/app/i-1"},
            "region": "us-east-1", "requestId": f"5e0c1a2b-0000-4c11-9d00-0000000000{i:02d}", "operation": "Converse",
            "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "input": {"inputContentType": "application/json",
                      "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": prompt(i)}]}]},
                      "inputTokenCount": 700, "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 0},
            "output": {"outputContentType": "application/json",
                       "outputBodyJson": {"output": {"message": {"content": [{"text": SECRETS["ssn"]}]}},
                                          "metrics": {"latencyMs": 900}}, "outputTokenCount": 60},
        }) + "\n")
    bedrock.write_bytes(gzip.compress(buf.getvalue().encode()))
    return [gen, litellm, bedrock]


def hits(text: str) -> list[str]:
    return sorted(v for v in VARIANTS if v in text)


def test_nothing_seeded_in_prompts_comes_out_anywhere(cli, tmp_path):
    files = write_inputs(tmp_path / "exports")
    db = tmp_path / "p.duckdb"
    outputs: list[str] = []

    def call(*args):
        r = cli(*args, "--db", db)
        outputs.extend([r.stdout, r.stderr])
        return r

    r = call("ingest", files[0], "--format", "generic", "--map", "request_id=id", "--map", "ts=ts",
             "--map", "model=model", "--map", "input_tokens=in", "--map", "output_tokens=out", "--map", "prompt=prompt",
             "--set", "provider=openai", "--json")
    assert r.exit_code == 1, r.stderr  # the bad row is rejected
    assert call("ingest", files[1], "--format", "litellm").exit_code in (0, 1)
    assert call("ingest", files[2], "--format", "bedrock").exit_code in (0, 1)
    assert call("analyze", "--json").exit_code in (0, 1)
    out = tmp_path / "reports"
    assert call("report", "--out", out).exit_code == 0
    for kind in ("eval-set", "router", "serve"):
        call("export", kind, "--all") if kind == "eval-set" else call("export", kind)
    seg = duckdb.connect(str(db), read_only=True).execute("select segment_id from segments limit 1").fetchone()[0]
    call("export", "trace", "--segment", seg)
    call("sql", "select * from rejected", "--format", "json")
    call("sql", "select * from prompt_samples", "--format", "json")
    # every output stream and report
    for text in outputs:
        assert hits(text) == [], text[:2000]
    for path in out.iterdir():
        assert hits(path.read_text(errors="replace")) == [], path
    # every table and view, every column
    con = duckdb.connect(str(db), read_only=True)
    names = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                       "where table_schema = 'main'").fetchall()]
    assert "prompt_samples" in names and "rejected" in names
    for name in names:
        dump = str(con.execute(f'select * from "{name}"').fetchall())
        assert hits(dump) == [], name
    # the samples exist and are redacted, the rejected row was kept with its text redacted
    samples = [r[0] for r in con.execute("select redacted_text from prompt_samples").fetchall()]
    assert samples and all("<EMAIL_ADDRESS>" in s for s in samples)
    raw = con.execute("select raw from rejected").fetchall()
    assert raw and hits(str(raw)) == []
    con.close()
    # nor in the bytes of the database file
    assert hits(db.read_bytes().decode("latin-1")) == []
