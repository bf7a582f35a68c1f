"""The synthetic generator's billing and bucket writers: exact field shapes (formats.md) and totals."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pytest

from planner import generate


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("gen")
    table = generate.traffic(days=2, seed=5, scale=0.1)
    generate.write_formats(table, out, generate.BILLING_FORMATS + ("mooncake",), origin=generate.DEFAULT_START)
    return out, table


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _provider(table, name):
    return table.filter(pc.equal(table.column("provider"), name))


def _sum(table, col):
    return pc.sum(table.column(col)).as_py()


def test_openai_usage_pages(written):
    out, table = written
    pages = _lines(out / generate.FILE_NAMES["openai-usage"])
    assert all(set(p) == {"object", "data", "has_more", "next_page"} and p["object"] == "page" for p in pages)
    assert [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert all(len(p["data"]) <= 168 for p in pages)
    buckets = [b for p in pages for b in p["data"]]
    assert all(b["object"] == "bucket" and b["end_time"] - b["start_time"] == 3600 for b in buckets)
    assert any(b["results"] == [] for b in buckets) or len(buckets) == 48
    results = [r for b in buckets for r in b["results"]]
    required = {"object", "input_tokens", "output_tokens", "num_model_requests", "input_cached_tokens",
                "project_id", "user_id", "api_key_id", "model", "batch", "service_tier"}
    assert all(required <= set(r) and r["object"] == "organization.usage.completions.result" for r in results)
    openai = _provider(table, "openai")
    assert sum(r["input_tokens"] for r in results) == _sum(openai, "input_tokens")
    assert sum(r["input_cached_tokens"] for r in results) == _sum(openai, "cached_input_tokens")
    assert sum(r["num_model_requests"] for r in results) == openai.num_rows
    assert all(r["input_uncached_tokens"] + r["input_cached_tokens"] + r["input_cache_write_tokens"] == r["input_tokens"]
               for r in results)


def test_openai_costs_pages(written):
    out, _ = written
    pages = _lines(out / generate.FILE_NAMES["openai-costs"])
    buckets = [b for p in pages for b in p["data"]]
    assert all(b["end_time"] - b["start_time"] == 86400 for b in buckets)
    results = [r for b in buckets for r in b["results"]]
    assert all(r["object"] == "organization.costs.result" and r["amount"]["currency"] == "usd"
               and isinstance(r["amount"]["value"], float) and r["quantity_unit"] == "tokens" for r in results)
    assert {r["line_item"].rsplit(", ", 1)[1] for r in results} <= {"input", "cached input", "cache write", "output"}


def test_anthropic_usage_report(written):
    out, table = written
    pages = _lines(out / generate.FILE_NAMES["anthropic-usage"])
    assert all(set(p) == {"data", "has_more", "next_page"} for p in pages)
    buckets = [b for p in pages for b in p["data"]]
    assert all(b["starting_at"].endswith(":00:00Z") for b in buckets)
    results = [r for b in buckets for r in b["results"]]
    anthropic = _provider(table, "anthropic")
    total = sum(r["uncached_input_tokens"] + r["cache_read_input_tokens"] + r["cache_creation"]["ephemeral_5m_input_tokens"]
                + r["cache_creation"]["ephemeral_1h_input_tokens"] for r in results)
    assert total == _sum(anthropic, "input_tokens")
    assert sum(r["output_tokens"] for r in results) == _sum(anthropic, "output_tokens")
    assert "num_model_requests" not in results[0] and "requests" not in results[0]  # no request count in this API
    assert {r["service_tier"] for r in results} <= {"standard", "batch"}


def test_anthropic_cost_report_is_cents_and_matches_focus(written):
    out, _ = written
    results = [r for p in _lines(out / generate.FILE_NAMES["anthropic-cost"]) for b in p["data"] for r in b["results"]]
    assert all(isinstance(r["amount"], str) and r["currency"] == "USD" for r in results)
    anthropic_usd = sum(Decimal(r["amount"]) for r in results) / 100
    with (out / generate.FILE_NAMES["focus"]).open() as f:
        rows = list(csv.DictReader(f))
    claude = sum(Decimal(r["BilledCost"]) for r in rows if r["ResourceId"].startswith("claude"))
    assert abs(anthropic_usd - claude) < Decimal("0.00001")


def test_focus_columns_and_units(written):
    out, table = written
    with (out / generate.FILE_NAMES["focus"]).open() as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        assert tuple(reader.fieldnames or ()) == generate.FOCUS_COLUMNS
    assert {r["ChargeCategory"] for r in rows} == {"Usage"} and {r["BillingCurrency"] for r in rows} == {"USD"}
    assert all(Decimal(r["PricingQuantity"]) * 1000 == Decimal(r["ConsumedQuantity"]) for r in rows)
    assert all(r["ChargePeriodStart"].endswith("T00:00:00Z") for r in rows)
    out_tokens = sum(int(r["ConsumedQuantity"]) for r in rows if r["SkuMeter"] == "Output Tokens")
    assert out_tokens == _sum(table, "output_tokens")
    assert json.loads(rows[0]["Tags"])["project"].startswith("proj_")


def test_mooncake_blocks(written):
    out, table = written
    lines = _lines(out / generate.FILE_NAMES["mooncake"])
    assert len(lines) == table.num_rows and list(lines[0]) == ["timestamp", "input_length", "output_length", "hash_ids"]
    assert all(len(x["hash_ids"]) == -(-x["input_length"] // 512) for x in lines)
    assert [x["timestamp"] for x in lines] == sorted(x["timestamp"] for x in lines)


def test_generate_command(cli, tmp_path):
    r = cli("generate", "--out", tmp_path / "ex", "--days", "1", "--rows-per-day", "200", "--formats",
            "litellm-csv,openrouter", "--json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)
    assert [g["format"] for g in got] == ["litellm-csv", "openrouter"]
    assert all(Path(g["path"]).is_file() for g in got) and got[0]["ingest_format"] == "litellm"
    r = cli("generate", "--out", tmp_path / "ex", "--formats", "csv")
    assert r.exit_code == 2 and "unknown format 'csv'" in r.stderr
