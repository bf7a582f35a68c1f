"""The API price book, the shape-pricing helper for scoring, the `planner prices` command, price files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import get_snapshot

from planner import db, pricing
from planner.config import load_config

CATALOG = ["llama-3.1-8b", "llama-3.3-70b", "qwen3-8b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-235b-a22b",
           "gpt-oss-20b", "gpt-oss-120b", "mistral-small-24b", "gemma-3-27b", "deepseek-v3"]
AT = datetime(2026, 11, 4, 12, tzinfo=UTC)


def seeded(tmp_path: Path):
    con = db.connect(tmp_path / "b.duckdb")
    con.execute("""insert into usage (event_id, source_id, grain, ts, provider, model, requests, input_tokens,
                   output_tokens, status) values
                   (md5('a')::uuid, 's', 'request', '2026-10-20', 'openai', 'gpt-4o', 1, 100, 10, 'ok'),
                   (md5('b')::uuid, 's', 'request', '2026-10-20', 'anthropic', 'claude-sonnet-4-5', 1, 100, 10, 'ok'),
                   (md5('c')::uuid, 's', 'request', '2026-10-20', 'groq', 'llama-3.3-70b-versatile', 1, 100, 10, 'ok')""")
    cfg = load_config()
    with db.transaction(con):
        pricing.run(con, cfg, "r1")
    return con


def test_every_offer_in_the_book_file_resolves():
    snap = get_snapshot()
    offers = pricing.book_offers()
    assert sorted(offers["open_models"]) == sorted(CATALOG)
    for catalog, entries in offers["open_models"].items():
        assert entries, catalog
        for e in entries:
            assert pricing._lookup(snap, e["provider"], e["model"]) is not None, (catalog, e)
            assert not (e["provider"] == "openai" and "gpt-oss" in e["model"])   # OpenRouter imports, ignored
            assert e["provider"] != "deepinfra"                                 # not in the snapshot
    for prov, models in offers["same_provider"].items():
        for m in models:
            assert pricing._lookup(snap, prov, m) is not None, (prov, m)


def test_book_covers_usage_variants_open_models_and_cheaper_tiers(tmp_path):
    con = seeded(tmp_path)
    book = pl.from_arrow(con.sql("select * from api_price_book").to_arrow_table())
    current = book.filter(pl.col("offer_kind") == "current")
    assert set(current["model_ref"]) == {"gpt-4o", "claude-sonnet-4-5", "llama-3.3-70b-versatile"}
    assert set(current.filter(pl.col("model_ref") == "gpt-4o")["variant"]) >= {"standard", "batch", "priority"}
    assert set(current.filter(pl.col("model_ref") == "claude-sonnet-4-5")["variant"]) >= {"standard", "batch"}
    groq = current.filter(pl.col("model_ref") == "llama-3.3-70b-versatile")
    assert groq["catalog_model"].to_list()[0] == "llama-3.3-70b" and groq["open_weights"].all()
    opens = book.filter(pl.col("offer_kind") == "open_model")
    assert set(opens["catalog_model"]) == set(CATALOG)
    for cid in CATALOG:
        assert opens.filter(pl.col("catalog_model") == cid)["provider"].n_unique() >= 1, cid
    assert opens.filter(pl.col("catalog_model") == "gpt-oss-120b")["provider"].n_unique() >= 6
    assert "openai" not in set(opens["provider"])
    same = book.filter(pl.col("offer_kind") == "same_provider")
    assert {"gpt-5-mini", "gpt-4.1-mini", "claude-haiku-4-5"} <= set(same["model_ref"])
    assert "gemini-2.5-flash" not in set(same["model_ref"])   # google not in usage
    # long context tier and a snapshot date on every row
    sonnet = current.filter((pl.col("model_ref") == "claude-sonnet-4-5") & (pl.col("variant") == "standard")).row(
        0, named=True)
    assert sonnet["long_context_start"] == 200_000 and sonnet["long_context_input_mtok"] == Decimal(6)
    assert book["snapshot_date"].null_count() == 0 and book["source"].null_count() == 0
    # no duplicate offers
    assert book.select(["provider", "model_ref", "variant"]).is_duplicated().sum() == 0
    con.close()


def test_book_prices_match_calc_price(tmp_path):
    con = seeded(tmp_path)
    rows = db.fetch_dicts(con, "select * from api_price_book where variant in ('standard', 'batch')")
    snap = get_snapshot()
    checked = 0
    for r in rows:
        found = pricing._lookup(snap, r["provider"], r["model_ref"])
        assert found is not None
        provider, model = found
        ctx = {"processing": "batch"} if r["variant"] == "batch" else None
        if ctx and not r["basis"].startswith("genai-prices variant"):
            continue
        want = model.calc_price(Usage(input_tokens=1_000_000, output_tokens=1_000_000), provider,
                                genai_request_timestamp=AT, price_context=ctx).total_price
        got = pricing.shape_cost(r, pricing.TokenShape(requests=1, input_tokens=1_000_000, output_tokens=1_000_000))
        if model.id.endswith(":free"):
            continue
        assert got is not None and abs(got - want) < Decimal("0.000001"), (r["provider"], r["model_ref"], got, want)
        checked += 1
    assert checked > 50
    con.close()


SHAPES = [
    # requests, input, cached, write, output, p95, batch
    ("chat", 600_000, 3600, 2160, 0, 400, 5000, False),
    ("extract", 4_000_000, 5000, 0, 0, 500, 7000, True),
    ("long", 1000, 150_000, 0, 10_000, 2000, 260_000, False),
]


def test_shape_cost_equals_calc_price_on_one_representative_request():
    """capacity.md §4: price ONE representative request and multiply by the request count."""
    snap = get_snapshot()
    provider, model = pricing._lookup(snap, "anthropic", "claude-sonnet-4-5")
    book = {}
    for variant in ("standard", "batch"):
        rp = pricing.resolve_price(load_config(), provider, model, variant, AT)
        base, long = rp.tiers[0].prices, rp.tiers[1].prices
        book[variant] = {"input_mtok": base.input_mtok, "cached_input_mtok": base.cached_input_mtok,
                         "cache_write_mtok": base.cache_write_mtok, "output_mtok": base.output_mtok,
                         "long_context_start": rp.tiers[1].input_above, "long_context_input_mtok": long.input_mtok,
                         "long_context_cached_input_mtok": long.cached_input_mtok,
                         "long_context_cache_write_mtok": long.cache_write_mtok,
                         "long_context_output_mtok": long.output_mtok}
    for _, n, i, c, w, o, p95, batch in SHAPES:
        offer = book["batch" if batch else "standard"]
        got = pricing.shape_cost(offer, pricing.TokenShape(n, i, o, c, w, p95, batch))
        tier_input = p95  # the tier is chosen from p95 input: price a request of that size's tier
        one = calc_price(Usage(input_tokens=i, cache_read_tokens=c, cache_write_tokens=w, output_tokens=o),
                         "claude-sonnet-4-5", provider_id="anthropic", genai_request_timestamp=AT,
                         price_context={"processing": "batch"} if batch else None)
        if tier_input > 200_000 >= i:
            # the p95 request is long-context: every request pays the long tier (2x input, 1.5x output here)
            long_per_request = ((i - c - w) * Decimal(6) + c * Decimal("0.6") + w * Decimal("7.5")
                                + o * Decimal("22.5")) / 1_000_000
            assert got == (long_per_request * n).quantize(pricing.SCALE) and got > one.total_price * n
            continue
        assert got == (one.total_price * n).quantize(pricing.SCALE)


def test_price_shapes_vectorised_agrees_with_shape_cost(tmp_path):
    con = seeded(tmp_path)
    frame = pl.DataFrame([
        {"shape_id": s[0], "requests": s[1], "input_tokens": float(s[2]), "cached_input_tokens": float(s[3]),
         "cache_write_tokens": float(s[4]), "output_tokens": float(s[5]), "p95_input_tokens": s[6], "batch": s[7]}
        for s in SHAPES])
    out = pl.from_arrow(pricing.price_shapes(con, frame))
    book = {(r["provider"], r["model_ref"], r["variant"]): r for r in db.fetch_dicts(con, "select * from api_price_book")}
    assert out.height == len(SHAPES) * len(book)
    for row in out.iter_rows(named=True):
        s = next(x for x in SHAPES if x[0] == row["shape_id"])
        want = pricing.shape_cost(book[(row["provider"], row["model_ref"], row["variant"])],
                                  pricing.TokenShape(s[1], s[2], s[5], s[3], s[4], s[6], s[7]))
        assert row["cost_usd"] == want, row
    fits = out.filter(pl.col("shape_id") == "extract")
    assert set(fits.filter(pl.col("variant_fits"))["variant"]) <= {"batch", "flex", "priority"}
    con.close()


def test_planner_prices_command(cli, tmp_path):
    con = seeded(tmp_path)
    con.close()
    dbp = tmp_path / "b.duckdb"
    r = cli("prices", "--db", dbp, "--provider", "anthropic", "--json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {x["model_ref"] for x in rows} == {"claude-sonnet-4-5"}
    assert {x["input_tokens"] for x in rows} == {"<=200000", ">200000"}
    assert all(x["snapshot_date"] == "2026-11-04" and x["source"].startswith("genai-prices 0.2.3") for x in rows)
    assert "snapshot 2026-11-04" in r.stderr
    r = cli("prices", "--db", dbp, "--book", "--model", "gpt-oss-120b")
    assert r.exit_code == 0 and "groq" in r.stdout and "catalog_model" in r.stdout
    r = cli("prices", "--db", tmp_path / "missing.duckdb")
    assert r.exit_code == 2 and "no planner database" in r.stderr


def test_prices_command_on_empty_database_says_what_to_do(cli, tmp_path):
    con = db.connect(tmp_path / "e.duckdb")
    con.close()
    r = cli("prices", "--db", tmp_path / "e.duckdb")
    assert r.exit_code == 0 and "run `planner analyze`" in r.stderr


def test_pinned_price_file(tmp_path):
    data = [{"id": "acme", "name": "Acme", "api_pattern": "https://acme", "models": [
        {"id": "acme-1", "match": {"equals": "acme-1"}, "prices": {"input_mtok": "2", "output_mtok": "4"}}]}]
    (tmp_path / "prices.json").write_text(json.dumps(data))
    (tmp_path / "planner.toml").write_text('[pricing]\nprice_file = "prices.json"\n')
    cfg = load_config(tmp_path / "planner.toml")
    source = pricing.load_prices(cfg)
    assert source.source == "price file prices.json (genai-prices format)"
    con = db.connect(tmp_path / "f.duckdb")
    con.execute("insert into usage (event_id, source_id, grain, ts, provider, model, requests, input_tokens, "
                "output_tokens, status) values (md5('a')::uuid, 's', 'request', '2026-10-20', 'acme', 'acme-1', 1, "
                "1000000, 1000000, 'ok')")
    with db.transaction(con):
        pricing.run(con, cfg, "r")
    assert con.execute("select cost_usd from usage_enriched").fetchone()[0] == Decimal(6)
    con.close()


def test_bad_price_file_is_a_config_error(tmp_path):
    (tmp_path / "prices.json").write_text("{not json")
    (tmp_path / "planner.toml").write_text('[pricing]\nprice_file = "prices.json"\n')
    from planner.errors import ConfigError

    with pytest.raises(ConfigError, match="prices.json"):
        pricing.load_prices(load_config(tmp_path / "planner.toml"))
