"""Score every segment four ways (DESIGN §6.2), decide, and say what would flip the decision.

For each segment of a run:
- `api_current`: what the segment's API traffic costs per month today (from priced usage);
- `api_optimized`: the same provider, with the batch API for batch-mode traffic, prompt caching for
  a detected prompt template, a cheaper tier of the same provider for simple kinds;
- `open_model_api`: the cheapest feasible open-weight model hosted by an API provider;
- `self_host`: the cheapest feasible open model x GPU x tensor-parallel size, sized under the
  segment's latency targets for its per-minute peak, with N+1 replicas, labour and observability.

Feasibility carries reasons (context window below the p99 request, capability tier below the
workload kind, sensitivity, licence, latency targets). The decision (`migrate`, `pilot`,
`optimize_api`, `stay`) weighs monthly savings against one-time migration cost; `flips` give, per
key assumption, the value at which the decision would change.

Speed: sizing is vectorised over segments x deployments (planner.capacity), option selection and
flips over arrays; Python loops run per segment only to assemble rows. Money is computed with
floats only to search and compare; every stored figure is recomputed with Decimal.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from planner import capacity as cap
from planner import hybrid
from planner.catalog import KINDS, Catalog, Model, load_catalog, normalize_kind
from planner.offers import (
    Offer,
    TokenShape,
    genai_offer,
    offer_price_matrix,
    price_time,
    shape_cost,
    shape_costs,
)
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

OPTIONS = ("api_current", "api_optimized", "open_model_api", "self_host", "hybrid")
DECISIONS = ("stay", "optimize_api", "migrate", "pilot")          # codes 0..3
STAY, OPTIMIZE, MIGRATE, PILOT = 0, 1, 2, 3
SENSITIVITY_ORDER = {"public": 0, "internal": 1, "confidential": 2, "regulated": 3}
TOP_K = 8
TOP_K_HYBRID = 1                # hybrid fleets recomputed for flips and the break-even map
CHUNK = 1000                    # segments scored at once: bounds the (segments x deployments) arrays
SMALL_TIER_CONTEXT = 128_000    # context every listed cheaper tier has (Haiku 4.5: 200K, GPT-5 mini: 400K, ...)
CENT = Decimal("0.01")


# ---------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Params:
    """Every assumption scoring uses, read once (keys in planner/data/defaults/*.toml)."""

    hours_per_month: float
    utilization_target: float
    availability_target: float
    spare_replicas: int
    min_replicas: int
    failover: str
    api_fallback_share: float
    autoscale: bool
    batch_utilization: float
    obs_per_node: float
    obs_fixed: float
    fte_cost: float
    fte_per_deployment: float
    ttft_s: float
    tpot_s: float
    turnaround_h: float
    min_savings_share: float
    min_savings_usd: float
    migrate_max_months: float
    pilot_max_months: float
    horizon_months: float
    third_party_max: str
    volume: float
    api_price: float
    price_date: str
    default_peak_to_mean: float
    design_quantile: float
    required: dict[str, int]
    evaluation_weeks: float
    self_host_weeks: float
    switch_weeks: float
    template_cached_share: float
    cheaper_kinds: tuple[str, ...]
    licences_allowed: tuple[str, ...]
    gpu_prices: dict[str, float]
    settings: cap.Settings
    provider_price: dict[str, float] = field(default_factory=dict)
    hybrid_enabled: bool = True
    map_gpu: tuple[float, ...] = (1.0,)
    map_volume: tuple[float, ...] = (1.0,)

    @classmethod
    def from_config(cls, config: Config, catalog: Catalog) -> Params:
        validate_config(config, catalog)
        n = config.num
        kinds = [*KINDS, "unknown"]
        return cls(
            hours_per_month=n("operations.hours_per_month"), utilization_target=n("operations.utilization_target"),
            availability_target=n("operations.availability_target"),
            spare_replicas=int(config.value("operations.spare_replicas")),
            min_replicas=int(config.value("operations.min_replicas_interactive")),
            failover=str(config.value("operations.failover")), api_fallback_share=n("operations.api_fallback_share"),
            autoscale=bool(config.value("operations.autoscale")), batch_utilization=n("operations.batch_utilization"),
            obs_per_node=n("operations.observability_per_node_month"), obs_fixed=n("operations.observability_fixed_month"),
            fte_cost=n("labor.fte_cost_per_year"), fte_per_deployment=n("labor.fte_per_deployment"),
            ttft_s=n("latency.interactive.ttft_ms") / 1000.0, tpot_s=n("latency.interactive.itl_ms") / 1000.0,
            turnaround_h=n("latency.batch.turnaround_hours"),
            min_savings_share=n("scoring.min_savings_share"), min_savings_usd=n("scoring.min_savings_usd"),
            migrate_max_months=n("scoring.migrate_max_breakeven_months"),
            pilot_max_months=n("scoring.pilot_max_breakeven_months"), horizon_months=n("scoring.horizon_months"),
            third_party_max=str(config.value("scoring.third_party_max_sensitivity")),
            volume=n("scoring.volume_multiplier"), api_price=n("scoring.api_price_multiplier"),
            price_date=str(config.value("scoring.price_date")),
            default_peak_to_mean=n("scoring.default_peak_to_mean"),
            design_quantile=n("operations.design_peak_quantile"),
            required={k: int(config.value(f"capability.required.{k}")) for k in kinds},
            evaluation_weeks=n("migration.evaluation_weeks"), self_host_weeks=n("migration.self_host_engineering_weeks"),
            switch_weeks=n("migration.api_switch_weeks"),
            template_cached_share=n("api_optimized.template_cached_share"),
            cheaper_kinds=tuple(normalize_kind(k) or k for k in config.value("api_optimized.cheaper_model_kinds")),
            licences_allowed=tuple(config.value("licence.allowed")),
            gpu_prices={g: n(f"gpus.{g}.price_per_hour") for g in catalog.gpus},
            settings=cap.Settings.from_config(config),
            provider_price={str(k).lower(): float(v)
                            for k, v in dict(config.value("scoring.provider_price_multipliers")).items()},
            hybrid_enabled=bool(config.value("hybrid.enabled")),
            map_gpu=tuple(sorted({float(x) for x in config.value("scoring.breakeven_map.gpu_price_multipliers")} | {1.0})),
            map_volume=tuple(sorted({float(x) for x in config.value("scoring.breakeven_map.volume_multipliers")} | {1.0})),
        )

    def price_mult(self, provider: str | None) -> float:
        """Scenario or negotiated change of one provider's API prices (1.0 = list price)."""
        return self.provider_price.get((provider or "").lower(), 1.0)

    @property
    def week_cost(self) -> float:
        return self.fte_cost / 52.0

    @property
    def days_per_month(self) -> float:
        return self.hours_per_month / 24.0


def validate_config(config: Config, catalog: Catalog) -> None:
    """Scoring assumptions and candidates that cannot work are configuration errors, named by key."""
    import difflib

    from planner.errors import ConfigError

    where = str(config.path) if config.path else "planner.toml"

    def one_of(key: str, allowed: Sequence[str]) -> None:
        v = str(config.value(key))
        if v not in allowed:
            close = difflib.get_close_matches(v, list(allowed), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{where}: {key}: {v!r} is not one of {', '.join(allowed)}{hint}")

    def within(key: str, lo: float, hi: float, *, open_lo: bool = False) -> None:
        v = config.num(key)
        if not (lo < v if open_lo else lo <= v) or v > hi:
            raise ConfigError(f"{where}: {key}: {v:g} is outside {'(' if open_lo else '['}{lo:g}, {hi:g}]")

    def known(key: str, values: Sequence[str], universe: Sequence[str], what: str) -> None:
        for v in values:
            if v not in universe:
                close = difflib.get_close_matches(str(v), list(universe), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ConfigError(f"{where}: {key}: unknown {what} {v!r}{hint}")

    one_of("operations.failover", ("spare_replica", "api_fallback"))
    one_of("capacity.weight_precision", ("auto", "bf16", "fp8", "int4"))
    one_of("capacity.kv_cache_dtype", ("auto", "fp8", "bf16"))
    one_of("scoring.third_party_max_sensitivity", tuple(SENSITIVITY_ORDER))
    for key, lo, hi, open_lo in (
        ("operations.utilization_target", 0, 1, True), ("operations.availability_target", 0, 1, True),
        ("operations.api_fallback_share", 0, 1, False), ("operations.batch_utilization", 0, 1, True),
        ("operations.hours_per_month", 0, 744, True), ("capacity.memory_fraction", 0, 1, True),
        ("capacity.prefill_busy_max", 0, 0.99, True), ("capacity.throughput_factor", 0, 100, True),
        ("scoring.volume_multiplier", 0, 1e6, True), ("scoring.api_price_multiplier", 0, 1e6, True),
        ("scoring.min_savings_share", 0, 1, False), ("labor.fte_cost_per_year", 0, 1e8, False),
        ("labor.fte_per_deployment", 0, 100, False), ("api_optimized.template_cached_share", 0, 1, False),
        ("capacity.error_band.dense", 0, 1, True), ("capacity.error_band.moe", 0, 1, True),
        ("capacity.error_band.calibrated", 0, 1, True),
    ):
        within(key, lo, hi, open_lo=open_lo)
    for g in catalog.gpus:
        within(f"gpus.{g}.price_per_hour", 0, 1e4, open_lo=True)
    mults = config.value("scoring.provider_price_multipliers")
    if not isinstance(mults, dict):
        raise ConfigError(f"{where}: scoring.provider_price_multipliers: expected a table of provider = multiplier")
    for prov, mult in mults.items():
        if isinstance(mult, bool) or not isinstance(mult, int | float) or not 0 < float(mult) <= 1e6:
            raise ConfigError(f"{where}: scoring.provider_price_multipliers.{prov}: expected a multiplier > 0, got {mult!r}")
    for key in ("scoring.breakeven_map.gpu_price_multipliers", "scoring.breakeven_map.volume_multipliers"):
        values = config.value(key)
        if not values or any(isinstance(x, bool) or not isinstance(x, int | float) or not 0 < float(x) <= 1e4
                             for x in values):
            raise ConfigError(f"{where}: {key}: expected a list of multipliers > 0")
    known("licence.allowed", list(config.value("licence.allowed")), list(catalog.licences), "licence")
    kinds = [*KINDS, *_kind_aliases()]
    known("api_optimized.cheaper_model_kinds", list(config.value("api_optimized.cheaper_model_kinds")), kinds, "kind")
    cand = config.candidates
    known("candidates.models", list(cand.models or []), list(catalog.models), "model")
    known("candidates.gpus", list(cand.gpus or []), list(catalog.gpus), "GPU")


def _kind_aliases() -> list[str]:
    from planner.catalog import _KIND_ALIASES

    return list(_KIND_ALIASES)


# ---------------------------------------------------------------- the segments, as arrays

@dataclass
class CurrentApi:
    """What a segment runs on today (its largest model by cost)."""

    provider: str | None
    model_ref: str | None
    cost_month: Decimal | None        # the whole segment, per month, at volume 1 and list price
    batch_share: float
    unpriced_share: float
    models: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Any] | None = None   # observed latency of the busiest model (overflow sees it)


@dataclass
class Frame:
    """S segments as aligned arrays and lists; monthly figures at volume 1."""

    ids: list[str]
    workload: list[str | None]
    kind: list[str | None]                  # normalised (catalog.KINDS) or None
    kind_raw: list[str | None]
    sensitivity: list[str | None]
    mode: list[str]                         # interactive | batch
    context_band: list[str | None]
    workload_source: list[str | None]
    requests_m: np.ndarray
    input_m: np.ndarray
    cached_m: np.ndarray
    output_m: np.ndarray
    cached_known: np.ndarray
    p95_in: np.ndarray
    max_tokens: np.ndarray                  # p99 input + p99 output: the largest request that must fit
    mean_rps: np.ndarray
    design_rps: np.ndarray
    third_party_rule: np.ndarray            # a sensitivity rule allows third-party APIs for all rows
    current: list[CurrentApi | None]
    notes: list[list[str]]
    month_factor: list[Decimal]             # observed totals x this = a month
    hour_profile: np.ndarray | None = None  # (S, 24) shares of requests per hour of day, if known
    repeated_prefix: np.ndarray | None = None  # share of input in a repeated prefix, if known
    forced_gpus: np.ndarray | None = None   # estimate --gpus
    observed: list[dict[str, Any]] = field(default_factory=list)
    minute_hist: list[np.ndarray | None] | None = None  # per-minute arrival histograms (hybrid.parse_histogram)
    price_factor: np.ndarray | None = None  # today's bill x this under provider price changes (1 = list)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, lo: int, hi: int) -> Frame:
        """Segments lo..hi-1 (scoring is per segment, so chunks bound memory on big runs)."""
        def cut(v: Any) -> Any:
            return v[lo:hi] if v is not None else None

        return Frame(**{f: cut(getattr(self, f)) for f in self.__dataclass_fields__})

    @property
    def batch(self) -> np.ndarray:
        return np.array([m == "batch" for m in self.mode])

    @property
    def mean_input(self) -> np.ndarray:
        return np.asarray(self.input_m / np.maximum(self.requests_m, 1e-12))

    @property
    def mean_output(self) -> np.ndarray:
        return np.asarray(self.output_m / np.maximum(self.requests_m, 1e-12))

    @property
    def cached_share(self) -> np.ndarray:
        return np.where(self.input_m > 0, self.cached_m / np.maximum(self.input_m, 1e-12), 0.0)

    def third_party_ok(self, params: Params) -> np.ndarray:
        """May this segment's data go to a third-party API at all?"""
        limit = SENSITIVITY_ORDER.get(params.third_party_max, 2)
        level = np.array([SENSITIVITY_ORDER.get(s or "", -1) for s in self.sensitivity])
        return np.asarray((level <= limit) | self.third_party_rule)


# ---------------------------------------------------------------- self-hosting

@dataclass
class SelfHost:
    deps: list[cap.Deployment]
    model_ids: list[str]
    model_ok: np.ndarray                    # (S, M)
    model_reasons: list[dict[str, str]]     # per segment: model -> why it is excluded
    dep_excluded: dict[tuple[str, str, int], str]
    capacity: cap.Capacity                  # (S, D)
    costs: dict[str, np.ndarray]            # (S, D) float
    feasible: np.ndarray                    # (S, D)
    best: np.ndarray                        # (S,) index into deps, -1 if none
    top: np.ndarray                         # (S, K) indices of the cheapest feasible deployments


def _fleet(*, batch: np.ndarray, requests_m: np.ndarray, mean_rps: np.ndarray, design_rps: np.ndarray,
           ha: np.ndarray, fallback_base: np.ndarray, mu: np.ndarray, offline: np.ndarray, tp: np.ndarray,
           price: np.ndarray, gpn: np.ndarray, p: Params, gpu_mult: Any = 1.0, util: Any = None, fte_cost: Any = None,
           volume: Any = 1.0, throughput: Any = 1.0, api_mult: Any = 1.0, forced: np.ndarray | None = None,
           hour_profile: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Monthly cost of a fleet per (segment, deployment); every input broadcasts to (S, K).

    Interactive: replicas = ceil(peak / (capacity x utilisation)) + spare, at least the HA floor,
    run 24/7 (or per hour of day with autoscaling). Batch: GPU-hours = work / offline throughput.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _fleet_inner(batch=batch, requests_m=requests_m, mean_rps=mean_rps, design_rps=design_rps, ha=ha,
                            fallback_base=fallback_base, mu=mu, offline=offline, tp=tp, price=price, gpn=gpn, p=p,
                            gpu_mult=gpu_mult, util=util, fte_cost=fte_cost, volume=volume, throughput=throughput,
                            api_mult=api_mult, forced=forced, hour_profile=hour_profile)


def _fleet_inner(*, batch: np.ndarray, requests_m: np.ndarray, mean_rps: np.ndarray, design_rps: np.ndarray,
                 ha: np.ndarray, fallback_base: np.ndarray, mu: np.ndarray, offline: np.ndarray, tp: np.ndarray,
                 price: np.ndarray, gpn: np.ndarray, p: Params, gpu_mult: Any, util: Any, fte_cost: Any,
                 volume: Any, throughput: Any, api_mult: Any, forced: np.ndarray | None,
                 hour_profile: np.ndarray | None) -> dict[str, np.ndarray]:
    u = p.utilization_target if util is None else util
    fte = p.fte_cost if fte_cost is None else fte_cost
    hours = p.hours_per_month
    mu_e = mu * throughput
    off_e = offline * throughput
    spare = np.where(ha, p.spare_replicas, 0)
    floor = np.where(ha & (p.availability_target >= 0.999), p.min_replicas, 1)
    need = np.maximum(np.ceil(design_rps * volume / (mu_e * u) - 1e-9), 1.0)
    n_int = np.maximum(need + spare, floor)
    gpu_h_int = n_int * tp * hours
    if hour_profile is not None:
        # autoscaled with a floor: each hour of day sized for its share of the peak
        rel = hour_profile / np.maximum(hour_profile.max(axis=1, keepdims=True), 1e-12)     # (S, 24)
        vol3, u3 = (np.asarray(x, dtype=float)[..., None] if np.ndim(x) == 2 else x for x in (volume, u))
        per_hour = np.maximum(np.ceil(design_rps[..., None] * vol3 * rel[:, None, :] / (mu_e[..., None] * u3) - 1e-9)
                              + spare[..., None], floor[..., None])
        gpu_h_int = np.where(np.isfinite(per_hour).all(axis=-1), per_hour.mean(axis=-1) * tp * hours, np.inf)
    work_h = requests_m * volume / (off_e * p.batch_utilization) / 3600.0
    run_repl = np.maximum(np.ceil(work_h / p.days_per_month / p.turnaround_h - 1e-9), 1.0)
    gpu_h_batch = work_h * tp
    need = np.where(batch, run_repl, need)
    replicas = np.where(batch, run_repl, n_int)
    gpu_hours = np.where(batch, gpu_h_batch, gpu_h_int)
    if forced is not None:
        fixed = np.isfinite(forced)
        forced_repl = np.floor(np.where(fixed, forced, 0.0) / tp)
        replicas = np.where(fixed, forced_repl, replicas)
        gpu_hours = np.where(fixed, forced_repl * tp * hours, gpu_hours)
    gpu_cost = gpu_hours * price * gpu_mult
    spare_cost = np.where(batch, 0.0, np.maximum(replicas - need, 0.0) * tp * hours * price * gpu_mult)
    nodes = replicas * np.ceil(tp / gpn)
    obs = p.obs_per_node * nodes + p.obs_fixed
    labor = np.broadcast_to(p.fte_per_deployment * np.asarray(fte, dtype=float) / 12.0, gpu_cost.shape)
    fallback = np.broadcast_to(np.where(batch | ha, 0.0, p.api_fallback_share * fallback_base * volume * api_mult),
                               gpu_cost.shape)
    total = gpu_cost + obs + labor + fallback
    bad = np.where(batch, ~(off_e > 0), ~(mu_e > 0))
    if forced is not None:
        bad = bad | (np.isfinite(forced) & (replicas < 1))
    naive_gpus = tp * np.maximum(np.ceil(mean_rps * volume / off_e - 1e-9), 1.0)
    gpu_only = np.where(batch, gpu_cost, naive_gpus * hours * price * gpu_mult)
    if forced is not None:
        gpu_only = np.where(np.isfinite(forced), gpu_cost, gpu_only)
    inf = np.inf
    return {"total": np.where(bad, inf, total), "gpu": gpu_cost, "spare": spare_cost, "labor": labor, "obs": obs,
            "fallback": fallback, "gpu_hours": gpu_hours, "replicas": replicas, "need": need, "nodes": nodes,
            "gpu_only": np.where(bad | ~(off_e > 0), inf, gpu_only),
            "gpu_only_gpus": np.where(batch, np.ceil(gpu_hours / hours - 1e-9), naive_gpus)}


def _model_feasibility(frame: Frame, models: list[Model], params: Params) -> tuple[np.ndarray, list[dict[str, str]]]:
    """(S, M) may model m serve segment s at all (capability, context, licence), with reasons."""
    ok = np.ones((len(frame), len(models)), dtype=bool)
    reasons: list[dict[str, str]] = [{} for _ in range(len(frame))]
    for j, m in enumerate(models):
        lic_ok = m.licence.commercial_use and m.licence.id in params.licences_allowed
        for s in range(len(frame)):
            why = []
            if not lic_ok:
                why.append(f"licence {m.licence.name} is not in licence.allowed")
            kind = frame.kind[s]
            need_kind = kind or "unknown"
            need = params.required.get(need_kind, params.required.get("unknown", 2))
            have = m.tier(kind) if kind else m.tier("chat")
            if have < need:
                label = f"workload kind {kind}" if kind else "an unclassified workload"
                frontier = " (frontier APIs only unless capability.required is lowered)" if need >= 4 else ""
                why.append(f"{label} needs capability tier {need}{frontier}; {m.id} has {have}")
            if frame.context_band[s] == ">128K" and kind != "long_document":
                need_long = params.required.get("long_document", 4)
                if m.tier("long_document") < need_long:
                    why.append(f"very long context (>128K) needs tier {need_long} for long documents; {m.id} has "
                               f"{m.tier('long_document')}")
            if frame.max_tokens[s] > m.context_window:
                why.append(f"p99 request of {frame.max_tokens[s]:,.0f} tokens exceeds the {m.context_window:,} token "
                           f"context window")
            if why:
                ok[s, j] = False
                reasons[s][m.id] = "; ".join(why)
    return ok, reasons


def evaluate_self_host(frame: Frame, params: Params, catalog: Catalog, *, model_ids: Sequence[str] | None = None,
                       gpu_ids: Sequence[str] | None = None, tps: Sequence[int] | None = None,
                       precision: str | None = None, calibrations: dict[tuple[str, str, int], cap.Calibration] | None = None,
                       fallback_base: np.ndarray | None = None) -> SelfHost:
    """Size and cost every candidate deployment for every segment; pick the cheapest feasible."""
    models = [catalog.model(m) for m in (model_ids or list(catalog.models))]
    gpus = [catalog.gpu(g) for g in (gpu_ids or list(catalog.gpus))]
    deps: list[cap.Deployment] = []
    excluded: dict[tuple[str, str, int], str] = {}
    for m in models:
        for g in gpus:
            for t, d in cap.deployments_for(m, g, params.settings, tps=tps, precision=precision, calibrations=calibrations):
                if isinstance(d, str):
                    excluded[(m.id, g.id, t)] = d
                else:
                    deps.append(d)
    model_ok, model_reasons = _model_feasibility(frame, models, params)
    s_n = len(frame)
    batch = frame.batch
    shapes = cap.Shapes(
        input_tokens=frame.mean_input, output_tokens=frame.mean_output, cached_share=frame.cached_share,
        ttft_s=np.where(batch, np.inf, params.ttft_s), tpot_s=np.where(batch, np.inf, params.tpot_s),
        max_tokens=np.maximum(frame.max_tokens, frame.mean_input + frame.mean_output),
    )
    if not deps:
        empty = np.zeros((s_n, 0))
        capres = cap.Capacity(*(empty for _ in range(9)))
        return SelfHost([], [m.id for m in models], model_ok, model_reasons, excluded, capres, {"total": empty},
                        empty.astype(bool), np.full(s_n, -1), np.zeros((s_n, 0), dtype=int))
    capres = cap.evaluate(deps, shapes, params.settings)
    m_index = {m.id: j for j, m in enumerate(models)}
    dep_model = np.array([m_index[d.model.id] for d in deps])
    allowed = model_ok[:, dep_model]
    ha = _ha(frame, params)
    base = np.zeros(s_n) if fallback_base is None else np.nan_to_num(fallback_base, nan=0.0)
    fleet_kw: dict[str, Any] = {
        "batch": batch[:, None], "requests_m": frame.requests_m[:, None], "mean_rps": frame.mean_rps[:, None],
        "design_rps": frame.design_rps[:, None], "ha": ha[:, None], "fallback_base": base[:, None],
        "mu": capres.mu_rps, "offline": capres.offline_rps,
        "tp": np.array([d.tp for d in deps], dtype=float)[None, :],
        "price": np.array([params.gpu_prices[d.gpu.id] for d in deps])[None, :],
        "gpn": np.array([d.gpu.gpus_per_node for d in deps], dtype=float)[None, :],
        "p": params, "volume": params.volume, "api_mult": params.api_price,
        "forced": None if frame.forced_gpus is None else frame.forced_gpus[:, None],
        "hour_profile": frame.hour_profile if params.autoscale else None,
    }
    costs = _fleet(**fleet_kw)
    total = np.where(allowed, costs["total"], np.inf)
    feasible = np.isfinite(total)
    # the low end of each estimate's error band (decides migrate vs pilot)
    band = np.array([d.error_band(params.settings) for d in deps])[None, :]
    low = _fleet(**{**fleet_kw, "mu": capres.mu_rps * band, "offline": capres.offline_rps * band})
    costs["total_band"] = np.where(allowed, low["total"], np.inf)
    costs["gpu_only_band"] = np.where(allowed, low["gpu_only"], np.inf)
    # a wider replica than the smallest that fits must be clearly cheaper (all-reduce is not modelled)
    tp = np.array([d.tp for d in deps])
    tp_min: dict[tuple[str, str], int] = {}
    for d in deps:
        tp_min[(d.model.id, d.gpu.id)] = min(tp_min.get((d.model.id, d.gpu.id), d.tp), d.tp)
    wider = np.array([d.tp > tp_min[(d.model.id, d.gpu.id)] for d in deps])[None, :]
    gpus_used = costs["replicas"] * tp[None, :]
    order_key = np.where(feasible, total * (1.0 + params.settings.tp_min_gain * wider) + 1e-6 * gpus_used, np.inf)
    best = np.where(feasible.any(axis=1), np.argmin(order_key, axis=1), -1)
    k = min(TOP_K, len(deps))
    top = np.argsort(order_key, axis=1, kind="stable")[:, :k]
    return SelfHost(deps, [m.id for m in models], model_ok, model_reasons, excluded, capres,
                    {**costs, "total": total}, feasible, best, top)


@dataclass
class Hybrid:
    """The hybrid option per (segment, deployment): the cheapest fleet for the base load plus overflow."""

    profiles: hybrid.Profiles
    fleet: hybrid.Fleet          # (S, D)
    total: np.ndarray            # (S, D), inf where infeasible
    total_band: np.ndarray       # (S, D) the same fleet at the low end of the capacity estimate
    best: np.ndarray             # (S,) index into deps, -1 if none
    top: np.ndarray              # (S, K) the cheapest deployments (flips, break-even map)
    why_not: list[str | None]    # per segment: why no hybrid at all (None: see the deployments)
    blocked: np.ndarray          # (S,) overflow to a third-party API not allowed


def evaluate_hybrid(frame: Frame, params: Params, sh: SelfHost, c0: np.ndarray, third_party_ok: np.ndarray) -> Hybrid:
    """Size the hybrid fleet for every (segment, deployment) from the segment's per-minute arrivals."""
    s_n = len(frame)
    prof = hybrid.Profiles.build(frame.minute_hist if frame.minute_hist is not None else [None] * s_n)
    blocked = ~third_party_ok
    why: list[str | None] = []
    forced = frame.forced_gpus is not None and bool(np.isfinite(frame.forced_gpus).any())
    for s in range(s_n):
        if not params.hybrid_enabled:
            why.append("hybrid.enabled is false")
        elif frame.mode[s] == "batch":
            why.append("batch traffic has no peak to overflow: self_host bills the GPU-hours of the work")
        elif blocked[s]:
            why.append(f"{frame.sensitivity[s] or 'sensitive'} data may not overflow to a third-party API (no "
                       "sensitivity rule allows it): the fleet must cover the peak, which is the self_host option")
        elif forced:
            why.append("the fleet size is forced (--gpus)")
        elif not prof.known[s]:
            why.append("no per-minute arrival profile (aggregated rows only, or no arrivals on the minute grid): "
                       "the overflow cannot be computed")
        elif not np.isfinite(c0[s]):
            why.append("today's cost is unknown: the overflow to the API cannot be priced")
        else:
            why.append(None)
    possible = np.array([w is None for w in why])
    d_n = len(sh.deps)
    if not d_n:
        empty = np.zeros((s_n, 0))
        fleet = hybrid.Fleet(*(empty for _ in range(9)))
        return Hybrid(prof, fleet, empty, empty, np.full(s_n, -1), np.zeros((s_n, 0), dtype=int), why, blocked)
    seg = np.arange(s_n)[:, None]
    tp = np.array([d.tp for d in sh.deps], dtype=float)[None, :]
    gpn = np.array([d.gpu.gpus_per_node for d in sh.deps], dtype=float)[None, :]
    price = np.array([params.gpu_prices[d.gpu.id] for d in sh.deps])[None, :]
    mu = np.where(sh.feasible, sh.capacity.mu_rps, 0.0)
    kw: dict[str, Any] = {
        "gpu_replica": tp * params.hours_per_month * price, "obs_replica": params.obs_per_node * np.ceil(tp / gpn),
        "fixed_obs": params.obs_fixed, "labor": params.fte_per_deployment * params.fte_cost / 12.0,
        "bill": np.nan_to_num(c0, nan=np.nan, posinf=np.nan)[:, None], "fail": params.api_fallback_share,
        "volume": params.volume, "ok": sh.feasible & possible[:, None],
    }
    fleet = hybrid.cheapest(prof, seg, c=hybrid.capacity_per_minute(mu, params.utilization_target), **kw)
    band = np.array([d.error_band(params.settings) for d in sh.deps])[None, :]
    low = hybrid.cost_of(prof, seg, fleet.replicas, c=hybrid.capacity_per_minute(mu * band, params.utilization_target),
                         **{k: v for k, v in kw.items() if k != "ok"})
    total_band = np.where(np.isfinite(fleet.total), low, np.inf)
    tp_i = np.array([d.tp for d in sh.deps])
    tp_min: dict[tuple[str, str], int] = {}
    for d in sh.deps:
        tp_min[(d.model.id, d.gpu.id)] = min(tp_min.get((d.model.id, d.gpu.id), d.tp), d.tp)
    wider = np.array([d.tp > tp_min[(d.model.id, d.gpu.id)] for d in sh.deps])[None, :]
    order_key = np.where(np.isfinite(fleet.total), fleet.total * (1.0 + params.settings.tp_min_gain * wider)
                         + 1e-6 * fleet.replicas * tp_i[None, :], np.inf)
    best = np.where(np.isfinite(order_key).any(axis=1), np.argmin(order_key, axis=1), -1)
    top = np.argsort(order_key, axis=1, kind="stable")[:, :min(TOP_K_HYBRID, d_n)]
    return Hybrid(prof, fleet, fleet.total, total_band, best, top, why, blocked)


def _ha(frame: Frame, params: Params) -> np.ndarray:
    """Spare replicas instead of API fallback: by config, and always when data may not leave."""
    blocked = ~frame.third_party_ok(params)
    return np.asarray(np.full(len(frame), params.failover != "api_fallback") | blocked)


# ---------------------------------------------------------------- decision

def decide(c0: np.ndarray, alt: np.ndarray, one_time: np.ndarray, ok: np.ndarray, uncertain: np.ndarray,
           params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised decision. alt/one_time/ok/uncertain are (S, 4) for api_optimized, open_model_api,
    self_host, hybrid. Returns (decision code, chosen option index 0..4, monthly savings, break-even months)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        savings = c0[:, None] - alt
        be = np.where(savings > 0, one_time / savings, np.inf)
        threshold = np.maximum(params.min_savings_share * c0, params.min_savings_usd)[:, None]
        qual = ok & np.isfinite(alt) & np.isfinite(c0)[:, None] & (savings >= threshold) & (be <= params.pilot_max_months)
        value = np.where(qual, savings * params.horizon_months - one_time, -np.inf)
    any_q = qual.any(axis=1)
    best = np.argmax(value, axis=1)
    chosen = np.where(any_q, best + 1, 0)
    rows = np.arange(len(c0))
    be_best = be[rows, best]
    unc_best = uncertain[rows, best]
    decision = np.full(len(c0), STAY)
    decision = np.where(chosen == 1, OPTIMIZE, decision)
    migrating = (chosen >= 2)
    decision = np.where(migrating & (be_best <= params.migrate_max_months) & ~unc_best, MIGRATE, decision)
    decision = np.where(migrating & ((be_best > params.migrate_max_months) | unc_best), PILOT, decision)
    sav = np.where(any_q, savings[rows, best], 0.0)
    return decision, chosen, sav, np.where(any_q, be_best, np.nan)


# ---------------------------------------------------------------- flips

@dataclass(frozen=True)
class FlipSpec:
    name: str                # key of the assumption
    label: str
    unit: str
    lo: float                # multiplier range (or absolute range when absolute=True)
    hi: float
    absolute: bool = False


def _flip_specs(params: Params) -> list[FlipSpec]:
    return [
        FlipSpec("gpu_price", "GPU rent", "USD per GPU-hour", 0.05, 20.0),
        FlipSpec("operations.utilization_target", "the utilisation target", "share of SLO capacity", 0.05, 0.95, True),
        FlipSpec("labor.fte_cost_per_year", "the loaded cost of an engineer", "USD per FTE-year", 0.02, 20.0),
        FlipSpec("scoring.volume_multiplier", "traffic volume", "x observed volume", 0.05, 20.0),
        FlipSpec("capacity.throughput_factor", "real throughput (against the estimate)", "x estimated capacity", 0.1, 10.0),
        FlipSpec("scoring.api_price_multiplier", "API prices", "x list prices", 0.05, 20.0),
    ]


@dataclass
class DecisionInputs:
    """Everything the decision needs, as floats, so flips can recompute it under other assumptions."""

    c0: np.ndarray                 # (S,) api_current monthly, at the configured volume and API prices
    c1: np.ndarray                 # (S,) api_optimized, same basis
    c2: np.ndarray                 # (S,) open_model_api, same basis
    one_time: np.ndarray           # (S, 4)
    ok: np.ndarray                 # (S, 4) feasible (api options: third-party allowed, priced)
    uncertain: np.ndarray          # (S, 4)
    fleet_args: dict[str, Any]         # (S, K) deployment arrays for self_host (top K)
    frame_args: dict[str, Any]         # (S, 1) segment arrays
    c3: np.ndarray | None = None       # (S,) self_host cost under the current assumptions
    hybrid_args: dict[str, Any] = field(default_factory=dict)  # (S, K) deployment arrays for hybrid (top K)
    profiles: hybrid.Profiles | None = None
    c4: np.ndarray | None = None       # (S,) hybrid cost under the current assumptions

    def take(self, idx: np.ndarray) -> DecisionInputs:
        """The same inputs for a subset of segments."""
        def sub(v: Any) -> Any:
            return v[idx] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == len(self.c0) else v

        return DecisionInputs(c0=self.c0[idx], c1=self.c1[idx], c2=self.c2[idx], one_time=self.one_time[idx],
                              ok=self.ok[idx], uncertain=self.uncertain[idx],
                              fleet_args={k: sub(v) for k, v in self.fleet_args.items()},
                              frame_args={k: sub(v) for k, v in self.frame_args.items()},
                              c3=None if self.c3 is None else self.c3[idx],
                              hybrid_args={k: sub(v) for k, v in self.hybrid_args.items()}, profiles=self.profiles,
                              c4=None if self.c4 is None else self.c4[idx])


def _decision_at(di: DecisionInputs, params: Params, *, gpu_mult: Any = None, util: Any = None, fte_cost: Any = None,
                 volume: Any = None, throughput: Any = None, api_mult: Any = 1.0,
                 c3_override: np.ndarray | None = None) -> np.ndarray:
    vol = np.asarray(1.0 if volume is None else volume, dtype=float)
    api = np.asarray(api_mult, dtype=float)
    scale = (vol.reshape(-1) if vol.ndim else vol) * (api.reshape(-1) if api.ndim else api)
    c0 = di.c0 * scale        # current figures (at the configured volume and API prices) x the probe
    c1 = di.c1 * scale
    c2 = di.c2 * scale
    fleet_moves = not (gpu_mult is None and util is None and fte_cost is None and throughput is None and volume is None)
    if c3_override is not None:
        c3 = c3_override
    elif di.c3 is not None and not fleet_moves and params.failover != "api_fallback":
        c3 = di.c3                 # only API prices move: the fleet's cost does not
    elif di.fleet_args["mu"].shape[1]:
        f = _fleet(**di.frame_args, **di.fleet_args, p=params, gpu_mult=_col(1.0 if gpu_mult is None else gpu_mult),
                   util=_col(util), fte_cost=_col(fte_cost), volume=_col(vol * params.volume),
                   throughput=_col(1.0 if throughput is None else throughput), api_mult=_col(api * params.api_price))
        c3 = f["total"].min(axis=1)
    else:
        c3 = np.full(len(c0), np.inf)
    if di.c4 is not None and not fleet_moves and not np.any(api != 1.0):
        c4 = di.c4
    else:
        c4 = _hybrid_at(di, params, bill=c0, gpu_mult=gpu_mult, util=util, fte_cost=fte_cost,
                        volume=vol * params.volume, throughput=throughput)
    alt = np.stack([c1, c2, c3, c4], axis=1)
    one_time = di.one_time
    if fte_cost is not None:          # migration weeks are priced at the same engineer cost
        one_time = one_time * (np.asarray(fte_cost, dtype=float).reshape(-1, 1) / params.fte_cost)
    return decide(c0, alt, one_time, di.ok, di.uncertain, params)[0]


def _hybrid_at(di: DecisionInputs, params: Params, *, bill: np.ndarray, gpu_mult: Any = None, util: Any = None,
               fte_cost: Any = None, volume: Any = 1.0, throughput: Any = None) -> np.ndarray:
    """The cheapest hybrid fleet per segment (over its top deployments) under other assumptions."""
    h = di.hybrid_args
    out = np.full(len(di.c0), np.inf)
    if di.profiles is None or not h or not h["mu"].shape[-1]:
        return out
    idx = np.flatnonzero(h["ok"].any(axis=1))       # only segments with a hybrid fleet at all
    if not len(idx):
        return out

    def pick(v: Any) -> Any:
        a = np.asarray(v, dtype=float)
        return a.reshape(-1)[idx].reshape(-1, 1) if a.ndim and a.size == len(di.c0) else a

    u = params.utilization_target if util is None else pick(util)
    thr = 1.0 if throughput is None else pick(throughput)
    gm = 1.0 if gpu_mult is None else pick(gpu_mult)
    fte = params.fte_cost if fte_cost is None else pick(fte_cost)
    fleet = hybrid.cheapest(
        di.profiles, h["seg"][idx], c=hybrid.capacity_per_minute(h["mu"][idx] * thr, u),
        gpu_replica=h["tp"][idx] * params.hours_per_month * h["price"][idx] * gm,
        obs_replica=params.obs_per_node * np.ceil(h["tp"][idx] / h["gpn"][idx]), fixed_obs=params.obs_fixed,
        labor=params.fte_per_deployment * np.asarray(fte, dtype=float) / 12.0, bill=pick(bill),
        fail=params.api_fallback_share, volume=pick(volume), ok=h["ok"][idx])
    out[idx] = fleet.total.min(axis=-1)
    return out


# ---------------------------------------------------------------- break-even map

# one character per cell of the break-even map: the decision and the option it picks
MAP_CODES = {".": "stay", "o": "optimize_api", "A": "migrate: open_model_api", "a": "pilot: open_model_api",
             "H": "migrate: self_host", "h": "pilot: self_host", "Y": "migrate: hybrid", "y": "pilot: hybrid"}


def _codes(decision: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    migrate = decision == MIGRATE
    out = np.full(decision.shape, ".", dtype="<U1")
    out = np.where(chosen == 1, "o", out)
    for idx, (hi, lo) in {2: ("A", "a"), 3: ("H", "h"), 4: ("Y", "y")}.items():
        out = np.where(chosen == idx, np.where(migrate, hi, lo), out)
    return out


def decision_maps(di: DecisionInputs, params: Params, decision: np.ndarray, chosen: np.ndarray,
                  gpus: list[str | None]) -> list[dict[str, Any]]:
    """Per segment, the decision over a grid of GPU price x volume multipliers (the report's break-even map).

    For a given volume a self-hosted fleet's size does not depend on the GPU price, so its cost is linear
    in it: one fleet evaluation per volume serves every GPU price. Hybrid fleets are re-optimised per cell."""
    gm = np.array(params.map_gpu, dtype=float)
    vm = np.array(params.map_volume, dtype=float)
    s_n, g_n = len(di.c0), len(gm)
    codes = np.empty((s_n, len(vm), g_n), dtype="<U1")
    h = di.hybrid_args
    hy_idx = (np.flatnonzero(h["ok"].any(axis=1)) if di.profiles is not None and h and h["mu"].shape[-1]
              else np.zeros(0, dtype=int))
    with np.errstate(invalid="ignore", over="ignore"):
        for vi, v in enumerate(vm):
            c0, c1, c2 = di.c0 * v, di.c1 * v, di.c2 * v
            if di.fleet_args["mu"].shape[1]:
                f = _fleet(**di.frame_args, **di.fleet_args, p=params, volume=v * params.volume,
                           api_mult=params.api_price)
                rest = np.where(np.isfinite(f["total"]), f["total"] - f["gpu"], np.inf)
                c3 = (rest[:, :, None] + f["gpu"][:, :, None] * gm[None, None, :]).min(axis=1)
            else:
                c3 = np.full((s_n, g_n), np.inf)
            c4 = np.full((s_n, g_n), np.inf)
            if len(hy_idx):
                hs = {k: h[k][hy_idx][:, :1] for k in ("mu", "tp", "price", "gpn", "ok", "seg")}   # the best fleet only
                fleet = hybrid.cheapest(
                    di.profiles, hs["seg"][:, :, None],
                    c=hybrid.capacity_per_minute(hs["mu"], params.utilization_target)[:, :, None],
                    gpu_replica=(hs["tp"] * params.hours_per_month * hs["price"])[:, :, None] * gm[None, None, :],
                    obs_replica=(params.obs_per_node * np.ceil(hs["tp"] / hs["gpn"]))[:, :, None],
                    fixed_obs=params.obs_fixed, labor=params.fte_per_deployment * params.fte_cost / 12.0,
                    bill=c0[hy_idx][:, None, None], fail=params.api_fallback_share, volume=v * params.volume,
                    ok=hs["ok"][:, :, None])
                c4[hy_idx] = fleet.total.min(axis=1)
            rep = np.repeat
            alt = np.stack([rep(c1, g_n), rep(c2, g_n), c3.reshape(-1), c4.reshape(-1)], axis=1)
            dec, ch, _, _ = decide(rep(c0, g_n), alt, rep(di.one_time, g_n, axis=0), rep(di.ok, g_n, axis=0),
                                   rep(di.uncertain, g_n, axis=0), params)
            codes[:, vi, :] = _codes(dec, ch).reshape(s_n, g_n)
    now = _codes(decision, chosen)
    v1, g1 = int(np.argmin(np.abs(vm - 1.0))), int(np.argmin(np.abs(gm - 1.0)))
    match = codes == now[:, None, None]                                   # (S, V, G) where today's decision holds
    first = np.argmax(match, axis=2)
    last = g_n - 1 - np.argmax(match[:, :, ::-1], axis=2)
    rows = np.ascontiguousarray(codes).view(f"<U{g_n}").reshape(s_n, len(vm)).tolist()
    share = match.mean(axis=(1, 2)).tolist()
    any_row = match.any(axis=2).tolist()
    gml, vml = [float(x) for x in gm], [float(x) for x in vm]
    lo_m, hi_m = gm[first].tolist(), gm[last].tolist()
    out = []
    for s in range(s_n):
        price = params.gpu_prices.get(gpus[s] or "")
        unit = price or 1.0
        holds = [{"volume_multiplier": vml[vi], "gpu_price_min": _round(lo_m[s][vi] * unit),
                  "gpu_price_max": _round(hi_m[s][vi] * unit)} if any_row[s][vi] else None for vi in range(len(vml))]
        out.append({
            "decision": str(now[s]), "at_today": rows[s][v1][g1], "gpu": gpus[s],
            "gpu_price_per_hour": price, "volume_multiplier": params.volume,
            "gpu_price_multipliers": gml, "volume_multipliers": vml, "cells": rows[s], "codes": MAP_CODES,
            "holds_share": _round(share[s]), "holds": holds,
        })
    return out


def _col(v: Any) -> Any:
    if v is None:
        return None
    a = np.asarray(v, dtype=float)
    return a.reshape(-1, 1) if a.ndim else a


def compute_flips(di: DecisionInputs, params: Params, current: np.ndarray, chosen_gpu: list[str | None],
                  fte_cost: float, has_fleet: np.ndarray) -> list[list[dict[str, Any]]]:
    """Per segment, per key assumption: the nearest value (within a wide range) that changes the decision.

    Self-hosting assumptions (GPU rent, utilisation, labour, throughput) are searched only where a
    self-hosted fleet is feasible at all; volume and API prices everywhere."""
    s_n = len(current)
    out: list[list[dict[str, Any]]] = [[] for _ in range(s_n)]
    fleet_idx = np.flatnonzero(has_fleet)
    di_fleet = di.take(fleet_idx)
    for spec in _flip_specs(params):
        self_param = spec.name in ("gpu_price", "operations.utilization_target", "labor.fte_cost_per_year",
                                   "capacity.throughput_factor")
        idx = fleet_idx if self_param else np.arange(s_n)
        if not len(idx):
            continue
        sub = di_fleet if self_param else di
        x0 = np.full(len(idx), params.utilization_target) if spec.absolute else np.ones(len(idx))

        taken: dict[int, tuple[np.ndarray, DecisionInputs]] = {}

        def at(x: np.ndarray, rows: np.ndarray | None = None, spec: FlipSpec = spec, sub: DecisionInputs = sub,
               taken: dict[int, tuple[np.ndarray, DecisionInputs]] = taken) -> np.ndarray:
            if rows is not None:        # a subset (or a tiling) of the segments; reused across bisection steps
                hit = taken.get(id(rows))
                if hit is None or hit[0] is not rows:
                    hit = taken[id(rows)] = (rows, sub.take(rows))
                sub = hit[1]
            kw: dict[str, Any] = {}
            if spec.name == "gpu_price":
                kw["gpu_mult"] = x
            elif spec.name == "operations.utilization_target":
                kw["util"] = x
            elif spec.name == "labor.fte_cost_per_year":
                kw["fte_cost"] = x * fte_cost
            elif spec.name == "scoring.volume_multiplier":
                kw["volume"] = x
            elif spec.name == "capacity.throughput_factor":
                kw["throughput"] = x
            else:
                kw["api_mult"] = x
            return _decision_at(sub, params, **kw)

        flip_at, new_dec = _search(at, x0, current[idx], spec.lo, spec.hi, spec.absolute)
        for j, s in enumerate(idx):
            out[s].append(_flip_entry(spec, params, int(s), x0[j], flip_at[j], new_dec[j], current[s], chosen_gpu[s],
                                      fte_cost))
    return out


def _search(f: Callable[..., np.ndarray], x0: np.ndarray, current: np.ndarray, lo: float, hi: float,
            absolute: bool) -> tuple[np.ndarray, np.ndarray]:
    """Nearest x (log scale, or linear when absolute) where f(x) != current, bisected to 0.5%.

    `f(x, rows)` decides for the segments `rows` (indices into the segments, repeats allowed): the whole
    grid is one call over the segments tiled, and the bisection runs only where a flip was found."""
    grid = np.linspace(lo, hi, 19) if absolute else np.geomspace(lo, hi, 27)
    s_n = len(x0)
    decisions = f(np.repeat(grid, s_n), np.tile(np.arange(s_n), len(grid))).reshape(len(grid), s_n)   # (G, S)
    dist = np.abs(grid[:, None] - x0[None, :]) if absolute else np.abs(np.log(grid[:, None] / x0[None, :]))
    differs = decisions != current[None, :]
    dist = np.where(differs, dist, np.inf)
    idx = np.argmin(dist, axis=0)
    found = np.isfinite(dist[idx, np.arange(s_n)])
    target = grid[idx]
    # bracket: walk from x0 towards the differing grid point
    todo = np.flatnonzero(found)
    a = x0[todo].copy()
    b = target[todo]
    cur = current[todo]
    new = np.full(s_n, -1)
    flip = np.full(s_n, np.nan)
    if len(todo):
        for _ in range(16):
            mid = (a + b) / 2.0 if absolute else np.sqrt(np.maximum(a, 1e-12) * np.maximum(b, 1e-12))
            same = f(mid, todo) == cur
            a = np.where(same, mid, a)
            b = np.where(~same, mid, b)
        new[todo] = f(b, todo)
        flip[todo] = b
    return flip, new


def _flip_entry(spec: FlipSpec, params: Params, s: int, x0: float, x: float, new: int, now: int,
                gpu: str | None, fte_cost: float) -> dict[str, Any]:
    word_now, word_new = DECISIONS[now], (DECISIONS[new] if new >= 0 else None)
    if spec.name == "gpu_price":
        base = params.gpu_prices.get(gpu or "", float("nan"))
        key, value = (f"gpus.{gpu}.price_per_hour" if gpu else "gpus.*.price_per_hour"), base
        flip = None if math.isnan(x) else base * x
        label = f"{gpu.upper() if gpu else 'GPU'} rent"

        def fmt(v: float) -> str:
            return f"${v:,.2f}/h"
    elif spec.name == "labor.fte_cost_per_year":
        key, value, label = spec.name, fte_cost, spec.label
        flip = None if math.isnan(x) else fte_cost * x

        def fmt(v: float) -> str:
            return f"${v / 1000:,.0f}k/year"
    elif spec.name == "operations.utilization_target":
        key, value, label = spec.name, x0, spec.label
        flip = None if math.isnan(x) else x

        def fmt(v: float) -> str:
            return f"{v:.0%}"
    else:
        base = {"scoring.volume_multiplier": params.volume, "scoring.api_price_multiplier": params.api_price,
                "capacity.throughput_factor": params.settings.throughput_factor}[spec.name]
        key, value, label = spec.name, base, spec.label
        flip = None if math.isnan(x) else base * x

        def fmt(v: float) -> str:
            return f"{v:.2f}x"
    if flip is None:
        lo = value * spec.lo if not spec.absolute else spec.lo
        hi = value * spec.hi if not spec.absolute else spec.hi
        sentence = f"'{word_now}' holds for {label} anywhere between {fmt(lo)} and {fmt(hi)} (now {fmt(value)})."
        direction = None
    else:
        direction = "above" if flip > value else "below"
        verb = "goes above" if flip > value else "goes below"
        sentence = f"'{word_now}' holds unless {label} {verb} {fmt(flip)} (now {fmt(value)}); then '{word_new}'."
    return {"assumption": key, "value": _round(value), "unit": spec.unit, "flips_at": None if flip is None else _round(flip),
            "direction": direction, "decision_then": word_new, "sentence": sentence}


def _round(v: float) -> float:
    if v is None or not math.isfinite(v):
        return v
    return float(f"{v:.4g}")


# ---------------------------------------------------------------- API options

@dataclass
class OfferBook:
    """Offers by (provider, model_ref, variant), with genai-prices as the fallback for misses."""

    offers: list[Offer]
    when: Any
    from_table: bool

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str, str], Offer] = {}
        for o in self.offers:                       # the first row per offer wins: the newest snapshot
            self._index.setdefault((o.provider, o.model_ref.lower(), o.variant), o)
        self.offers = list(self._index.values())

    def find(self, provider: str | None, model_ref: str | None, variant: str) -> Offer | None:
        if not provider or not model_ref:
            return None
        hit = self._index.get((provider.lower(), model_ref.lower(), variant))
        if hit is not None:
            return hit
        got = genai_offer(provider.lower(), model_ref, variant, self.when)
        if got is None:
            return None
        if variant != "standard":
            std = genai_offer(provider.lower(), model_ref, "standard", self.when)
            if std is not None and (std.input_mtok, std.output_mtok) == (got.input_mtok, got.output_mtok):
                return None          # genai-prices falls back to standard prices: no such variant
        return got

    def open_offers(self, model_ids: set[str], providers: list[str] | None) -> list[Offer]:
        allowed = {p.lower() for p in providers} if providers else None
        return [o for o in self.offers if o.catalog_model in model_ids and o.priced
                and o.variant in ("standard", "batch") and (allowed is None or o.provider in allowed)]


def _downgrade_target(provider: str | None, model_ref: str | None) -> tuple[str, str] | None:
    if not provider or not model_ref:
        return None
    for rule in _downgrades():
        if rule["provider"] == provider.lower() and any(model_ref.lower().startswith(f) for f in rule["from"]):
            if model_ref.lower().startswith(rule["to"]):
                return None
            return rule["to"], rule["source"]
    return None


@functools.cache
def _downgrades() -> list[dict[str, Any]]:
    import tomllib
    from importlib import resources

    return list(tomllib.loads((resources.files("planner") / "data" / "api_tiers.toml").read_text(encoding="utf-8"))
                .get("downgrade", []))


def _shape(frame: Frame, s: int, *, cached: float | None = None) -> TokenShape:
    c = frame.cached_m[s] if cached is None else cached
    return TokenShape(requests=_d(frame.requests_m[s]), input_tokens=_d(frame.input_m[s]), cached_tokens=_d(c),
                      output_tokens=_d(frame.output_m[s]), p95_input=float(frame.p95_in[s]))


def _d(x: float) -> Decimal:
    return Decimal(repr(float(x))) if math.isfinite(float(x)) else Decimal(0)


def _money(x: Decimal | None) -> str | None:
    return None if x is None else format(x.quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP), "f")


def api_optimized(frame: Frame, s: int, book: OfferBook, params: Params, blocked: bool) -> dict[str, Any]:
    """The current provider made cheaper: batch API, prompt caching, a cheaper tier (levers that apply)."""
    cur = frame.current[s]
    base = {"option": "api_optimized", "provider": cur.provider if cur else None, "model": cur.model_ref if cur else None}
    if blocked:
        return {**base, "feasible": False, "cost": None, "reasons": [
            _blocked_reason(frame, s, params) + " (the current provider is the status quo, not a recommendation)"],
            "details": {}}
    if cur is None or not cur.provider:
        return {**base, "feasible": False, "cost": None, "reasons": ["no API traffic recorded for this segment"], "details": {}}
    variant_now = "batch" if cur.batch_share >= 0.5 else "standard"
    current_offer = book.find(cur.provider, cur.model_ref, variant_now) or book.find(cur.provider, cur.model_ref, "standard")
    if current_offer is None:
        return {**base, "feasible": False, "cost": None,
                "reasons": [f"{cur.provider}/{cur.model_ref} has no price in the price book"], "details": {}}
    shape_now = _shape(frame, s)
    base_cost = shape_cost(current_offer, shape_now)
    levers: list[dict[str, Any]] = []
    why_not: list[str] = []
    offer = current_offer
    # batch / flex for batch-mode traffic not already on the batch API
    if frame.mode[s] == "batch" and cur.batch_share < 0.99:
        cands = [o for o in (book.find(cur.provider, cur.model_ref, "batch"), book.find(cur.provider, cur.model_ref, "flex"))
                 if o is not None and o.priced]
        if cands:
            best = min(cands, key=lambda o: shape_cost(o, shape_now) or Decimal("Infinity"))
            levers.append({"lever": "batch API" if best.variant == "batch" else "flex tier", "offer": best.label})
            offer = best
        else:
            why_not.append(f"{cur.provider}/{cur.model_ref} has no batch or flex price")
    elif frame.mode[s] == "batch":
        why_not.append("already on the batch API")
    else:
        why_not.append("interactive traffic: batch API does not apply")
    # prompt caching for a detected template
    cached = float(frame.cached_m[s])
    template = (frame.workload_source[s] == "fingerprint") or (
        frame.repeated_prefix is not None and np.isfinite(frame.repeated_prefix[s]) and frame.repeated_prefix[s] > 0)
    target_share = params.template_cached_share
    if frame.repeated_prefix is not None and np.isfinite(frame.repeated_prefix[s]) and frame.repeated_prefix[s] > 0:
        target_share = float(frame.repeated_prefix[s])
    has_cache_price = offer.cached_input_mtok is not None and offer.input_mtok is not None and offer.cached_input_mtok < offer.input_mtok
    if template and has_cache_price and frame.cached_share[s] < target_share - 0.02:
        cached = target_share * float(frame.input_m[s])
        levers.append({"lever": "prompt caching", "cached_share": round(target_share, 3)})
    elif not template:
        why_not.append("no repeated prompt template detected: prompt caching not assumed")
    elif not has_cache_price:
        why_not.append("no cheaper cached-input price")
    else:
        why_not.append(f"already {frame.cached_share[s]:.0%} cached")
    # a cheaper tier of the same provider for simple kinds
    target = _downgrade_target(cur.provider, cur.model_ref)
    if frame.kind[s] in params.cheaper_kinds and target is not None and frame.max_tokens[s] > SMALL_TIER_CONTEXT:
        why_not.append(f"requests up to {frame.max_tokens[s]:,.0f} tokens: a smaller tier's context window is not assumed")
    elif frame.kind[s] in params.cheaper_kinds and target is not None:
        cheaper = book.find(cur.provider, target[0], offer.variant) or book.find(cur.provider, target[0], "standard")
        shape_now_cached = _shape(frame, s, cached=cached)
        here = shape_cost(offer, shape_now_cached)
        there = None if cheaper is None else shape_cost(cheaper, shape_now_cached)
        if cheaper is not None and there is not None and here is not None and there < here:
            levers.append({"lever": "cheaper tier", "model": cheaper.model_ref, "source": target[1]})
            offer = cheaper
        else:
            why_not.append(f"{target[0]} is not cheaper for this traffic")
    elif target is None:
        why_not.append("no cheaper tier of the same provider listed")
    else:
        why_not.append(f"workload kind {frame.kind[s] or 'unknown'}: a smaller model is not assumed")
    shape_opt = _shape(frame, s, cached=cached)
    cost = shape_cost(offer, shape_opt)
    if not levers or cost is None:
        return {**base, "feasible": False, "cost": None, "reasons": ["no optimisation applies: " + "; ".join(why_not)],
                "details": {"base_cost_usd": _money(base_cost), "offer": current_offer.as_json()}}
    cost = cost * _d(params.volume) * _d(params.api_price) * _d(params.price_mult(offer.provider))
    reasons = [f"{lv['lever']}" + (f" ({lv.get('model') or lv.get('offer') or ''})" if lv.get("model") or lv.get("offer") else "")
               for lv in levers]
    if any(lv["lever"] == "cheaper tier" for lv in levers):
        reasons.append("a smaller model: verify quality on the segment's eval set first")
    if any(lv["lever"] == "prompt caching" for lv in levers):
        reasons.append(f"assumes {target_share:.0%} of input is a cacheable prefix (template detected)")
    return {**base, "model": offer.model_ref, "feasible": True, "cost": cost, "reasons": reasons,
            "details": {"levers": levers, "offer": offer.as_json(), "base_cost_usd": _money(base_cost),
                        "not_applied": why_not}}


# ---------------------------------------------------------------- frame construction

def frame_from_segments(rows: list[dict[str, Any]], model_rows: list[dict[str, Any]], allowed: dict[str, bool],
                        params: Params) -> Frame:
    """Segments of one run → Frame. Monthly = observed x (days per month / days observed)."""
    firsts: list[Any] = [r["first_ts"] for r in rows if r.get("first_ts") is not None]
    lasts: list[Any] = [r["last_ts"] for r in rows if r.get("last_ts") is not None]
    period_s = max((max(lasts) - min(firsts)).total_seconds(), 3600.0) if firsts and lasts else 86400.0
    factor = Decimal(repr(params.hours_per_month)) * 3600 / Decimal(repr(period_s))
    f = float(factor)
    by_seg: dict[str, list[dict[str, Any]]] = {}
    for m in model_rows:
        by_seg.setdefault(str(m["segment_id"]), []).append(m)

    def num(r: dict[str, Any], k: str, default: float = np.nan) -> float:
        v = r.get(k)
        return default if v is None else float(v)

    s_n = len(rows)
    req = np.array([num(r, "requests", 0.0) for r in rows])
    inp = np.array([num(r, "input_tokens", 0.0) for r in rows])
    cached_raw = np.array([num(r, "cached_input_tokens") for r in rows])
    out = np.array([num(r, "output_tokens", 0.0) for r in rows])
    cached_known = ~np.isnan(cached_raw)
    share_col = np.array([num(r, "cached_share") for r in rows])
    cached = np.where(cached_known, cached_raw, np.where(np.isnan(share_col), 0.0, share_col * inp))
    p95 = np.array([num(r, "p95_input") for r in rows])
    p99i = np.array([num(r, "p99_input") for r in rows])
    p99o = np.array([num(r, "p99_output") for r in rows])
    mean_in = inp / np.maximum(req, 1)
    mean_out = out / np.maximum(req, 1)
    p95 = np.where(np.isnan(p95), mean_in, p95)
    max_tokens = np.where(np.isnan(p99i), mean_in, p99i) + np.where(np.isnan(p99o), mean_out, p99o)
    mean_rps = req * f / (params.hours_per_month * 3600.0)
    peak = np.array([num(r, "peak_per_minute") for r in rows]) / 60.0
    hists = [hybrid.parse_histogram(r.get("minute_histogram")) for r in rows]
    hist_q = np.array([_quantile_of(h, params.design_quantile) for h in hists]) / 60.0
    from_hist = ~np.isnan(hist_q)
    peak = np.where(from_hist, hist_q, peak)
    coarse = np.array([bool(r.get("coarse_timestamps")) for r in rows])
    notes: list[list[str]] = [[] for _ in range(s_n)]
    design = np.where(np.isnan(peak) | coarse, mean_rps * params.default_peak_to_mean, np.maximum(peak, mean_rps))
    for s in range(s_n):
        if from_hist[s] and not coarse[s]:
            notes[s].append(f"design peak: the p{params.design_quantile * 100:g} minute of the arrival histogram "
                            f"({peak[s] * 60:,.0f} requests/minute)")
        if coarse[s]:
            notes[s].append(f"timestamps too coarse for per-minute peaks: design peak assumed "
                            f"{params.default_peak_to_mean:g}x the mean rate")
        elif np.isnan(peak[s]):
            notes[s].append(f"no per-minute peak: design peak assumed {params.default_peak_to_mean:g}x the mean rate")
        if not cached_known[s]:
            notes[s].append("cached input tokens not reported: prefill sized as if nothing were cached")
    current: list[CurrentApi | None] = []
    observed: list[dict[str, Any]] = []
    factor_s: list[float] = []
    for r in rows:
        sid = str(r["segment_id"])
        ms = by_seg.get(sid, [])
        cost = r.get("cost_usd")
        total_req = sum(float(m.get("requests") or 0) for m in ms) or float(r.get("requests") or 0) or 1.0
        unpriced = sum(float(m.get("unpriced_requests") or 0) for m in ms)
        cost_known = cost is not None and unpriced == 0
        cost_m = Decimal(str(cost)) * factor if cost_known else None
        if ms:
            top = ms[0]
            current.append(CurrentApi(
                provider=top.get("provider"), model_ref=top.get("model_ref"), cost_month=cost_m,
                batch_share=float(top.get("batch_requests") or 0) / max(float(top.get("requests") or 1), 1.0),
                unpriced_share=unpriced / total_req,
                models=[{"provider": m.get("provider"), "model": m.get("model_ref"), "requests": int(m.get("requests") or 0),
                         "cost_usd": _money(None if m.get("cost_usd") is None else Decimal(str(m["cost_usd"])))}
                        for m in ms[:5]],
                latency=_latency(top)))
            factor_s.append(_price_factor(ms, params))
        else:
            current.append(CurrentApi(None, None, cost_m, 0.0, 0.0 if cost_known else 1.0) if cost is not None else None)
            factor_s.append(1.0)
        observed.append({"requests": int(r.get("requests") or 0), "cost_usd": _money(None if cost is None else Decimal(str(cost))),
                         "first_ts": str(r.get("first_ts")), "last_ts": str(r.get("last_ts"))})
    hour = None
    if any(r.get("hour_profile") is not None for r in rows):
        hour = np.array([_hours(r.get("hour_profile")) for r in rows])
    prefix = None
    if any(r.get("repeated_prefix_share") is not None for r in rows):
        prefix = np.array([num(r, "repeated_prefix_share") for r in rows])
    return Frame(
        ids=[str(r["segment_id"]) for r in rows], workload=[r.get("workload") for r in rows],
        kind=[normalize_kind(r.get("workload_kind")) for r in rows], kind_raw=[r.get("workload_kind") for r in rows],
        sensitivity=[r.get("sensitivity") for r in rows], mode=[str(r.get("mode") or "interactive") for r in rows],
        context_band=[r.get("context_band") for r in rows], workload_source=[r.get("workload_source") for r in rows],
        requests_m=req * f, input_m=inp * f, cached_m=cached * f, output_m=out * f, cached_known=cached_known,
        p95_in=p95, max_tokens=max_tokens, mean_rps=mean_rps, design_rps=design,
        third_party_rule=np.array([bool(allowed.get(str(r["segment_id"]), False)) for r in rows]),
        current=current, notes=notes, month_factor=[factor] * s_n, hour_profile=hour, repeated_prefix=prefix,
        observed=observed, minute_hist=hists, price_factor=np.array(factor_s, dtype=float),
    )


def _price_factor(models: list[dict[str, Any]], params: Params) -> float:
    """Today's bill under per-provider price changes, as a multiple of the list-price bill."""
    if not params.provider_price:
        return 1.0
    costs = [(float(m["cost_usd"]), params.price_mult(m.get("provider"))) for m in models if m.get("cost_usd") is not None]
    total = sum(c for c, _ in costs)
    return sum(c * k for c, k in costs) / total if total > 0 else params.price_mult(models[0].get("provider"))


def _latency(model_row: dict[str, Any]) -> dict[str, Any] | None:
    """What the busiest model's requests saw in the logs (overflow to it sees the same); None if unknown."""
    measured = model_row.get("latency_requests")
    if not measured:
        return None
    return {"p50_ms": _round(_f(model_row.get("p50_latency_ms"))), "p95_ms": _round(_f(model_row.get("p95_latency_ms"))),
            "p50_ttft_ms": _round(_f(model_row.get("p50_ttft_ms"))), "p95_ttft_ms": _round(_f(model_row.get("p95_ttft_ms"))),
            "requests_measured": int(measured)}


def _f(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _histogram_quantile(v: Any, q: float) -> float:
    """The q-quantile of requests per minute from a per-minute arrival histogram (minutes with k
    arrivals, zero minutes included). Accepts a map {k: minutes}, [[k, minutes], ...], a list of
    {k, minutes|count|n} structs, or the same as JSON text; NaN when absent or unreadable."""
    return _quantile_of(hybrid.parse_histogram(v), q)


def _quantile_of(h: np.ndarray | None, q: float) -> float:
    if h is None:
        return float("nan")
    cum = np.cumsum(h[:, 1])
    i = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(h[min(i, len(h) - 1), 0])


def _hours(v: Any) -> list[float]:
    if v is None:
        return [1.0] * 24
    if isinstance(v, str):
        v = json.loads(v)
    if isinstance(v, dict):
        vals = [float(v.get(str(h), v.get(h, 0.0)) or 0.0) for h in range(24)]
    else:
        vals = [float(x or 0.0) for x in list(v)[:24]] + [0.0] * max(0, 24 - len(list(v)))
    return vals if sum(vals) > 0 else [1.0] * 24


# ---------------------------------------------------------------- scoring a frame

@dataclass
class Scored:
    """The four options and the decision for every segment of a frame."""

    frame: Frame
    options: list[list[dict[str, Any]]]     # per segment, four option dicts
    scores: list[dict[str, Any]]


def score_frame(frame: Frame, params: Params, catalog: Catalog, book: OfferBook, *,
                calibrations: dict[tuple[str, str, int], cap.Calibration] | None = None,
                candidates: Any = None, model_ids: Sequence[str] | None = None, gpu_ids: Sequence[str] | None = None,
                tps: Sequence[int] | None = None, precision: str | None = None, with_flips: bool = True,
                decide_among: Sequence[str] = ("api_optimized", "open_model_api", "self_host", "hybrid")) -> Scored:
    """Five options, decision, flips and break-even map for every segment of `frame`. `decide_among` limits
    which alternatives the decision may pick (estimate compares self-hosting with the API only)."""
    s_n = len(frame)
    cand_models = list(model_ids or (getattr(candidates, "models", None) or list(catalog.models)))
    cand_gpus = list(gpu_ids or (getattr(candidates, "gpus", None) or list(catalog.gpus)))
    providers = getattr(candidates, "open_model_providers", None)
    tp_ok = frame.third_party_ok(params)
    vol, apim = _d(params.volume), _d(params.api_price)

    # api_current (with per-provider price changes: a scenario's or a negotiated discount)
    pf = frame.price_factor if frame.price_factor is not None else np.ones(s_n)
    c0 = np.array([float(c.cost_month) if (c and c.cost_month is not None) else np.nan for c in frame.current])
    c0 = c0 * params.volume * params.api_price * pf

    # self_host (vectorised)
    sh = evaluate_self_host(frame, params, catalog, model_ids=cand_models, gpu_ids=cand_gpus, tps=tps, precision=precision,
                            calibrations=calibrations, fallback_base=c0 / max(params.volume * params.api_price, 1e-12))
    c3 = _at_best(sh.costs["total"], sh.best) if sh.deps else np.full(s_n, np.inf)

    # hybrid (vectorised): a fleet for the base load, the overflow to today's API
    hy = evaluate_hybrid(frame, params, sh, c0, tp_ok)
    c4 = _at_best(hy.total, hy.best) if sh.deps else np.full(s_n, np.inf)

    # open_model_api (vectorised over offers)
    open_offers = book.open_offers(set(cand_models), providers)
    c2 = np.full(s_n, np.inf)
    best_open = np.full(s_n, -1)
    open_matrix = None
    if open_offers:
        prices = offer_price_matrix(open_offers)
        col_mult = np.array([params.price_mult(o.provider) for o in open_offers])
        open_matrix = shape_costs(prices, frame.input_m, frame.cached_m, frame.output_m, frame.p95_in) * col_mult[None, :]
        m_index = {m: j for j, m in enumerate(sh.model_ids)}
        col_model = np.array([m_index.get(o.catalog_model or "", -1) for o in open_offers])
        model_ok = np.where(col_model[None, :] >= 0, sh.model_ok[:, np.maximum(col_model, 0)], False)
        is_batch = np.array([o.variant == "batch" for o in open_offers])
        variant_ok = np.where(frame.batch[:, None], True, ~is_batch[None, :])
        usable = model_ok & variant_ok & tp_ok[:, None] & np.isfinite(open_matrix)
        masked = np.where(usable, open_matrix, np.inf)
        best_open = np.where(usable.any(axis=1), np.argmin(masked, axis=1), -1)
        c2 = np.where(best_open >= 0, masked[np.arange(s_n), np.maximum(best_open, 0)], np.inf) * params.volume * params.api_price

    # api_optimized (per segment: a few Decimal prices each)
    opt = [api_optimized(frame, s, book, params, blocked=not tp_ok[s]) for s in range(s_n)]
    c1 = np.array([float(o["cost"]) if o["feasible"] and o["cost"] is not None else np.inf for o in opt])

    # decision
    week = params.week_cost
    m1 = np.array([(params.switch_weeks + (params.evaluation_weeks if any(lv.get("lever") == "cheaper tier"
                                                                         for lv in o.get("details", {}).get("levers", []))
                                           else 0.0)) * week for o in opt])
    one_time_self = np.full(s_n, (params.evaluation_weeks + params.self_host_weeks) * week)
    one_time = np.stack([m1, np.full(s_n, (params.evaluation_weeks + params.switch_weeks) * week), one_time_self,
                         one_time_self], axis=1)
    ok = np.stack([np.isfinite(c1), np.isfinite(c2), np.isfinite(c3), np.isfinite(c4)], axis=1)
    ok &= np.array([name in decide_among for name in OPTIONS[1:]])[None, :]
    kind_unknown = np.array([k is None for k in frame.kind])
    # migrate only if self-hosting still pays at the low end of the capacity estimate's error band (a hybrid
    # fleet that serves less sends more to the API: its cost at the low end is the same fleet's)
    c3_band = _at_best(sh.costs["total_band"], sh.best) if sh.deps else np.full(s_n, np.inf)
    c4_band = _at_best(hy.total_band, hy.best) if sh.deps else np.full(s_n, np.inf)
    fragile = ~_pays(c0, c3_band, one_time_self, params)
    fragile_h = ~_pays(c0, c4_band, one_time_self, params)
    uncertain = np.stack([np.zeros(s_n, dtype=bool), kind_unknown, kind_unknown | fragile | _coarse(frame),
                          kind_unknown | fragile_h], axis=1)
    alt = np.stack([c1, c2, c3, c4], axis=1)
    decision, chosen, _sav, _be = decide(c0, alt, one_time, ok, uncertain, params)
    c3_gpu = _at_best(sh.costs["gpu_only"], sh.best) if sh.deps else np.full(s_n, np.inf)
    c3_gpu_band = _at_best(sh.costs["gpu_only_band"], sh.best) if sh.deps else np.full(s_n, np.inf)
    unc_gpu = uncertain.copy()
    unc_gpu[:, 2] = kind_unknown | ~_pays(c0, c3_gpu_band, one_time_self, params) | _coarse(frame)
    dec_gpu, chosen_gpu, _, _ = decide(c0, np.stack([c1, c2, c3_gpu, c4], axis=1), one_time, ok, unc_gpu, params)
    best_conf = [(sh.deps[hy.best[s]] if chosen[s] == 4 else sh.deps[sh.best[s]]).confidence
                 if (hy.best[s] if chosen[s] == 4 else sh.best[s]) >= 0 else None for s in range(s_n)]
    gpus_chosen = [sh.deps[hy.best[s]].gpu.id if chosen[s] == 4 and hy.best[s] >= 0
                   else (sh.deps[sh.best[s]].gpu.id if sh.best[s] >= 0 else
                         (sh.deps[hy.best[s]].gpu.id if hy.best[s] >= 0 else None)) for s in range(s_n)]

    # flips and the break-even map (GPU price x volume)
    flips: list[list[dict[str, Any]]] = [[] for _ in range(s_n)]
    maps: list[dict[str, Any] | None] = [None] * s_n
    if with_flips:
        di = _decision_inputs(frame, params, sh, c0, c1, c2, one_time, ok, uncertain, hy)
        di.c3, di.c4 = c3, c4
        has_fleet = (sh.best >= 0) | (hy.best >= 0)
        flips = compute_flips(di, params, decision, gpus_chosen, params.fte_cost, has_fleet)
        maps = decision_maps(di, params, decision, chosen, gpus_chosen)

    # rows
    options: list[list[dict[str, Any]]] = []
    scores: list[dict[str, Any]] = []
    for s in range(s_n):
        cur = frame.current[s]
        cur_cost = None if (cur is None or cur.cost_month is None) else cur.cost_month * vol * apim * _d(pf[s])
        o_current = _current_option(frame, s, cur, cur_cost, tp_ok[s])
        o_opt = _opt_option(opt[s])
        o_open = _open_option(frame, s, open_offers, open_matrix, best_open[s], sh, tp_ok[s], params, providers)
        o_self = _self_option(frame, s, sh, params, cur_cost)
        o_hybrid = _hybrid_option(frame, s, sh, hy, params, cur_cost)
        opts = [o_current, o_opt, o_open, o_self, o_hybrid]
        options.append(opts)
        row = _score_row(frame, s, opts, int(decision[s]), int(chosen[s]), int(dec_gpu[s]), int(chosen_gpu[s]),
                         one_time[s], cur_cost, flips[s], best_conf[s], params, tp_ok[s], decide_among,
                         bool(fragile_h[s] if chosen[s] == 4 else fragile[s]))
        row["breakeven_map"] = maps[s]
        scores.append(row)
    return Scored(frame, options, scores)


def _at_best(costs: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Each segment's figure at its chosen deployment; inf where there is none."""
    return np.asarray(np.where(best >= 0, costs[np.arange(len(best)), np.maximum(best, 0)], np.inf))


def _pays(c0: np.ndarray, cost: np.ndarray, one_time: np.ndarray, params: Params) -> np.ndarray:
    """Would an option at `cost` clear the migrate bar (savings and break-even)?"""
    with np.errstate(invalid="ignore", divide="ignore"):
        sav = c0 - cost
        enough = sav >= np.maximum(params.min_savings_share * c0, params.min_savings_usd)
        quick = one_time / np.where(sav > 0, sav, np.nan) <= params.migrate_max_months
        return np.asarray(enough & quick)


def _blocked_reason(frame: Frame, s: int, params: Params) -> str:
    level = frame.sensitivity[s] or "sensitive"
    return (f"{level} data: no third-party API is proposed (scoring.third_party_max_sensitivity = "
            f"{params.third_party_max}) unless a sensitivity rule allows it")


def _coarse(frame: Frame) -> np.ndarray:
    return np.array([any("too coarse" in n for n in notes) for notes in frame.notes])


def _decision_inputs(frame: Frame, params: Params, sh: SelfHost, c0: np.ndarray, c1: np.ndarray, c2: np.ndarray,
                     one_time: np.ndarray, ok: np.ndarray, uncertain: np.ndarray, hy: Hybrid | None = None) -> DecisionInputs:
    s_n = len(frame)
    if sh.deps:
        top = sh.top
        rows = np.arange(s_n)[:, None]
        feas = sh.feasible[rows, top]
        tp = np.array([d.tp for d in sh.deps], dtype=float)[top]
        price = np.array([params.gpu_prices[d.gpu.id] for d in sh.deps])[top]
        gpn = np.array([d.gpu.gpus_per_node for d in sh.deps], dtype=float)[top]
        mu = np.where(feas, sh.capacity.mu_rps[rows, top], 0.0)
        off = np.where(feas, sh.capacity.offline_rps[rows, top], 0.0)
    else:
        tp = price = gpn = mu = off = np.zeros((s_n, 0))
    batch = frame.batch[:, None]
    fleet_args: dict[str, Any] = {"mu": mu, "offline": off, "tp": tp, "price": price, "gpn": gpn}
    frame_args: dict[str, Any] = {"batch": batch, "requests_m": frame.requests_m[:, None], "mean_rps": frame.mean_rps[:, None],
                  "design_rps": frame.design_rps[:, None], "ha": _ha(frame, params)[:, None],
                  "fallback_base": np.nan_to_num(c0 / max(params.volume * params.api_price, 1e-12), nan=0.0)[:, None],
                  "forced": None if frame.forced_gpus is None else frame.forced_gpus[:, None],
                  "hour_profile": frame.hour_profile if params.autoscale else None}
    hybrid_args: dict[str, Any] = {}
    if hy is not None and sh.deps:
        top = hy.top
        rows = np.arange(s_n)[:, None]
        hybrid_args = {
            "seg": np.arange(s_n)[:, None], "ok": np.isfinite(hy.total[rows, top]),
            "mu": np.where(np.isfinite(hy.total[rows, top]), sh.capacity.mu_rps[rows, top], 0.0),
            "tp": np.array([d.tp for d in sh.deps], dtype=float)[top],
            "price": np.array([params.gpu_prices[d.gpu.id] for d in sh.deps])[top],
            "gpn": np.array([d.gpu.gpus_per_node for d in sh.deps], dtype=float)[top],
        }
    return DecisionInputs(c0=c0, c1=c1, c2=c2, one_time=one_time, ok=ok, uncertain=uncertain,
                          fleet_args=fleet_args, frame_args=frame_args, hybrid_args=hybrid_args,
                          profiles=None if hy is None else hy.profiles)


def _current_option(frame: Frame, s: int, cur: CurrentApi | None, cost: Decimal | None, third_party_ok: bool) -> dict[str, Any]:
    reasons = []
    if cur is None:
        reasons.append("no API traffic found for this segment")
    elif cost is None:
        reasons.append(f"current cost unknown: {cur.unpriced_share:.0%} of requests are on models that could not be priced")
    if not third_party_ok:
        reasons.append(f"{frame.sensitivity[s] or 'sensitive'} data on a third-party API today: the status quo, not a "
                       f"recommendation; review with compliance")
    details = {"observed": frame.observed[s] if frame.observed else {},
               "month_factor": str(frame.month_factor[s]) if frame.month_factor else None,
               "requests_per_month": _r(frame.requests_m[s]), "input_tokens_per_month": _r(frame.input_m[s]),
               "cached_input_tokens_per_month": _r(frame.cached_m[s]), "output_tokens_per_month": _r(frame.output_m[s]),
               "models": cur.models if cur else [], "batch_share": round(cur.batch_share, 4) if cur else None}
    return {"option": "api_current", "provider": cur.provider if cur else None, "model": cur.model_ref if cur else None,
            "gpu": None, "gpus": None, "replicas": None, "cost": cost, "feasible": True, "reasons": reasons,
            "details": details}


def _r(x: float) -> float:
    return float(round(float(x), 3))


def _opt_option(o: dict[str, Any]) -> dict[str, Any]:
    return {"option": "api_optimized", "provider": o.get("provider"), "model": o.get("model"), "gpu": None, "gpus": None,
            "replicas": None, "cost": o.get("cost"), "feasible": bool(o.get("feasible")), "reasons": o.get("reasons", []),
            "details": o.get("details", {})}


def _open_option(frame: Frame, s: int, offers: list[Offer], matrix: np.ndarray | None, best: int, sh: SelfHost,
                 third_party_ok: bool, params: Params, providers: list[str] | None) -> dict[str, Any]:
    base = {"option": "open_model_api", "gpu": None, "gpus": None, "replicas": None}
    if not third_party_ok:
        return {**base, "provider": None, "model": None, "cost": None, "feasible": False, "details": {},
                "reasons": [_blocked_reason(frame, s, params)]}
    if not offers or matrix is None:
        return {**base, "provider": None, "model": None, "cost": None, "feasible": False, "details": {},
                "reasons": ["no hosted offer of a candidate open model in the price book"]}
    if best < 0:
        excluded = sh.model_reasons[s]
        why = sorted(set(excluded.values()))[:3] or ["no offer fits this segment"]
        return {**base, "provider": None, "model": None, "cost": None, "feasible": False, "details": {"excluded_models": excluded},
                "reasons": ["no hosted open model qualifies: " + " | ".join(why)]}
    o = offers[best]
    cost = shape_cost(o, _shape(frame, s))
    assert cost is not None
    cost = cost * _d(params.volume) * _d(params.api_price) * _d(params.price_mult(o.provider))
    row = matrix[s]
    alts = []
    seen = {o.catalog_model}
    for j in np.argsort(np.where(np.isfinite(row), row, np.inf), kind="stable"):
        oj = offers[int(j)]
        if oj.catalog_model in seen or not np.isfinite(row[j]) or not sh.model_ok[s][sh.model_ids.index(oj.catalog_model or "")]:
            continue
        if oj.variant == "batch" and frame.mode[s] != "batch":
            continue
        seen.add(oj.catalog_model)
        alts.append({"model": oj.catalog_model, "offer": oj.label,
                     "monthly_cost_usd": _money(Decimal(repr(float(row[j] * params.volume * params.api_price))))})
        if len(alts) >= 3:
            break
    reasons = [f"{o.catalog_model} hosted by {o.provider}" + (" (batch)" if o.variant == "batch" else ""),
               "same open weights as self-hosting, no fleet to run; quality to verify on the eval set"]
    if frame.sensitivity[s] == "confidential":
        reasons.append("confidential data: check the provider's data-processing terms (retention, region)")
    if frame.kind[s] is None:
        reasons.append("workload kind unknown: capability assumed general")
    same = None
    b = int(sh.best[s]) if len(sh.best) else -1
    if b >= 0:
        self_model = sh.deps[b].model.id
        finite = np.isfinite(row).tolist()
        cols = [j for j, oj in enumerate(offers) if oj.catalog_model == self_model and finite[j]
                and (oj.variant != "batch" or frame.mode[s] == "batch")]
        if cols:
            j = min(cols, key=lambda c: row[c])
            same = {"model": self_model, "offer": offers[j].label,
                    "monthly_cost_usd": _money(Decimal(repr(float(row[j] * params.volume * params.api_price))))}
    return {**base, "provider": o.provider, "model": o.model_ref, "cost": cost, "feasible": True, "reasons": reasons,
            "details": {"offer": o.as_json(), "catalog_model": o.catalog_model, "alternatives": alts,
                        "same_model_as_self_host": same, "licence": _licence(sh, o.catalog_model)}}


def _licence(sh: SelfHost, model_id: str | None) -> dict[str, Any] | None:
    if not model_id:
        return None
    lic = load_catalog().model(model_id).licence
    return {"id": lic.id, "name": lic.name, "commercial_use": lic.commercial_use, "attribution": lic.attribution,
            "restrictions": lic.restrictions}


def _self_option(frame: Frame, s: int, sh: SelfHost, params: Params, current_cost: Decimal | None) -> dict[str, Any]:
    base = {"option": "self_host", "provider": None}
    b = int(sh.best[s]) if len(sh.best) else -1
    if b < 0:
        return {**base, "model": None, "gpu": None, "gpus": None, "replicas": None, "cost": None, "feasible": False,
                "reasons": _self_host_infeasible(frame, s, sh, params), "details": {"excluded_models": sh.model_reasons[s]}}
    d = sh.deps[b]
    c = {k: float(v[s, b]) for k, v in sh.costs.items()}
    capn = sh.capacity.row(s, b)
    batch = frame.mode[s] == "batch"
    replicas = int(round(c["replicas"]))
    gpus = replicas * d.tp
    price = Decimal(repr(params.gpu_prices[d.gpu.id]))
    hours = Decimal(repr(params.hours_per_month))
    gpu_hours = (Decimal(gpus) * hours if not batch and frame.hour_profile is None
                 else Decimal(repr(round(c["gpu_hours"], 4))))
    if frame.forced_gpus is not None and np.isfinite(frame.forced_gpus[s]):
        gpu_hours = Decimal(gpus) * hours
    gpu_cost = gpu_hours * price
    need = int(round(c["need"])) if math.isfinite(c["need"]) else replicas
    spare_cost = Decimal(max(replicas - need, 0) * d.tp) * hours * price if not batch else Decimal(0)
    labor = Decimal(repr(params.fte_per_deployment)) * Decimal(repr(params.fte_cost)) / 12
    nodes = int(round(c["nodes"]))
    obs = Decimal(repr(params.obs_per_node)) * nodes + Decimal(repr(params.obs_fixed))
    fallback = Decimal(0)
    if c["fallback"] > 0 and current_cost is not None:
        fallback = Decimal(repr(params.api_fallback_share)) * current_cost
    total = gpu_cost + labor + obs + fallback
    naive_gpus = int(round(c["gpu_only_gpus"])) if math.isfinite(c["gpu_only_gpus"]) else None
    gpu_only = (gpu_cost if batch or (frame.forced_gpus is not None and np.isfinite(frame.forced_gpus[s]))
                else Decimal(naive_gpus or 0) * hours * price)
    out_tok = frame.mean_output[s]
    tok_per_gpu = (capn["offline_rps"] if batch else capn["mu_rps"]) * max(out_tok, 1.0) / d.tp
    load = frame.design_rps[s] * params.volume
    util_mean = (frame.mean_rps[s] * params.volume / (replicas * capn["mu_rps"])) if (not batch and capn["mu_rps"] > 0) else None
    reasons = [
        f"{d.label}: " + (f"{capn['offline_rps']:.2f} req/s per replica at full batch (no latency target)" if batch else
                          f"{capn['mu_rps']:.2f} req/s per replica under TTFT {params.ttft_s * 1000:.0f} ms / "
                          f"ITL {params.tpot_s * 1000:.0f} ms (concurrency {capn['slo_batch']:.0f})"),
    ]
    if batch:
        reasons.append(f"{float(gpu_hours):,.0f} GPU-hours per month at {params.batch_utilization:.0%} of offline throughput")
    else:
        reasons.append(f"{replicas} replica(s) for a design peak of {load:.2f} req/s at {params.utilization_target:.0%} "
                       f"utilisation" + (f", incl. {replicas - need} spare/HA" if replicas > need else ""))
        if util_mean is not None:
            reasons.append(f"average load is {util_mean:.0%} of provisioned capacity")
    share_labor = float(labor / total) if total > 0 else 0.0
    if share_labor >= 0.3:
        reasons.append(f"labour ({params.fte_per_deployment:g} FTE) is {share_labor:.0%} of the monthly cost")
    if d.confidence == "low":
        reasons.append("MoE capacity estimate is 0.6-1.4x (capacity.md §3.4): calibrate with `planner calibrate` before committing")
    reasons.extend(frame.notes[s])
    lic = d.model.licence
    if lic.id not in ("apache-2.0", "mit"):
        reasons.append(f"licence {lic.name}: {lic.attribution}; {lic.restrictions}")
    alternatives = _alternatives(sh, s, b)
    # a batch fleet rents the GPU-hours its work needs, not the whole month
    hours_used = (Decimal(gpu_hours) / gpus).quantize(Decimal("1e-10")) if gpus else Decimal(hours)
    details = {
        # the keys the plan reads (docs/reports.md, "What the plan reads"), flat so the SQL recipes can use them
        "gpus_per_replica": d.tp, "load_replicas": need, "spare_replicas": replicas - need,
        "gpu_usd_per_hour": str(price), "hours_per_month": str(hours_used), "gpu_cost_usd": _money(gpu_cost),
        "labor_cost_usd": _money(labor),
        "deployment": {"model": d.model.id, "gpu": d.gpu.id, "gpus_per_replica": d.tp, "precision": d.precision,
                       "kv_cache_dtype": d.kv_dtype, "compute": d.compute_dtype, "profile": d.model.profile,
                       "confidence": d.confidence, "error_band": d.error_band(params.settings),
                       "calibration": d.calibration, "notes": list(d.notes)},
        "capacity": {"requests_per_second_per_replica": _round(capn["mu_rps"]) if not batch else None,
                     "offline_requests_per_second_per_replica": _round(capn["offline_rps"]),
                     "slo_concurrency": int(capn["slo_batch"]) if not batch else None,
                     "kv_concurrency_limit": int(min(capn["b_mem"], 10**9)),
                     "tpot_ms": _round(capn["tpot_s"] * 1000) if not batch else None,
                     "ttft_ms": _round(capn["ttft_s"] * 1000) if not batch else None,
                     "prefill_busy_share": _round(capn["rho"]) if not batch else None,
                     "tokens_per_second_per_gpu": _round(tok_per_gpu)},
        "fleet": {"mode": frame.mode[s], "replicas": replicas, "replicas_needed": need, "gpus": gpus,
                  "nodes": nodes, "design_peak_rps": _round(load), "mean_rps": _round(frame.mean_rps[s] * params.volume),
                  "mean_utilization": _round(util_mean) if util_mean is not None else None,
                  "gpu_hours_per_month": str(gpu_hours), "gpu_price_per_hour": str(price),
                  "autoscaled": bool(frame.hour_profile is not None and params.autoscale and not batch)},
        "cost": {"gpu_cost_usd": _money(gpu_cost), "spare_gpu_cost_usd": _money(spare_cost),
                 "labor_cost_usd": _money(labor), "observability_cost_usd": _money(obs),
                 "fallback_api_cost_usd": _money(fallback), "monthly_cost_usd": _money(total)},
        "views": {
            "gpu_only": {"monthly_cost_usd": _money(gpu_only), "gpus": naive_gpus,
                         "note": "GPU rent only, sized for the mean load at headline (offline) throughput: "
                                 "no latency target, no peak, no HA, no people"},
            "full_tco": {"monthly_cost_usd": _money(total),
                         "note": "sized for the peak under the latency targets, N+1, plus labour and observability"},
        },
        "alternatives": alternatives,
        "excluded_models": sh.model_reasons[s],
        "licence": {"id": lic.id, "name": lic.name, "commercial_use": lic.commercial_use, "attribution": lic.attribution,
                    "restrictions": lic.restrictions},
    }
    return {**base, "model": d.model.id, "gpu": d.gpu.id, "gpus": gpus, "replicas": replicas, "cost": total,
            "feasible": True, "reasons": reasons, "details": details}


def _hybrid_option(frame: Frame, s: int, sh: SelfHost, hy: Hybrid, params: Params,
                   current_cost: Decimal | None) -> dict[str, Any]:
    """The cheapest fleet for the base load, with the overflow (and failover) priced as its share of today's bill."""
    cur = frame.current[s]
    base: dict[str, Any] = {"option": "hybrid", "provider": cur.provider if cur else None}
    b = int(hy.best[s]) if len(hy.best) else -1
    why = hy.why_not[s]
    if why is not None or b < 0:
        reasons = [why] if why is not None else ["no deployment fits: " + "; ".join(_self_host_infeasible(frame, s, sh, params))]
        return {**base, "model": None, "gpu": None, "gpus": None, "replicas": None, "cost": None, "feasible": False,
                "reasons": reasons, "overflow_share": 0.0 if hy.blocked[s] else None, "details": {}}
    assert current_cost is not None
    d = sh.deps[b]
    capn = sh.capacity.row(s, b)
    n = int(round(float(hy.fleet.replicas[s, b])))
    share = float(hy.fleet.share[s, b])
    fo = float(hy.fleet.failover_share[s, b])
    vol = params.volume
    per_replica = float(capn["mu_rps"]) * params.utilization_target * 60.0
    fleet_cap = n * per_replica
    prof = hy.profiles
    seg = np.array([s])
    kmax = float(prof.kmax[s]) * vol
    minutes_share = float(prof.minutes_share(seg, np.array([fleet_cap / vol]))[0])
    cover = int(max(math.ceil(kmax / per_replica - 1e-9), 1)) if per_replica > 0 else None
    design = float(frame.design_rps[s]) * vol * 60.0
    # money with Decimal from the quantities (re-derivable: replicas x GPUs x hours x price; share x today's bill)
    gpus = n * d.tp
    price = Decimal(repr(params.gpu_prices[d.gpu.id]))
    hours = Decimal(repr(params.hours_per_month))
    gpu_hours = Decimal(gpus) * hours
    gpu_cost = gpu_hours * price
    labor = Decimal(repr(params.fte_per_deployment)) * Decimal(repr(params.fte_cost)) / 12
    nodes = n * math.ceil(d.tp / d.gpu.gpus_per_node)
    obs = Decimal(repr(params.obs_per_node)) * nodes + Decimal(repr(params.obs_fixed))
    overflow_cost = current_cost * Decimal(repr(share))
    failover_cost = current_cost * Decimal(repr(fo))
    total = gpu_cost + labor + obs + overflow_cost + failover_cost
    req_m, in_m, cached_m, out_m = (float(x[s]) * vol for x in (frame.requests_m, frame.input_m, frame.cached_m,
                                                                frame.output_m))
    api_name = f"{cur.provider}/{cur.model_ref}" if cur and cur.provider else "today's API"
    latency = dict(cur.latency) if cur and cur.latency else None
    fleet_latency = {"ttft_ms": _round(capn["ttft_s"] * 1000), "tpot_ms": _round(capn["tpot_s"] * 1000)}
    reasons = [
        f"{n} replica(s) of {d.label} serve up to {fleet_cap:,.0f} requests/minute at {params.utilization_target:.0%} "
        f"utilisation; {share:.1%} of requests (and of tokens) overflow to {api_name}, in {minutes_share:.1%} of minutes",
        f"the busiest minute ({kmax:,.0f} requests) would need {cover} replica(s); self_host sizes for the "
        f"p{params.design_quantile * 100:g} minute ({design:,.0f})" if cover is not None else "",
        f"no spare replica: while one is down its load goes to the API ({fo:.2%} of requests, "
        f"{_usd(failover_cost)}/month)",
    ]
    if latency and latency.get("p50_ms") is not None:
        reasons.append(f"overflow requests see {api_name}'s latency: p50 {latency['p50_ms']:,.0f} ms, p95 "
                       f"{latency['p95_ms']:,.0f} ms in the logs; the fleet meets TTFT {fleet_latency['ttft_ms']:,.0f} ms "
                       f"/ ITL {fleet_latency['tpot_ms']:,.0f} ms")
    else:
        reasons.append(f"overflow requests see {api_name}'s latency (not in the logs); the fleet meets TTFT "
                       f"{fleet_latency['ttft_ms']:,.0f} ms / ITL {fleet_latency['tpot_ms']:,.0f} ms")
    if SENSITIVITY_ORDER.get(frame.sensitivity[s] or "", -1) > SENSITIVITY_ORDER.get(params.third_party_max, 2):
        reasons.append(f"{frame.sensitivity[s]} data overflows to a third-party API: a sensitivity rule allows it")
    if d.confidence == "low":
        reasons.append("capacity estimate is 0.6-1.4x (capacity.md §3.4): at the low end more traffic overflows; "
                       "calibrate with `planner calibrate`")
    max_len = int(math.ceil(float(frame.max_tokens[s]) / 1024.0) * 1024)
    details = {
        # the keys the plan reads (docs/reports.md, "What the plan reads")
        "gpus_per_replica": d.tp, "load_replicas": n, "spare_replicas": 0, "gpu_usd_per_hour": str(price),
        "hours_per_month": str(hours), "gpu_cost_usd": _money(gpu_cost), "labor_cost_usd": _money(labor),
        "max_model_len": max_len, "overflow_api_cost_usd": _money(overflow_cost + failover_cost),
        "deployment": {"model": d.model.id, "gpu": d.gpu.id, "gpus_per_replica": d.tp, "precision": d.precision,
                       "kv_cache_dtype": d.kv_dtype, "compute": d.compute_dtype, "profile": d.model.profile,
                       "confidence": d.confidence, "error_band": d.error_band(params.settings),
                       "calibration": d.calibration, "notes": list(d.notes)},
        "capacity": {"requests_per_second_per_replica": _round(capn["mu_rps"]),
                     "requests_per_minute_per_replica": _round(per_replica),
                     "slo_concurrency": int(capn["slo_batch"]), "tpot_ms": fleet_latency["tpot_ms"],
                     "ttft_ms": fleet_latency["ttft_ms"]},
        "fleet": {"replicas": n, "gpus": gpus, "nodes": nodes, "capacity_per_minute": _round(fleet_cap),
                  "peak_per_minute": _round(kmax), "design_peak_per_minute": _round(design),
                  "replicas_for_peak": cover, "gpu_hours_per_month": str(gpu_hours), "gpu_price_per_hour": str(price)},
        "overflow": {"provider": cur.provider if cur else None, "model": cur.model_ref if cur else None,
                     "requests_share": _round(share), "tokens_share": _round(share),
                     "minutes_share": _round(minutes_share), "failover_share": _round(fo),
                     "requests_per_month": _r(req_m * share), "input_tokens_per_month": _r(in_m * share),
                     "cached_input_tokens_per_month": _r(cached_m * share), "output_tokens_per_month": _r(out_m * share),
                     "peak_overflow_per_minute": _round(max(kmax - fleet_cap, 0.0)),
                     "api_cost_usd": _money(overflow_cost), "failover_api_cost_usd": _money(failover_cost),
                     "latency": latency, "fleet_latency": fleet_latency,
                     "note": "tokens overflow pro rata with the segment's mean shape; the overflow costs its share of "
                             "today's bill"},
        "cost": {"gpu_cost_usd": _money(gpu_cost), "labor_cost_usd": _money(labor), "observability_cost_usd": _money(obs),
                 "overflow_api_cost_usd": _money(overflow_cost), "failover_api_cost_usd": _money(failover_cost),
                 "monthly_cost_usd": _money(total)},
        "licence": {"id": d.model.licence.id, "name": d.model.licence.name,
                    "commercial_use": d.model.licence.commercial_use, "attribution": d.model.licence.attribution,
                    "restrictions": d.model.licence.restrictions},
    }
    return {**base, "model": d.model.id, "gpu": d.gpu.id, "gpus": gpus, "replicas": n, "cost": total, "feasible": True,
            "reasons": [r for r in reasons if r], "overflow_share": share, "details": details}


def _alternatives(sh: SelfHost, s: int, best: int) -> list[dict[str, Any]]:
    """The cheapest deployment of each other model (the report shows what quality would cost)."""
    out: list[dict[str, Any]] = []
    seen = {sh.deps[best].model.id}
    for j in sh.top[s]:
        j = int(j)
        if not sh.feasible[s, j]:
            continue
        d = sh.deps[j]
        if d.model.id in seen:
            continue
        seen.add(d.model.id)
        out.append({"model": d.model.id, "gpu": d.gpu.id, "gpus": int(round(sh.costs["replicas"][s, j])) * d.tp,
                    "monthly_cost_usd": _money(Decimal(repr(round(float(sh.costs["total"][s, j]), 2))))})
    return out[:4]


def _self_host_infeasible(frame: Frame, s: int, sh: SelfHost, params: Params) -> list[str]:
    if not sh.model_ids:
        return ["no candidate models"]
    if not sh.model_ok[s].any():
        reasons = sorted(set(sh.model_reasons[s].values()))
        return ["no candidate open model qualifies: " + " | ".join(reasons[:3])]
    if not sh.deps:
        return ["no candidate deployment fits in GPU memory: " + "; ".join(sorted(set(sh.dep_excluded.values()))[:3])]
    codes = sh.capacity.code[s]
    allowed_cols = [j for j, d in enumerate(sh.deps) if sh.model_ok[s, sh.model_ids.index(d.model.id)]]
    if not allowed_cols:
        return ["no candidate deployment of a qualifying model fits in GPU memory"]
    counts: dict[int, int] = {}
    for j in allowed_cols:
        counts[int(codes[j])] = counts.get(int(codes[j]), 0) + 1
    parts = []
    for code, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if code in cap.REASONS:
            parts.append(f"{n} deployment(s): {cap.REASONS[code]}")
    best_tpot = min((sh.capacity.tpot_s[s, j] for j in allowed_cols), default=float("nan"))
    if frame.mode[s] != "batch" and math.isfinite(best_tpot):
        parts.append(f"fastest ITL at batch 1 is {best_tpot * 1000:.0f} ms against a {params.tpot_s * 1000:.0f} ms target")
    return ["no deployment meets the latency targets: " + "; ".join(parts[:3])] if parts else ["no feasible deployment"]


def _score_row(frame: Frame, s: int, opts: list[dict[str, Any]], decision: int, chosen: int, dec_gpu: int, chosen_gpu: int,
               one_time: np.ndarray, current_cost: Decimal | None, flips: list[dict[str, Any]], confidence: str | None,
               params: Params, third_party_ok: bool, decide_among: Sequence[str], fragile: bool) -> dict[str, Any]:
    chosen_opt = opts[chosen]
    chosen_cost = chosen_opt["cost"] if chosen else current_cost
    savings = (current_cost - chosen_cost) if (chosen and current_cost is not None and chosen_cost is not None) else (
        Decimal(0) if current_cost is not None else None)
    one = Decimal(repr(round(float(one_time[chosen - 1]), 2))) if chosen else Decimal(0)
    breakeven = float(one / savings) if (chosen and savings and savings > 0) else None
    gpu_view = opts[3]["details"].get("views", {}).get("gpu_only", {}) if opts[3]["feasible"] else {}
    gpu_only_cost = Decimal(gpu_view["monthly_cost_usd"]) if gpu_view.get("monthly_cost_usd") else None
    savings_gpu: Decimal | None
    if chosen_gpu == 3 and current_cost is not None and gpu_only_cost is not None:
        savings_gpu = current_cost - gpu_only_cost
    elif chosen_gpu and current_cost is not None and opts[chosen_gpu]["cost"] is not None:
        savings_gpu = current_cost - opts[chosen_gpu]["cost"]
    else:
        savings_gpu = Decimal(0) if current_cost is not None else None
    reasons = _decision_reasons(frame, s, opts, decision, chosen, current_cost, savings, breakeven, dec_gpu, params,
                                third_party_ok, decide_among, fragile)
    return {"segment_id": frame.ids[s], "decision": DECISIONS[decision], "chosen_option": OPTIONS[chosen],
            "monthly_savings_usd": savings, "breakeven_months": None if breakeven is None else round(breakeven, 4),
            "one_time_cost_usd": one, "flips": flips, "reasons": reasons,
            "current_monthly_cost_usd": current_cost, "chosen_monthly_cost_usd": chosen_cost,
            "decision_gpu_only": DECISIONS[dec_gpu], "monthly_savings_gpu_only_usd": savings_gpu,
            "confidence": confidence}


def _usd(x: Decimal | float | None) -> str:
    if x is None:
        return "unknown"
    return f"-${-float(x):,.0f}" if x < 0 else f"${float(x):,.0f}"


def _decision_reasons(frame: Frame, s: int, opts: list[dict[str, Any]], decision: int, chosen: int,
                      current: Decimal | None, savings: Decimal | None, breakeven: float | None, dec_gpu: int,
                      params: Params, third_party_ok: bool, decide_among: Sequence[str], fragile: bool) -> list[str]:
    out: list[str] = []
    if current is None:
        out.append("today's cost is unknown (unpriced traffic): no option can be compared with it")
    elif chosen:
        o = opts[chosen]
        what = {"api_optimized": "optimising the current API", "open_model_api": f"{o['model']} on {o['provider']}",
                "self_host": f"self-hosting {o['model']} on {o['gpus']}x {o['gpu']}",
                "hybrid": f"a hybrid of {o['model']} on {o['gpus']}x {o['gpu']} with "
                          f"{float(o.get('overflow_share') or 0):.1%} of requests overflowing to the API"}[o["option"]]
        out.append(f"{what} costs {_usd(o['cost'])}/month against {_usd(current)} today: saves {_usd(savings)}/month"
                   + (f", pays back the one-time cost in {breakeven:.1f} months" if breakeven is not None else ""))
        if decision == PILOT:
            why = []
            if breakeven is not None and breakeven > params.migrate_max_months:
                why.append(f"break-even beyond {params.migrate_max_months:g} months")
            if frame.kind[s] is None:
                why.append("workload kind unknown")
            if o["option"] in ("self_host", "hybrid") and fragile:
                band = o["details"].get("deployment", {}).get("error_band")
                why.append(f"does not pay if real throughput is at the low end of the estimate ({band}x); "
                           f"calibrate with `planner calibrate`")
            if any("too coarse" in n for n in frame.notes[s]) and o["option"] == "self_host":
                why.append("peak load uncertain (coarse timestamps)")
            out.append("pilot first: " + ", ".join(why or ["uncertain inputs"]))
    else:
        cheapest = min(((o["cost"], o["option"]) for o in opts[1:]
                        if o["feasible"] and o["cost"] is not None and o["option"] in decide_among),
                       default=None, key=lambda t: t[0])
        if cheapest is None:
            out.append("no alternative is feasible")
        else:
            out.append(f"no alternative saves enough: the cheapest, {cheapest[1]}, costs {_usd(cheapest[0])}/month against "
                       f"{_usd(current)} today (needs >= {params.min_savings_share:.0%} and >= "
                       f"${params.min_savings_usd:,.0f}/month, break-even <= {params.pilot_max_months:g} months)")
    if not third_party_ok:
        out.append(f"{frame.sensitivity[s] or 'sensitive'} data: only self-hosting is proposed; staying on the current "
                   f"provider is the status quo, to review with compliance")
    if dec_gpu != decision:
        out.append(f"a GPU-rent-only comparison would say '{DECISIONS[dec_gpu]}': latency targets, peaks, HA and labour "
                   f"change the verdict")
    return out


# ---------------------------------------------------------------- the stage

def run(con: duckdb.DuckDBPyConnection, config: Config, run_id: str) -> StageResult:
    """Score the run's segments into segment_options and segment_scores (the caller holds the transaction)."""
    from planner.db import fetch_dicts, load_sql

    catalog = load_catalog()
    params = Params.from_config(config, catalog)
    result = StageResult(name="score")
    present = con.execute(load_sql("stages/score_segments_exists")).fetchall()
    if not present or not present[0][0]:
        result.warnings.append("no segments table yet: nothing to score (run the segment stage first)")
        result.data["segments"] = 0
        return result
    segments = fetch_dicts(con, load_sql("stages/score_segments"), {"run_id": run_id})
    for stmt in _statements(load_sql("stages/score_delete")):
        con.execute(stmt, {"run_id": run_id})
    if not segments:
        result.data["segments"] = 0
        return result
    model_rows = fetch_dicts(con, load_sql("stages/score_segment_models"), {"run_id": run_id})
    allowed = third_party_allowed(con, config, run_id, segments)
    frame = frame_from_segments(segments, model_rows, allowed, params)
    calibrations, cal_rows = read_calibrations(con)
    book = load_book(con, catalog, params)
    counts: dict[str, int] = {}
    unknown = 0
    for lo in range(0, len(frame), CHUNK):
        part = frame.take(lo, lo + CHUNK)
        scored = score_frame(part, params, catalog, book, calibrations=calibrations, candidates=config.candidates)
        write_scored(con, run_id, scored)
        for sc in scored.scores:
            counts[sc["decision"]] = counts.get(sc["decision"], 0) + 1
            unknown += sc["current_monthly_cost_usd"] is None
    _record_calibrations(con, run_id, cal_rows)
    if unknown:
        result.warnings.append(f"{unknown} segment(s) have unpriced traffic: they stay until their models can be priced")
    if not book.from_table:
        result.warnings.append("no api_price_book table: API alternatives priced directly from genai-prices")
    result.data.update({"segments": len(segments), "decisions": counts})
    return result


def _statements(text: str) -> list[str]:
    return [s.strip() for s in text.split(";") if s.strip() and not all(
        line.strip().startswith("--") or not line.strip() for line in s.strip().splitlines())]


def load_book(con: duckdb.DuckDBPyConnection | None, catalog: Catalog, params: Params) -> OfferBook:
    """The price book table when present; else the catalog's hosted offers priced by genai-prices."""
    from planner.offers import catalog_offers, read_price_book

    when = price_time(params.price_date)
    offers = read_price_book(con) if con is not None else None
    if offers is not None:
        return OfferBook(offers, when, True)
    return OfferBook(catalog_offers(list(catalog.models.values()), when), when, False)


def read_calibrations(con: duckdb.DuckDBPyConnection) -> tuple[dict[tuple[str, str, int], cap.Calibration], list[dict[str, Any]]]:
    from planner.db import fetch_dicts, load_sql

    rows = fetch_dicts(con, load_sql("stages/score_calibrations"))
    out = {}
    for r in rows:
        src = f"{r.get('tool')} {r.get('path')} (sha256 {str(r.get('file_sha256'))[:12]}, {r.get('points')} point(s))"
        out[(r["model"], r["gpu"], int(r["gpus"]))] = cap.Calibration(
            decode_factor=float(r["decode_factor"] or 1.0), ttft_factor=float(r["ttft_factor"] or 1.25), source=src)
    return out, rows


def _record_calibrations(con: duckdb.DuckDBPyConnection, run_id: str, rows: list[dict[str, Any]]) -> None:
    """Each calibration in effect becomes an assumption row of the run (origin calibration)."""
    con.execute("DELETE FROM assumptions WHERE run_id = ? AND origin = 'calibration'", [run_id])
    for r in rows:
        base = f"calibration.{r['model']}.{r['gpu']}.{int(r['gpus'])}"
        src = f"{r.get('tool')}: {r.get('path')} (sha256 {str(r.get('file_sha256'))[:12]})"
        con.execute("INSERT INTO assumptions VALUES (?, ?, ?, ?, ?, 'calibration')",
                    [run_id, f"{base}.decode_factor", f"{float(r['decode_factor']):.4g}", "x roofline decode speed", src])
        con.execute("INSERT INTO assumptions VALUES (?, ?, ?, ?, ?, 'calibration')",
                    [run_id, f"{base}.ttft_factor", f"{float(r['ttft_factor']):.4g}", "x roofline TTFT", src])


def third_party_allowed(con: duckdb.DuckDBPyConnection, config: Config, run_id: str,
                        segments: list[dict[str, Any]]) -> dict[str, bool]:
    """segment_id -> every row of the segment matches a sensitivity rule with allow_third_party.

    Dynamic SQL because the rule list is the user's (their own predicates over usage columns).
    """
    if segments and "allow_third_party" in segments[0]:        # the segmentation stage decided it already
        return {str(r["segment_id"]): bool(r["allow_third_party"]) for r in segments}
    rules = [r.where for r in config.sensitivity.rules if r.allow_third_party]
    if not rules:
        return {}
    predicate = " OR ".join(f"coalesce(({w}), false)" for w in rules)
    sql = ("SELECT segment_id, bool_and(" + predicate + ") AS allowed FROM usage_enriched "
           "WHERE segment_id IN (SELECT segment_id FROM segments WHERE run_id = $run_id) GROUP BY segment_id")
    return {str(sid): bool(ok) for sid, ok in con.execute(sql, {"run_id": run_id}).fetchall()}


def write_scored(con: duckdb.DuckDBPyConnection, run_id: str, scored: Scored) -> None:
    """Insert segment_options and segment_scores for the run via Arrow (no per-row INSERT)."""
    import pyarrow as pa

    from planner.db import load_sql

    dec = pa.decimal128(38, 10)
    opt_rows: dict[str, list[Any]] = {k: [] for k in ("run_id", "segment_id", "option", "provider", "model", "gpu", "gpus",
                                                      "replicas", "monthly_cost_usd", "feasible", "reasons",
                                                      "overflow_share", "details")}
    for sid, opts in zip(scored.frame.ids, scored.options, strict=True):
        for o in opts:
            opt_rows["run_id"].append(run_id)
            opt_rows["segment_id"].append(sid)
            opt_rows["option"].append(o["option"])
            opt_rows["provider"].append(o.get("provider"))
            opt_rows["model"].append(o.get("model"))
            opt_rows["gpu"].append(o.get("gpu"))
            opt_rows["gpus"].append(o.get("gpus"))
            opt_rows["replicas"].append(o.get("replicas"))
            opt_rows["monthly_cost_usd"].append(_q(o.get("cost")))
            opt_rows["feasible"].append(bool(o["feasible"]))
            opt_rows["reasons"].append(list(o.get("reasons") or []))
            opt_rows["overflow_share"].append(o.get("overflow_share"))
            opt_rows["details"].append(json.dumps(o.get("details") or {}, sort_keys=True, default=str))
    options = pa.table({
        "run_id": pa.array(opt_rows["run_id"], pa.string()), "segment_id": pa.array(opt_rows["segment_id"], pa.string()),
        "option": pa.array(opt_rows["option"], pa.string()), "provider": pa.array(opt_rows["provider"], pa.string()),
        "model": pa.array(opt_rows["model"], pa.string()), "gpu": pa.array(opt_rows["gpu"], pa.string()),
        "gpus": pa.array(opt_rows["gpus"], pa.int32()), "replicas": pa.array(opt_rows["replicas"], pa.int32()),
        "monthly_cost_usd": pa.array(opt_rows["monthly_cost_usd"], dec), "feasible": pa.array(opt_rows["feasible"], pa.bool_()),
        "reasons": pa.array(opt_rows["reasons"], pa.list_(pa.string())),
        "overflow_share": pa.array(opt_rows["overflow_share"], pa.float64()),
        "details": pa.array(opt_rows["details"], pa.string()),
    })
    sc = scored.scores
    scores = pa.table({
        "run_id": pa.array([run_id] * len(sc), pa.string()),
        "segment_id": pa.array([r["segment_id"] for r in sc], pa.string()),
        "decision": pa.array([r["decision"] for r in sc], pa.string()),
        "chosen_option": pa.array([r["chosen_option"] for r in sc], pa.string()),
        "monthly_savings_usd": pa.array([_q(r["monthly_savings_usd"]) for r in sc], dec),
        "breakeven_months": pa.array([r["breakeven_months"] for r in sc], pa.float64()),
        "one_time_cost_usd": pa.array([_q(r["one_time_cost_usd"]) for r in sc], dec),
        "flips": pa.array([json.dumps(r["flips"], sort_keys=True) for r in sc], pa.string()),
        "reasons": pa.array([r["reasons"] for r in sc], pa.list_(pa.string())),
        "current_monthly_cost_usd": pa.array([_q(r["current_monthly_cost_usd"]) for r in sc], dec),
        "chosen_monthly_cost_usd": pa.array([_q(r["chosen_monthly_cost_usd"]) for r in sc], dec),
        "decision_gpu_only": pa.array([r["decision_gpu_only"] for r in sc], pa.string()),
        "monthly_savings_gpu_only_usd": pa.array([_q(r["monthly_savings_gpu_only_usd"]) for r in sc], dec),
        "confidence": pa.array([r["confidence"] for r in sc], pa.string()),
        "breakeven_map": pa.array([None if r.get("breakeven_map") is None else json.dumps(r["breakeven_map"], sort_keys=True)
                                   for r in sc], pa.string()),
    })
    con.register("score_options_new", options)
    con.register("score_scores_new", scores)
    try:
        con.execute(load_sql("stages/score_insert_options"))
        con.execute(load_sql("stages/score_insert_scores"))
    finally:
        con.unregister("score_options_new")
        con.unregister("score_scores_new")


def _q(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP)
