"""capacity.md §7's three worked examples, through `planner estimate`'s library function.

Same inputs as the reference; replicas, GPU counts, GPU cost, TCO and the verdict must match within
±10%. API bills come from genai-prices (one representative request x request count) over a
730-hour month, so they sit ~1.4% above the reference's 30-day figures.
"""

from __future__ import annotations

import pytest

from planner.config import load_config
from planner.estimate import Workload, estimate, with_flags


def approx(expected: float, rel: float = 0.10):
    return pytest.approx(expected, rel=rel)


def usd(v) -> float:
    return float(v)


# ---------------------------------------------------------------- example 1: support agent

EX1 = Workload(requests_per_day=20_000, input_tokens_per_day=20_000 * 3600, output_tokens_per_day=20_000 * 400,
               cached_share=0.6, peak_to_mean=0.667 / (20_000 / 86_400), kind="chat")


@pytest.fixture(scope="module")
def cfg():
    return load_config(None)


@pytest.mark.parametrize(("model", "gpu", "gpus", "gpu_cost", "tco"), [
    ("llama-3.3-70b", "h100", 4, 7300, 13_000),
    ("qwen3-32b", "h100", 2, 3650, 9_400),
    ("llama-3.1-8b", "l40s", 2, 1460, 7_200),
])
def test_example1_fleets_and_verdict(cfg, model, gpu, gpus, gpu_cost, tco):
    r = estimate(cfg, EX1, model=model, gpu=gpu, api_model="claude-sonnet-4-5", api_provider="anthropic")
    sh = r["self_host"]
    assert r["workload"]["design_peak_rps"] == approx(0.67, 0.02)
    assert sh["replicas"] == 2                          # one replica covers the peak; HA makes it two
    assert sh["gpus"] == gpus
    assert usd(sh["gpu_cost_usd"]) == approx(gpu_cost)
    assert usd(sh["labor_cost_usd"]) == approx(5208, 0.01)
    assert usd(sh["observability_cost_usd"]) == approx(500, 0.01)
    assert usd(sh["monthly_cost_usd"]) == approx(tco)
    assert usd(r["api"]["monthly_cost_usd"]) == approx(6581)
    # "do not migrate at this volume. Even against Sonnet 4.5 the self-hosted TCO is higher."
    assert r["decision"] == "stay"
    assert sh["fleet"]["mean_utilization"] < 0.10     # "average utilisation ... is ~3%"


def test_example1_l4_bf16_is_infeasible(cfg):
    r = estimate(cfg, EX1, model="llama-3.1-8b", gpu="l4", gpus_per_replica=1, precision="bf16",
                 api_model="claude-sonnet-4-5", api_provider="anthropic")
    assert r["self_host"]["feasible"] is False
    assert any("latency" in x or "ITL" in x for x in r["self_host"]["reasons"])


@pytest.mark.parametrize(("api_model", "provider", "bill"), [
    ("claude-sonnet-4-5", "anthropic", 6581),
    ("claude-haiku-4-5", "anthropic", 2194),
    ("gpt-4.1-mini", "openai", 859),
    ("gpt-5-mini", "openai", 728),
    ("llama-3.3-70b-versatile", "groq", 1464),
    ("openai/gpt-oss-120b", "groq", 371),
])
def test_example1_api_bills(cfg, api_model, provider, bill):
    r = estimate(cfg, EX1, model="llama-3.3-70b", gpu="h100", api_model=api_model, api_provider=provider)
    assert usd(r["api"]["monthly_cost_usd"]) == approx(bill)
    assert r["decision"] == "stay"


def test_example1_breakeven_volume_against_sonnet(cfg):
    """'Break-even against Sonnet 4.5 with the 70B option comes at roughly 2x this volume.'"""
    r = estimate(cfg, EX1, model="llama-3.3-70b", gpu="h100", api_model="claude-sonnet-4-5", api_provider="anthropic")
    vol = next(f for f in r["flips"] if f["assumption"] == "scoring.volume_multiplier")
    assert 1.5 <= vol["flips_at"] <= 3.0
    assert vol["decision_then"] in ("migrate", "pilot")


def test_example1_hosted_open_weights_win(cfg):
    """'Against hosted open-weight APIs it is 5-30x higher.'"""
    r = estimate(cfg, EX1, model="llama-3.3-70b", gpu="h100", api_model="claude-sonnet-4-5", api_provider="anthropic")
    hosted = usd(r["open_model_api"]["monthly_cost_usd"])
    assert 5 <= usd(r["self_host"]["monthly_cost_usd"]) / hosted <= 40
    assert r["overall"]["chosen_option"] == "open_model_api"


# ---------------------------------------------------------------- example 2: batch extraction

EX2 = Workload(requests_per_day=4_000_000 / 30, input_tokens_per_day=4_000_000 / 30 * 5000,
               output_tokens_per_day=4_000_000 / 30 * 500, mode="batch", kind="extraction")


@pytest.mark.parametrize(("model", "gpu", "gpus_per_replica", "gpu_hours", "tok_s"), [
    ("llama-3.1-8b", "h100", 1, 187, 3009),
    ("llama-3.3-70b", "h100", 2, 1271, 887 / 2),
    ("gpt-oss-20b", "h100", 1, 207, 2721),
    ("qwen3-30b-a3b", "h100", 1, 211, 2674),
    ("llama-3.1-8b", "l40s", 1, 658, 856),
])
def test_example2_gpu_hours(cfg, model, gpu, gpus_per_replica, gpu_hours, tok_s):
    r = estimate(cfg, EX2, model=model, gpu=gpu, api_model="claude-haiku-4-5", api_provider="anthropic")
    sh = r["self_host"]
    assert sh["gpus_per_replica"] == gpus_per_replica
    assert float(sh["gpu_hours_per_month"]) == approx(gpu_hours)
    assert sh["tokens_per_second_per_gpu"] == approx(tok_s)


