"""anthropic-cost: cost report pages -> `charges` lines, amounts in cents (fixtures/anthropic-cost)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from _billing import FIXTURES, Loaded, load

AC = FIXTURES / "anthropic-cost"
BAD = AC / "malformed"


@pytest.fixture(scope="module")
def report() -> Loaded:
    return load(AC / "cost_by_description_workspace.json")


def test_amount_is_a_decimal_string_of_cents(report):
    assert report.result.rows_loaded == 10
    rows = report.q("select billed_cost, billed_cost_usd, currency from charges order by source_row")
    assert [r[0] for r in rows] == [Decimal(x) for x in ("12.63", "4.5717", "6.75", "1.2", "58.2", "1.2", "0.8",
                                                           "0.00012345", "0.12", "0.055")]
    assert all(r[0] == r[1] and r[2] == "USD" for r in rows)
    assert report.one("select sum(billed_cost) from charges") == Decimal("85.52682345")


def test_token_lines_carry_model_direction_and_tier(report):
    rows = report.q("select model, token_type, service_tier, project, is_llm_tokens, tags['token_type'] "
                    "from charges order by source_row")
    assert rows[:5] == [
        ("claude-sonnet-4-20250514", "input", "standard", "wrkspc_01Support", True, "uncached_input_tokens"),
        ("claude-sonnet-4-20250514", "cache_read", "standard", "wrkspc_01Support", True, "cache_read_input_tokens"),
        ("claude-sonnet-4-20250514", "cache_write", "standard", "wrkspc_01Support", True,
         "cache_creation.ephemeral_5m_input_tokens"),
        ("claude-sonnet-4-20250514", "cache_write", "standard", "wrkspc_01Support", True,
         "cache_creation.ephemeral_1h_input_tokens"),
        ("claude-sonnet-4-20250514", "output", "standard", "wrkspc_01Support", True, "output_tokens"),
    ]
    assert rows[5][1:3] == ("input", "batch")
    # web search and code execution are not token lines, whatever the service
    assert rows[8:] == [(None, None, None, "wrkspc_01Support", False, None), (None, None, None, None, False, None)]
    assert report.one("select sum(billed_cost) from charges where is_llm_tokens") == Decimal("85.35182345")


def test_period_and_description_as_written(report):
    assert report.q("select distinct period_start, period_end from charges") == [
        (datetime(2025, 3, 4), datetime(2025, 3, 5))]
    assert report.one("select description from charges where source_row = 2") == \
        "Claude Sonnet 4 Usage - Input Tokens, Cache Hit"
    assert report.one("select tags from charges where source_row = 8") == {
        "cost_type": "tokens", "token_type": "output_tokens", "context_window": "200k-1M"}


def test_ungrouped_report_is_unclassified():
    got = load(AC / "cost_ungrouped.jsonl")
    assert got.q("select period_start, billed_cost, is_llm_tokens from charges order by 1") == [
        (datetime(2025, 3, 1), Decimal("982.1155"), None), (datetime(2025, 3, 2), Decimal("870.005"), None)]
    assert any("do not say what they bill" in w for w in got.result.warnings)


def test_bad_amounts_rejected_negative_kept():
    got = load(BAD / "bad_amounts.json")
    assert got.reasons() == {
        1: ("billed_cost", "amount", 'expected a decimal string of cents, got "12,5"'),
        2: ("billed_cost", "amount", 'expected a decimal string of cents, got ""'),
        3: ("currency", "currency", "missing currency"),
    }
    # a JSON number is still cents (the field's unit does not change with its type); credits stay negative
    assert got.q("select project, billed_cost from charges order by source_row") == [
        ("w3", Decimal("2.5")), ("w4", Decimal("-3"))]


def test_cents_keep_their_precision(tmp_path):
    f = tmp_path / "c.json"
    f.write_text('{"data": [{"starting_at": "2025-03-04T00:00:00Z", "ending_at": "2025-03-05T00:00:00Z", '
                 '"results": [{"amount": "123456789.123456789", "currency": "USD"}]}], "has_more": false}')
    assert load(f).one("select billed_cost from charges") == Decimal("1234567.8912345679")


def test_truncated_report_fails(cli, db_path):
    r = cli("ingest", BAD / "truncated.json", "--db", db_path)
    assert r.exit_code == 2 and "cannot parse" in r.stderr
