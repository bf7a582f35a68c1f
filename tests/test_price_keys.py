"""The price-key ledger (usage_keys): kept at ingest, read by the price stage, rebuilt when stale."""

from __future__ import annotations

from pathlib import Path

from _billing import q

from planner import db, price_keys, pricing
from planner.config import load_config

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT / "fixtures" / "generic"

LEDGER = ("select provider, model, model_ref, batch, service_tier, grain, sum(rows) from usage_keys "
          "group by all having sum(rows) > 0 order by all")
USAGE = ("select provider, model, model_ref, batch, service_tier, grain, count(*) from usage "
         "group by all order by all")


def _write(tmp_path: Path, name: str, rows: list[str]) -> Path:
    f = tmp_path / name
    f.write_text("request_id,ts,provider,model,input_tokens,output_tokens\n" + "\n".join(rows) + "\n")
    return f


def _ingest(cli, db_path: Path, f: Path) -> None:
    r = cli("ingest", f, "--map", "ts=ts", "--map", "request_id=request_id", "--map", "provider=provider",
            "--map", "model=model", "--map", "input_tokens=input_tokens", "--map", "output_tokens=output_tokens",
            "--db", db_path)
    assert r.exit_code == 0, r.stderr


def test_ingest_keeps_the_ledger_and_model_ref(cli, db_path, tmp_path):
    a = _write(tmp_path, "a.csv", ["r1,2025-03-04T10:00:00Z,openai,gpt-4o-2024-08-06,10,1",
                                   "r2,2025-03-04T10:01:00Z,anthropic,claude-sonnet-4-5,20,2",
                                   "r3,2025-03-04T10:02:00Z,acme,no-such-model,30,3"])
    # r2 repeats with more input (wins over the stored copy); r4 is new
    b = _write(tmp_path, "b.csv", ["r2,2025-03-04T10:01:00Z,anthropic,claude-sonnet-4-5,25,2",
                                   "r4,2025-03-04T10:03:00Z,openai,gpt-4o,40,4"])
    _ingest(cli, db_path, a)
    _ingest(cli, db_path, b)
    assert q(db_path, LEDGER) == q(db_path, USAGE)
    assert q(db_path, "select count(*) from usage") == [(4,)]
    # rows arrive with the id pricing resolves them to; an unknown model stays NULL
    assert dict(q(db_path, "select model, model_ref from usage")) == {
        "gpt-4o-2024-08-06": "gpt-4o", "gpt-4o": "gpt-4o", "claude-sonnet-4-5": "claude-sonnet-4-5",
        "no-such-model": None}
    c = db.connect(db_path)
    try:
        assert price_keys.in_sync(c)
        with db.transaction(c):
            out = pricing.price_usage(c, load_config(), None)
        assert out.updated_pairs == 0  # nothing to rewrite: ingest wrote model_ref
        rows = dict(c.execute("select model, rows from price_models").fetchall())
        assert rows == {"gpt-4o-2024-08-06": 1, "gpt-4o": 1, "claude-sonnet-4-5": 1, "no-such-model": 1}
    finally:
        c.close()


def test_usage_written_outside_ingest_rebuilds_the_ledger(con):
    cfg = load_config()
    con.execute("insert into usage (event_id, source_id, source_row, grain, ts, provider, model, requests, "
                "input_tokens, output_tokens, status) values "
                "(md5('e1')::uuid, 's', 1, 'request', '2025-03-04 10:00', 'openai', 'gpt-4o-2024-08-06', 1, 100, 10, 'ok'), "
                "(md5('e2')::uuid, 's', 2, 'request', '2025-03-04 10:00', 'openai', 'gpt-4o-2024-08-06', 1, 100, 10, 'ok')")
    assert not price_keys.in_sync(con)
    with db.transaction(con):
        out = pricing.price_usage(con, cfg, None)
    assert out.updated_pairs == 1
    assert price_keys.in_sync(con)
    assert con.execute(LEDGER).fetchall() == con.execute(USAGE).fetchall()
    assert con.execute("select count(*) from usage where model_ref = 'gpt-4o'").fetchone() == (2,)
    # a steady run reads the ledger and rewrites nothing
    with db.transaction(con):
        assert pricing.price_usage(con, cfg, None).updated_pairs == 0
    con.execute("delete from usage where event_id = md5('e2')::uuid")
    assert not price_keys.in_sync(con)
    with db.transaction(con):
        pricing.price_usage(con, cfg, None)
    assert con.execute("select rows from price_models").fetchall() == [(1,)]


def test_config_change_rewrites_only_that_pair(cli, db_path, tmp_path):
    a = _write(tmp_path, "a.csv", ["r1,2025-03-04T10:00:00Z,openai,my-deployment,10,1",
                                   "r2,2025-03-04T10:01:00Z,openai,gpt-4o,20,2"])
    _ingest(cli, db_path, a)
    assert dict(q(db_path, "select model, model_ref from usage")) == {"my-deployment": None, "gpt-4o": "gpt-4o"}
    cfg = tmp_path / "planner.toml"
    cfg.write_text('[pricing.model_aliases]\n"my-deployment" = "gpt-4o-mini"\n')
    c = db.connect(db_path)
    try:
        with db.transaction(c):
            out = pricing.price_usage(c, load_config(cfg), None)
        assert out.updated_pairs == 1
        assert dict(c.execute("select model, model_ref from usage").fetchall()) == {
            "my-deployment": "gpt-4o-mini", "gpt-4o": "gpt-4o"}
        assert c.execute(LEDGER).fetchall() == c.execute(USAGE).fetchall()
        assert price_keys.in_sync(c)  # the ledger followed the rewrite
    finally:
        c.close()
