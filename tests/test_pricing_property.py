"""Property: for any mix of requests, every row's cost equals calc_price on that request alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import db, pricing
from planner.config import load_config

# (usage provider, usage model, genai-prices provider, genai-prices ref, tiers the test may draw)
MODELS = [
    ("anthropic", "claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5", ("standard", "batch")),
    ("openai", "gpt-5.6-terra", "openai", "gpt-5.6-terra", ("standard", "batch", "flex", "priority")),
    ("openai", "gpt-4o-mini-2024-07-18", "openai", "gpt-4o-mini", ("standard",)),
    ("google", "gemini-2.5-pro", "google", "gemini-2.5-pro", ("standard",)),
    ("deepseek", "deepseek-chat", "deepseek", "deepseek-chat", ("standard",)),
    ("groq", "openai/gpt-oss-120b", "groq", "openai/gpt-oss-120b", ("standard",)),
]
CTX = {"standard": None, "batch": {"processing": "batch"}, "flex": {"service_tier": "flex"},
       "priority": {"service_tier": "priority"}}
START = datetime(2026, 10, 14)   # genai-prices' OpenAI/Anthropic tier variants are in force from here on


@st.composite
def request(draw):
    m = draw(st.sampled_from(MODELS))
    inp = draw(st.one_of(st.integers(0, 400_000), st.sampled_from([199_999, 200_000, 200_001, 272_000, 272_001])))
    cached = draw(st.integers(0, inp))
    write = draw(st.integers(0, inp - cached))
    out = draw(st.integers(0, 20_000))
    tier = draw(st.sampled_from(m[4]))
    ts = START + timedelta(seconds=draw(st.integers(0, 40 * 86_400)))
    return m, inp, cached, write, out, tier, ts


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = db.connect(tmp_path_factory.mktemp("prop") / "p.duckdb")
    yield c
    c.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(request(), min_size=1, max_size=12))
def test_any_request_mix_prices_like_calc_price(con, reqs):
    con.execute("DELETE FROM usage")
    rows = []
    for i, (m, inp, cached, write, out, tier, ts) in enumerate(reqs):
        batch = tier == "batch"
        service_tier = tier if tier in ("flex", "priority") else None
        rows.append((f"e{i}", "s", i, "request", ts, m[0], m[1], 1, inp, cached, write, out, batch, service_tier, "ok"))
    con.executemany("insert into usage (event_id, source_id, source_row, grain, ts, provider, model, requests, "
                    "input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, batch, service_tier, "
                    "status) values (md5(?)::uuid, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    with db.transaction(con):
        pricing.price_usage(con, load_config(), None)
    got = dict(con.execute("select source_row, cost_usd from usage_enriched").fetchall())
    for i, (m, inp, cached, write, out, tier, ts) in enumerate(reqs):
        want = calc_price(Usage(input_tokens=inp, cache_read_tokens=cached, cache_write_tokens=write,
                                output_tokens=out), m[3], provider_id=m[2],
                          genai_request_timestamp=ts.replace(tzinfo=UTC), price_context=CTX[tier]).total_price
        assert got[i] is not None and abs(got[i] - want) <= Decimal("0.0000000001"), (m[1], tier, inp, ts, got[i], want)
    total = con.execute("select sum(cost_usd) from v_daily_spend").fetchone()[0]
    assert total == sum(got.values())