def test_example2_costs_and_verdicts(cfg):
    r = estimate(cfg, EX2, model="llama-3.1-8b", gpu="h100", api_model="claude-haiku-4-5", api_provider="anthropic")
    sh = r["self_host"]
    assert usd(sh["gpu_cost_usd"]) == approx(470)                    # "8B on H100 ~ $470/month" by the hour
    assert usd(sh["observability_cost_usd"]) == approx(400, 0.01)    # "about $400 observability"
    assert 3000 <= usd(sh["monthly_cost_usd"]) <= 7500               # "$3k-7.5k all-in"
    assert usd(r["api"]["monthly_cost_usd"]) == approx(15_000)       # Haiku 4.5 batch
    assert r["decision"] == "migrate"                                # beats Haiku-class batch APIs
    seventy = estimate(cfg, EX2, model="llama-3.3-70b", gpu="h100")
    assert usd(seventy["self_host"]["gpu_cost_usd"]) == approx(3180)
    sonnet = estimate(cfg, EX2, model="llama-3.1-8b", gpu="h100", api_model="claude-sonnet-4-5", api_provider="anthropic")
    assert usd(sonnet["api"]["monthly_cost_usd"]) == approx(45_000) and sonnet["decision"] == "migrate"
    mini = estimate(cfg, EX2, model="llama-3.1-8b", gpu="h100", api_model="gpt-5-mini", api_provider="openai")
    assert usd(mini["api"]["monthly_cost_usd"]) == approx(4500)
    assert mini["decision"] == "stay"                                # "close to or worse than GPT-5-mini batch"
    assert mini["views"]["gpu_only"]["decision"] != "stay"           # GPU rent alone would say otherwise


def test_example2_dedicated_gpu_alternative(cfg):
    """'$1,825 if one GPU is dedicated 24/7': a forced one-GPU fleet."""
    r = estimate(cfg, EX2, model="llama-3.1-8b", gpu="h100", gpus=1)
    assert usd(r["self_host"]["gpu_cost_usd"]) == approx(1825, 0.01)


# ---------------------------------------------------------------- example 3: bursty chat

EX3 = Workload(requests_per_day=3 * 86_400, input_tokens_per_day=3 * 86_400 * 1500,
               output_tokens_per_day=3 * 86_400 * 350, cached_share=0.5, peak_to_mean=8, kind="chat")


@pytest.fixture(scope="module")
def cfg3():
    base = load_config(None).with_assumptions({"labor.fte_per_deployment": 0.5}, "config")
    return with_flags(base, gpu=None, gpu_price_per_hour=None, hours_per_month=None, ttft_ms=1000, itl_ms=30)


@pytest.mark.parametrize(("model", "tp", "gpus", "gpu_cost", "tco"), [
    ("gpt-oss-120b", 2, 6, 10_950, 22_000),      # "3-4 replicas x 2 GPUs", "~$22-26k"
    ("qwen3-32b", 1, 7, 12_775, 24_000),
    ("llama-3.1-8b", 1, 3, 5_475, 16_000),
])
def test_example3_fleets(cfg3, model, tp, gpus, gpu_cost, tco):
    r = estimate(cfg3, EX3, model=model, gpu="h100", gpus_per_replica=tp, api_model="claude-sonnet-4-5",
                 api_provider="anthropic")
    sh = r["self_host"]
    assert r["workload"]["design_peak_rps"] == approx(24, 0.01)
    assert sh["gpus"] == approx(gpus)
    assert usd(sh["gpu_cost_usd"]) == approx(gpu_cost)
    assert usd(sh["monthly_cost_usd"]) == approx(tco)
    free = estimate(cfg3, EX3, model=model, gpu="h100")        # planner's own tensor-parallel choice
    assert usd(free["self_host"]["monthly_cost_usd"]) <= usd(sh["monthly_cost_usd"]) + 0.01


def test_example3_verdicts(cfg3):
    sonnet = estimate(cfg3, EX3, model="gpt-oss-120b", gpu="h100", api_model="claude-sonnet-4-5", api_provider="anthropic")
    assert usd(sonnet["api"]["monthly_cost_usd"]) == approx(60_070)
    assert sonnet["decision"] == "migrate"              # "pays clearly", and still at 0.6x the MoE estimate
    haiku = estimate(cfg3, EX3, model="gpt-oss-120b", gpu="h100", api_model="claude-haiku-4-5", api_provider="anthropic")
    assert usd(haiku["api"]["monthly_cost_usd"]) == approx(20_023)
    assert haiku["decision"] in ("stay", "pilot")       # "roughly breaks even"
    hosted = estimate(cfg3, EX3, model="gpt-oss-120b", gpu="h100", api_model="openai/gpt-oss-120b", api_provider="groq")
    assert usd(hosted["api"]["monthly_cost_usd"]) == approx(2945)
    assert hosted["decision"] == "stay"                 # "self-hosting is 6-10x more expensive"
    assert 5 <= usd(hosted["self_host"]["monthly_cost_usd"]) / usd(hosted["api"]["monthly_cost_usd"]) <= 10
    assert sonnet["self_host"]["fleet"]["mean_utilization"] < 0.10     # "single digits"
