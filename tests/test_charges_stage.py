"""The charges stage's SQL building blocks: exact decimals, token units, OpenAI line items."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from planner.db import quote_literal
from planner.ingest._charges import decimal_sql, unit_scale_sql
from planner.ingest._stage import FieldSource
from planner.ingest.openai import line_item_relation


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


@pytest.mark.parametrize(("unit", "scale"), [
    ("Tokens", 1), ("tokens", 1), ("1K Tokens", 1000), ("1k tokens", 1000), ("1M tokens", 1_000_000),
    ("1000 Tokens", 1000), ("1,000 Tokens", 1000), ("10K Tokens", 10_000), ("1000_tokens", 1000),
    ("million_tokens", 1_000_000), ("1K", 1000), ("1M", 1_000_000), ("Units", 1), ("Count", 1),
    ("Million Tokens", 1_000_000), ("1 Billion Tokens", 1_000_000_000),
    ("Hours", None), ("1 Hour", None), ("GB-Mo", None), ("Requests", None), ("images", None),
    ("duration_seconds", None), ("", None), (None, None),
])
def test_token_unit_scale(con, unit, scale):
    expr = unit_scale_sql("NULL" if unit is None else quote_literal(unit))
    got = con.execute(f"SELECT {expr}").fetchone()[0]
    assert got == (None if scale is None else Decimal(scale))


@pytest.mark.parametrize(("sql", "sql_type", "want"), [
    ("0.4187", "DOUBLE", "0.4187"), ("0.30000000000000004", "DOUBLE", "0.3"), ("1e-07", "DOUBLE", "0.0000001"),
    ("'457.170000'", "VARCHAR", "457.17"), ("' -0.25 '", "VARCHAR", "-0.25"), ("'1.2E-5'", "VARCHAR", "0.000012"),
    ("'1,234.50'", "VARCHAR", None), ("'$3'", "VARCHAR", None), ("'abc'", "VARCHAR", None),
    ("CAST(12.5 AS DECIMAL(18, 6))", "DECIMAL(18,6)", "12.5"), ("42", "INTEGER", "42"),
])
def test_decimal_parsing_is_exact(con, sql, sql_type, want):
    got = con.execute(f"SELECT {decimal_sql(FieldSource(sql=sql, type=sql_type))}").fetchone()[0]
    assert got == (None if want is None else Decimal(want))


def test_cents_scale_keeps_ten_digits(con):
    got = con.execute(f"SELECT {decimal_sql(FieldSource(sql=quote_literal('0.012345'), type='VARCHAR'), '0.01')}")
    assert got.fetchone()[0] == Decimal("0.00012345")


@pytest.mark.parametrize(("line", "model", "direction", "tier", "modality"), [
    ("gpt-4o-mini-2024-07-18, input", "gpt-4o-mini-2024-07-18", "input", None, None),
    ("gpt-4o-mini-2024-07-18, cached input", "gpt-4o-mini-2024-07-18", "cache_read", None, None),
    ("gpt-4.1-2025-04-14, output", "gpt-4.1-2025-04-14", "output", None, None),
    ("priority | gpt-5-2025-08-07, output, long context", "gpt-5-2025-08-07", "output", "priority", None),
    ("gpt-5, cache writes", "gpt-5", "cache_write", None, None),
    ("gpt-image-1 image, output", "gpt-image-1", "output", None, "image"),
    ("gpt-audio-mini-2025-12-15 audio, input", "gpt-audio-mini-2025-12-15", "input", None, "audio"),
    ("whisper-1, audio", "whisper-1", None, None, None),
    ("web search tool calls", None, None, None, None),
    ("Vector storage", None, None, None, None),
    ("Image generation", None, None, None, None),
])
def test_openai_line_items(con, line, model, direction, tier, modality):
    relation = line_item_relation(f"(SELECT {quote_literal(line)} AS _li_line) AS src")
    got = con.execute(f"SELECT _li_model, _li_direction, _li_tier, _li_modality FROM {relation}")
    assert got.fetchone() == (model, direction, tier, modality)
