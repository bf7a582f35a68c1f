"""focus: FOCUS 1.0-1.3 cost and usage exports (CSV, gzip CSV, Parquet) -> `charges` (fixtures/focus)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

import pytest
from _billing import FIXTURES, Loaded, load

FO = FIXTURES / "focus"
BAD = FO / "malformed"


@pytest.fixture(scope="module")
def aws() -> Loaded:
    return load(FO / "aws_focus_1_0.csv")


@pytest.fixture(scope="module")
def azure() -> Loaded:
    return load(FO / "azure_focus_1_2_eur.csv.gz")


@pytest.fixture(scope="module")
def gcp() -> Loaded:
    return load(FO / "gcp_focus_1_0.parquet")


def test_aws_token_lines_are_found_by_their_unit_or_description(aws):
    assert (aws.result.format, aws.result.rows_loaded, aws.result.rows_rejected) == ("focus", 10, 0)
    rows = aws.q("select source_row, is_llm_tokens, token_type, model, consumed_quantity, consumed_unit "
                 "from charges order by source_row")
    assert rows == [
        (1, True, "input", "Claude 3.5 Sonnet", Decimal("1504000"), "tokens"),
        (2, True, "output", "Claude 3.5 Sonnet", Decimal("150000"), "tokens"),
        (3, True, "cache_read", "Claude 3.5 Sonnet", Decimal("2000000"), "tokens"),           # `Units` of a token meter
        (4, True, "input", "Llama 3.3 70B Instruct", Decimal("3200000"), "tokens"),          # PricingQuantity 3.2 x 1M
        (5, False, None, "Claude 3 Haiku", Decimal("24"), "Hours"),                           # provisioned hours
        (6, False, None, None, Decimal("24"), "Hours"),
        (7, False, None, None, None, None),                                                   # AI/ML category alone
        (8, False, None, None, None, None),
        (9, True, "output", "Claude 3.5 Sonnet", Decimal("-30000"), "tokens"),
        (10, False, None, None, Decimal("1"), "GB-Mo"),
    ]
    assert aws.q("select source_quantity, source_unit from charges where source_row = 4") == [
        (Decimal("3.2"), "1M tokens")]


def test_aws_money_negative_lines_and_literal_nulls(aws):
    rows = aws.q("select source_row, charge_category, charge_class, billed_cost, effective_cost, list_cost, "
                 "billed_cost_usd, tags from charges where source_row in (7, 8, 9) order by 1")
    assert rows == [
        (7, "Credit", None, Decimal("-5"), Decimal("-5"), Decimal("0"), Decimal("-5"), None),
        (8, "Tax", None, Decimal("0.8"), Decimal("0.8"), Decimal("0.8"), Decimal("0.8"), None),
        (9, "Usage", "Correction", Decimal("-0.45"), Decimal("-0.45"), Decimal("-0.45"), Decimal("-0.45"),
         {"user:team": "search", "aws:createdBy": "AROAEXAMPLEID:ci-deployer"}),
    ]
    assert aws.one("select sum(billed_cost) from charges") == Decimal("486.0374")
    assert aws.one("select sum(billed_cost) from charges where is_llm_tokens") == Decimal("9.216")
    assert aws.q("select count(*) from charges where region is null or sku is null") == [(2,)]  # the credit, the tax


def test_aws_provider_service_and_accounts(aws):
    row = aws.q("select provider, provider_name, service, sku, project, sub_account_id, sub_account_name, region, "
                "description, period_start, period_end from charges where source_row = 1")
    assert row == [("aws", "AWS", "Claude 3.5 Sonnet (Amazon Bedrock Edition)", "ABCD1234EXAMPLE", "444455556666",
                    "444455556666", "search-prod", "us-east-1",
                    "$0.003 per 1K input tokens for Claude 3.5 Sonnet in US East (N. Virginia)",
                    datetime(2025, 4, 2), datetime(2025, 4, 3))]
    assert aws.one("select period_start from charges where source_row = 9") == datetime(2025, 3, 31)
    assert aws.result.warnings == []


def test_azure_in_euros_is_never_converted_and_says_so(azure):
    assert azure.one("select count(*) from charges where billed_cost_usd is not null") == 0
    assert azure.q("select distinct currency from charges") == [("EUR",)]
    assert "BillingCurrency EUR on 7 line(s): billed_cost_usd left NULL (no exchange rate is assumed)" in \
        azure.result.warnings


def test_azure_meters_units_and_models(azure):
    rows = azure.q("select source_row, provider, provider_name, is_llm_tokens, token_type, model, consumed_quantity, "
                   "consumed_unit, source_unit from charges order by source_row")
    assert rows == [
        (1, "azure", "Microsoft", True, "input", "gpt-4o-2024-08-06", Decimal("2500000"), "tokens", "1K Tokens"),
        (2, "azure", "Microsoft", True, "output", "gpt-4o-0806", Decimal("400000"), "tokens", "1000 Tokens"),
        (3, "azure", "Microsoft", True, "cache_read", "gpt-4o-0806", Decimal("1200000"), "tokens", "1K"),
        (4, "azure", "Microsoft", True, None, "text-embedding-3-small", Decimal("50000000"), "tokens", "1K"),
        (5, "azure", "Microsoft", False, None, None, Decimal("24"), "1 Hour", "1 Hour"),
        # a resource group named rg-tokens-prod does not make a VM a token line
        (6, "azure", "Microsoft", False, None, None, Decimal("24"), "1 Hour", "1 Hour"),
        (7, "azure", "Microsoft", False, None, None, None, None, None),
    ]


def test_azure_tags_keep_their_keys_and_bad_tags_are_reported(azure):
    assert azure.one("select tags from charges where source_row = 1") == {"env": "prod", "CostCenter": "1234"}
    assert azure.one("select tags from charges where source_row = 6") == {}
    assert azure.q("select billed_cost, tags from charges where source_row = 7") == [(Decimal("-1.2"), None)]
    assert "Tags is not a JSON object: line loaded without tags (1 line(s), first: row 7)" in azure.result.warnings


def test_gcp_parquet_typed_columns(gcp):
    rows = gcp.q("select source_row, provider, billed_cost, period_start, consumed_quantity, source_quantity, "
                 "is_llm_tokens, token_type, model, tags from charges order by source_row")
    assert rows[0] == (1, "google", Decimal("0.05625"), datetime(2025, 4, 2), Decimal("750000"), Decimal("0.75"),
                       True, "input", "Gemini 2.0 Flash", {"goog-vertex-model": "gemini-2.0-flash", "team": "assist"})
    assert rows[2][7:9] == ("cache_read", "Gemini 2.0 Flash")
    assert rows[3][2] == Decimal("-0.01") and rows[3][6] is True  # a free-tier credit on a token line
    assert rows[4][9] == {"team": "assist", "Team": "Assist"}
    assert rows[5][9] == {}
    assert "tag keys differ only in case or surrounding spaces: 'Team', 'team' (kept as written)" in gcp.result.warnings


def test_focus_1_3_service_provider_name():
    got = load(FO / "oci_focus_1_3.csv")
    assert got.q("select provider, provider_name, model, token_type, consumed_quantity, is_llm_tokens "
                 "from charges order by source_row") == [
        ("oracle", "Oracle", "Llama 3.1 405B", "input", Decimal("500000"), True),
        ("oracle", "Oracle", "Llama 3.1 405B", "output", Decimal("100000"), True),
        ("oracle", "Oracle", None, None, Decimal("1"), False),
    ]


def test_a_file_without_token_charges_reports_llm_token_spend_zero():
    got = load(FO / "no_token_charges.csv")
    assert got.one("select count(*) from charges where is_llm_tokens") == 0
    assert got.one("select count(*) from charges where is_llm_tokens is null") == 0
    assert got.result.warnings == [
        "no LLM token charges in this file: LLM token spend is 0 (3 line(s), 128.46 USD billed in all)"]


def test_near_duplicate_tag_keys_are_kept_as_written_and_reported():
    got = load(FO / "near_duplicate_tag_keys.csv")
    keys = sorted(k for (t,) in got.q("select tags from charges") for k in t)
    assert keys == [" CostCenter ", "CostCenter", "Team", "owner", "team", "team "]
    warnings = got.result.warnings
    assert "tag keys differ only in case or surrounding spaces: ' CostCenter ', 'CostCenter' (kept as written)" \
        in warnings
    assert "tag keys differ only in case or surrounding spaces: 'Team', 'team', 'team ' (kept as written)" in warnings


def test_bad_rows_are_rejected_with_reasons():
    got = load(BAD / "bad_rows.csv")
    assert got.reasons() == {
        1: ("billed_cost", "BilledCost", 'expected an amount, got "abc"'),
        2: ("period_start", "ChargePeriodStart", 'unparseable timestamp "yesterday"'),
        3: ("currency", "BillingCurrency", "missing currency"),
        4: ("currency", "BillingCurrency", 'expected a 3-letter ISO 4217 code, got "Euro"'),
        5: ("source_quantity", "ConsumedQuantity", 'expected a number, got "lots"'),
        6: ("period_end", "ChargePeriodEnd", "end before start"),
        7: ("effective_cost", "EffectiveCost", 'expected an amount, got "1,234.50"'),
        8: ("period_start", "ChargePeriodStart", "charge period before 2015-01-01 (or pass --allow-any-ts)"),
    }
    assert got.q("select source_row, billed_cost, tags from charges order by 1") == [
        (9, Decimal("24.96"), None), (10, Decimal("0.000012"), {"user:team": "search"})]


def test_file_level_errors(cli, db_path):
    r = cli("ingest", BAD / "no_billed_cost_column.csv", BAD / "truncated.csv", BAD / "truncated.csv.gz",
            FO / "no_token_charges.csv", "--db", db_path, "--json")
    assert r.exit_code == 2
    files = json.loads(r.stdout)["files"]
    assert [f["status"] for f in files] == ["failed", "failed", "failed", "loaded"]
    assert "no BilledCost column" in files[0]["error"]
    assert "cannot parse as CSV" in files[1]["error"]
    assert "cannot decompress" in files[2]["error"]


def _rewrite(src_text: str, change) -> str:
    rows = list(csv.reader(io.StringIO(src_text)))
    header, body = rows[0], rows[1:]
    change(header, body)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue()


def test_re_exports_never_double_count_and_revisions_replace(tmp_path):
    text = (FO / "aws_focus_1_0.csv").read_text()
    same = tmp_path / "same.csv"
    same.write_text(text + "\n")

    def revise(header, body):
        body[0][header.index("BilledCost")] = "5.000"

    revised = tmp_path / "revised.csv"
    revised.write_text(_rewrite(text, revise))
    got = load(FO / "aws_focus_1_0.csv", same, revised)
    assert [(r.rows_loaded, r.rows_duplicate) for r in got.results] == [(10, 0), (0, 10), (1, 9)]
    assert got.one("select sum(billed_cost) from charges") == Decimal("486.5254")


def test_identical_lines_in_one_file_are_distinct_charges(tmp_path):
    def dup(header, body):
        body.append(list(body[5]))

    f = tmp_path / "dup.csv"
    f.write_text(_rewrite((FO / "aws_focus_1_0.csv").read_text(), dup))
    got = load(f)
    assert got.result.rows_loaded == 11
    assert got.one("select count(distinct charge_id) from charges") == 11


def test_zone_less_periods_follow_the_tz_flag(tmp_path):
    def zoneless(header, body):
        for row in body:
            for c in ("ChargePeriodStart", "ChargePeriodEnd"):
                row[header.index(c)] = row[header.index(c)].replace("T", " ").replace("Z", "")

    f = tmp_path / "local.csv"
    f.write_text(_rewrite((FO / "no_token_charges.csv").read_text(), zoneless))
    assert load(f).one("select min(period_start) from charges") == datetime(2025, 4, 1)
    assert load(f, tz="Europe/Paris").one("select min(period_start) from charges") == datetime(2025, 3, 31, 22)


def test_charge_checks_pass_after_loading_every_billing_fixture():
    from planner.db import load_sql

    files = [p for d in ("focus", "openai-costs", "anthropic-cost") for p in sorted((FIXTURES / d).glob("*"))
             if p.is_file() and p.suffix != ".md"]
    got = load(*files)
    assert all(r.status == "loaded" for r in got.results)
    assert got.one("select count(*) from charges") == 59  # re-exported lines replaced, not added
    for check in ("checks/check_charges__unique_charge", "checks/check_charges__usd_only_when_usd"):
        assert got.q(load_sql(check)) == []
