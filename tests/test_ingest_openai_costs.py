"""openai-costs: Costs API pages -> `charges` lines (fixtures/openai-costs)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from _billing import FIXTURES, Loaded, load

OC = FIXTURES / "openai-costs"
BAD = OC / "malformed"


@pytest.fixture(scope="module")
def lines() -> Loaded:
    return load(OC / "costs_1d_line_item_project.json")


def test_each_result_is_a_charge_line_for_its_day(lines):
    r = lines.result
    assert (r.format, r.rows_read, r.rows_loaded, r.rows_rejected) == ("openai-costs", 10, 10, 0)
    rows = lines.q("select distinct period_start, period_end, provider, provider_name, currency from charges "
                   "order by 1")
    assert rows == [(datetime(2025, 1, 1), datetime(2025, 1, 2), "openai", "OpenAI", "USD"),
                    (datetime(2025, 1, 2), datetime(2025, 1, 3), "openai", "OpenAI", "USD")]
    assert lines.q("select distinct project from charges") == [("proj_T3stAbc",)]


def test_float_dollars_become_exact_decimals(lines):
    assert lines.one("select sum(billed_cost) from charges") == Decimal("5.7944")
    assert lines.one("select billed_cost from charges where description = 'web search tool calls'") == Decimal("0.3")
    assert lines.one("select count(*) from charges where billed_cost_usd is distinct from billed_cost") == 0


def test_line_items_name_model_direction_and_tier(lines):
    rows = lines.q("select description, model, token_type, service_tier, is_llm_tokens from charges "
                   "order by source_row")
    assert rows == [
        ("gpt-4o-mini-2024-07-18, input", "gpt-4o-mini-2024-07-18", "input", None, True),
        ("gpt-4o-mini-2024-07-18, cached input", "gpt-4o-mini-2024-07-18", "cache_read", None, True),
        ("gpt-4o-mini-2024-07-18, output", "gpt-4o-mini-2024-07-18", "output", None, True),
        ("o3-mini-2025-01-31, input", "o3-mini-2025-01-31", "input", None, True),
        ("web search tool calls", None, None, None, False),
        ("Vector storage", None, None, None, False),
        ("priority | gpt-5-2025-08-07, output, long context", "gpt-5-2025-08-07", "output", "priority", True),
        ("gpt-image-1 image, output", "gpt-image-1", "output", None, False),  # image tokens are not LLM text
        ("whisper-1, audio", "whisper-1", None, None, False),
        ("gpt-4o-mini-2024-07-18, input", "gpt-4o-mini-2024-07-18", "input", None, True),
    ]
    assert lines.one("select sum(billed_cost) from charges where is_llm_tokens") == Decimal("4.2344")


def test_quantity_is_kept_and_units_convert_only_when_stated(lines, tmp_path):
    # the documented Costs API has `quantity` without a unit: it stays as written, unit unknown
    assert lines.q("select consumed_quantity, consumed_unit, source_quantity from charges where source_row = 1") == \
        [(Decimal("2791333"), None, Decimal("2791333"))]
    got = load(OC / "costs_quantity_unit.json")
    assert got.q("select consumed_quantity, consumed_unit, source_quantity, source_unit, is_llm_tokens from charges "
                 "order by source_row") == [
        (Decimal("2791333"), "tokens", Decimal("2791333"), "tokens", True),
        (Decimal("1700000"), "tokens", Decimal("1700"), "1000_tokens", True),
        (Decimal("1"), "duration_hours", Decimal("1"), "duration_hours", False),
    ]


def test_ungrouped_costs_say_they_cannot_tell_what_they_bill():
    got = load(OC / "costs_ungrouped.jsonl")
    assert got.q("select source_row, billed_cost, is_llm_tokens, description from charges order by 1") == [
        (1, Decimal("12.5"), None, None), (2, Decimal("9.75"), None, None), (3, Decimal("0.06"), None, None)]
    assert any("3 line(s) do not say what they bill" in w for w in got.result.warnings)


def test_other_currencies_are_upper_cased_and_never_converted():
    got = load(OC / "costs_eur_by_key.json")
    assert got.q("select currency, billed_cost, billed_cost_usd, api_key_id from charges order by source_row") == [
        ("EUR", Decimal("3.1"), None, "key_abc123"), ("EUR", Decimal("6.2"), None, "key_abc123")]
    assert got.result.warnings == ["amount.currency EUR on 2 line(s): billed_cost_usd left NULL "
                                   "(no exchange rate is assumed)"]


def test_re_export_same_lines_are_duplicates_and_a_revised_day_replaces(tmp_path):
    page = json.loads((OC / "costs_1d_line_item_project.json").read_text())
    same = tmp_path / "same.json"
    same.write_text(json.dumps(page, indent=1))
    page["data"][1]["results"][0]["amount"]["value"] = 3.75  # the day closed: its line grew
    revised = tmp_path / "revised.json"
    revised.write_text(json.dumps(page))
    got = load(OC / "costs_1d_line_item_project.json", same, revised)
    assert [(r.rows_loaded, r.rows_duplicate) for r in got.results] == [(10, 0), (0, 10), (1, 9)]
    assert got.one("select count(*) from charges") == 10
    assert got.one("select sum(billed_cost) from charges") == Decimal("7.0444")
    assert got.q("select charge_id, count(*) from charges group by 1 having count(*) > 1") == []


def test_bad_amounts_are_rejected_and_refunds_kept():
    got = load(BAD / "bad_amounts.json")
    assert got.reasons() == {
        1: ("billed_cost", "amount.value", 'expected an amount, got "abc"'),
        2: ("billed_cost", "amount.value", "missing billed_cost"),
        3: ("currency", "amount.currency", "missing currency"),
        4: ("currency", "amount.currency", 'expected a 3-letter ISO 4217 code, got "us dollars"'),
    }
    assert got.q("select project, billed_cost from charges order by source_row") == [
        ("refund", Decimal("-0.25")), ("ok", Decimal("0.5"))]


def test_a_usage_result_in_a_costs_page_is_rejected():
    got = load(BAD / "usage_result_in_costs.json")
    assert got.result.format == "openai-costs"
    assert "not a costs result" in got.reasons()[2][2]


def test_truncated_costs_page_fails(cli, db_path):
    r = cli("ingest", BAD / "truncated.json", "--db", db_path)
    assert r.exit_code == 2 and "truncated.json: cannot parse" in r.stderr


def test_set_is_refused_for_billing_lines(cli, db_path):
    r = cli("ingest", OC / "costs_eur_by_key.json", "--format", "openai-costs", "--set", "project=x", "--db", db_path)
    assert r.exit_code == 2 and "--set does not apply" in r.stderr


def test_the_same_days_cut_by_another_group_by_are_flagged():
    got = load(OC / "costs_ungrouped.jsonl", OC / "costs_1d_line_item_project.json")
    assert any(w.startswith("overlaps 1 loaded file(s)") and "(this file: description, project; loaded: none)" in w
               for w in got.results[1].warnings)
