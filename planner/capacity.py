"""How much traffic one replica of an open model serves on a GPU, under a latency target.

The two-phase roofline of capacity.md §3.3, evaluated for many workload shapes × deployments at
once with numpy (one segment is one row, one model × GPU × tensor-parallel size one column):

- F1/F2/F3 memory: weights, KV bytes per token, free memory for KV → F4 concurrency cap.
- F5 prefill is compute-bound: `t_pre = (2·P_act·I·(1−c) + attention) / (TP·F·η_pre)`; the cached
  prefix share `c` is prefill saved (self-hosted prefix caching is a throughput gain).
- F6 decode is bandwidth-bound until the batch is large: `t_step(B) = max(bytes read / bandwidth,
  FLOPs / compute)`; MoE reads `W_ne + W_exp·(1 − (1 − k/E)^B)` of its weights.
- F7 mixed load: prefill steals decode time (`TPOT = t_step/(1−ρ)`, M/D/1 wait on TTFT) and
  Little's law ties concurrency to throughput. Solved in closed form for λ at each batch size and
  searched for the largest batch whose TPOT, TTFT and prefill share meet the targets: that λ is
  the capacity per replica **under the latency target**, never the headline throughput.
- F8 offline throughput (batch work): per-request GPU time `t_pre + O·t_step(B_mem)/B_mem`.

Two refinements over capacity.md's reference implementation (docs/capacity.md explains both):
- decode attention FLOPs join the compute term at the dense decode efficiency: negligible for GQA,
  not for MLA (DeepSeek), whose absorbed attention costs about as much as its active weights at long
  context;
- replicas over several GPUs pay for their collectives (two per layer per forward pass: a fixed
  latency plus activation bytes over NVLink/PCIe), which the single-GPU roofline leaves out and
  which makes a wider replica than needed a cost rather than a free lunch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.catalog import Gpu, Model

if TYPE_CHECKING:
    from planner.config import Config

GB = 1e9
TERA = 1e12

# Infeasibility codes per (segment, deployment); 0 = feasible.
OK, NO_KV_FOR_REQUEST, TPOT_TOO_HIGH, TTFT_TOO_HIGH, PREFILL_SATURATED = 0, 1, 2, 3, 4
REASONS = {
    NO_KV_FOR_REQUEST: "the p99 request does not fit in the replica's free KV memory",
    TPOT_TOO_HIGH: "inter-token latency above the target even at batch 1",
    TTFT_TOO_HIGH: "time to first token above the target even at batch 1",
    PREFILL_SATURATED: "prefill alone would exceed the allowed busy share",
}


@dataclass(frozen=True)
class Profile:
    mbu: float            # achieved / peak memory bandwidth in decode
    mfu_prefill: float    # achieved / peak FLOPS in prefill
    mfu_decode: float     # achieved / peak FLOPS in large-batch decode


@dataclass(frozen=True)
class Settings:
    """Engine and efficiency assumptions (planner/data/defaults/capacity.toml, latency.toml)."""

    dense: Profile = Profile(0.70, 0.50, 0.50)
    moe: Profile = Profile(0.60, 0.30, 0.10)
    memory_fraction: float = 0.90
    overhead_gb_per_gpu: float = 4.0
    max_num_seqs: int = 1024
    prefill_busy_max: float = 0.6
    max_gpus_per_replica: int = 8
    weight_precision: str = "auto"
    kv_cache_dtype: str = "auto"
    int4_bytes_per_param: float = 0.56
    ttft_overhead_factor: float = 1.25
    throughput_factor: float = 1.0
    tp_max_over_minimum: int = 2
    tp_min_gain: float = 0.05
    band_dense: float = 0.8
    band_moe: float = 0.6
    band_calibrated: float = 0.9
    band_unanchored: float = 0.6
    comm_efficiency: float = 0.8
    comm_latency_us: float = 6.0

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        def prof(name: str) -> Profile:
            return Profile(config.num(f"capacity.{name}.mbu"), config.num(f"capacity.{name}.mfu_prefill"),
                           config.num(f"capacity.{name}.mfu_decode"))

        return cls(
            dense=prof("dense"), moe=prof("moe"),
            memory_fraction=config.num("capacity.memory_fraction"),
            overhead_gb_per_gpu=config.num("capacity.overhead_gb_per_gpu"),
            max_num_seqs=int(config.value("capacity.max_num_seqs")),
            prefill_busy_max=config.num("capacity.prefill_busy_max"),
            max_gpus_per_replica=int(config.value("capacity.max_gpus_per_replica")),
            weight_precision=str(config.value("capacity.weight_precision")),
            kv_cache_dtype=str(config.value("capacity.kv_cache_dtype")),
            int4_bytes_per_param=config.num("capacity.int4_bytes_per_param"),
            ttft_overhead_factor=config.num("latency.ttft_overhead_factor"),
            throughput_factor=config.num("capacity.throughput_factor"),
            tp_max_over_minimum=int(config.value("capacity.tensor_parallel.max_over_minimum")),
            tp_min_gain=config.num("capacity.tensor_parallel.min_gain"),
            band_dense=config.num("capacity.error_band.dense"), band_moe=config.num("capacity.error_band.moe"),
            band_calibrated=config.num("capacity.error_band.calibrated"),
            band_unanchored=config.num("capacity.error_band.unanchored"),
            comm_efficiency=config.num("capacity.communication.efficiency"),
            comm_latency_us=config.num("capacity.communication.latency_us"),
        )


@dataclass(frozen=True)
class Calibration:
    """Measured / estimated for one model × GPU × TP, from `planner calibrate`."""

    decode_factor: float          # multiplies decode bandwidth and FLOPS (>1: faster than estimated)
    ttft_factor: float            # replaces latency.ttft_overhead_factor for this deployment
    source: str


@dataclass(frozen=True)
class Deployment:
    """One replica: a model on `tp` GPUs of one kind, with everything the roofline needs."""

    model: Model
    gpu: Gpu
    tp: int
    precision: str                # weights: bf16 | fp8 | int4 | mxfp4
    kv_dtype: str                 # bf16 | fp8
    compute_dtype: str            # bf16 | fp8 (FLOPS used)
    weight_bytes: float
    weight_nonexpert_bytes: float
    weight_expert_bytes: float
    kv_bytes_per_token: float     # per replica, full-attention layers
    kv_window_bytes_per_token: float
    kv_capacity_bytes: float      # F3
    bandwidth: float              # effective bytes/s (peak · MBU · factors), whole replica
    flops_decode: float           # effective FLOP/s for expert/dense matmuls in decode
    flops_prefill: float
    flops_attention: float        # effective FLOP/s for attention (dense decode efficiency)
    comm_fixed_s: float           # per forward pass: latency of its collectives (0 on one GPU)
    comm_per_token_s: float       # per forward pass and token: activation bytes over the links
    ttft_factor: float
    calibration: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def gpus(self) -> int:
        return self.tp

    @property
    def label(self) -> str:
        return f"{self.model.id} on {self.tp}x {self.gpu.id} ({self.precision})"

    @property
    def confidence(self) -> str:
        if self.calibration:
            return "calibrated"
        return "low" if self.model.moe or not self.gpu.anchored else "med"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.model.id, self.gpu.id, self.tp)

    def error_band(self, settings: Settings) -> float:
        """Low end of the throughput estimate's error band (capacity.md §3.4)."""
        if self.calibration:
            return settings.band_calibrated
        band = settings.band_moe if self.model.moe else settings.band_dense
        return band if self.gpu.anchored else min(band, settings.band_unanchored)


def _bytes_per_param(precision: str, settings: Settings) -> float:
    return {"bf16": 2.0, "fp8": 1.0, "int4": settings.int4_bytes_per_param}.get(precision, 2.0)


def resolve_precision(model: Model, gpu: Gpu, requested: str) -> tuple[str | None, str]:
    """(weights precision, note); precision None means this model cannot run on this GPU."""
    if requested == "auto":
        if model.native_precision == "mxfp4":
            return "mxfp4", "MXFP4 experts as shipped"
        if model.native_precision == "fp8":
            if not gpu.fp8 and model.moe:
                return None, f"FP8 MoE weights do not run on {gpu.id} (no FP8 tensor cores)"
            return "fp8", "FP8 as shipped"
        return ("fp8", "FP8 weights") if gpu.fp8 else ("bf16", f"BF16 weights ({gpu.id} has no FP8 compute)")
    if requested == "fp8" and not gpu.fp8 and model.moe:
        return None, f"FP8 MoE weights do not run on {gpu.id} (no FP8 tensor cores)"
    if requested == "mxfp4" and model.native_precision != "mxfp4":
        return None, f"{model.id} is not shipped in MXFP4"
    return requested, f"{requested.upper()} weights (forced)"


def build_deployment(model: Model, gpu: Gpu, tp: int, settings: Settings, *, precision: str | None = None,
                     calibration: Calibration | None = None) -> Deployment | str:
    """The replica's memory and speed figures, or why it cannot exist."""
    if tp < 1 or tp > settings.max_gpus_per_replica:
        return f"{tp} GPUs per replica is outside 1..{settings.max_gpus_per_replica}"
    if model.heads % tp:
        return f"{model.heads} attention heads do not split over {tp} GPUs"
    prec, note = resolve_precision(model, gpu, precision or settings.weight_precision)
    if prec is None:
        return note
    notes = [note]
    if prec == "mxfp4":
        w_ne = (model.params_total_b - model.params_expert_b) * GB * 2.0
        w_ex = model.params_expert_b * GB * 4.25 / 8
    else:
        bpp = _bytes_per_param(prec, settings)
        w_ne = (model.params_total_b - model.params_expert_b) * GB * bpp
        w_ex = model.params_expert_b * GB * bpp
    weights = w_ne + w_ex
    # engines offer some models an FP8 KV cache only on some GPUs (catalog `fp8_kv_cache`): gpt-oss
    # reads a BF16 cache on Hopper, which doubles its KV bytes per token and halves its batch
    fp8_kv_offered = model.fp8_kv_cache == "any" or gpu.fp4
    if settings.kv_cache_dtype == "auto":
        fp8_capable = gpu.fp8 and prec in ("fp8", "mxfp4")
        kv_dtype = "fp8" if fp8_capable and fp8_kv_offered else "bf16"
        if fp8_capable and not fp8_kv_offered:
            notes.append(f"BF16 KV cache: engines offer {model.id} no FP8 KV cache on {gpu.id}")
    else:
        kv_dtype = settings.kv_cache_dtype
        if kv_dtype == "fp8" and not gpu.fp8:
            notes.append(f"FP8 KV cache on {gpu.id} is stored only (no FP8 compute)")
        elif kv_dtype == "fp8" and not fp8_kv_offered:
            notes.append(f"FP8 KV cache (forced): engines offer {model.id} none on {gpu.id}")
    b_kv = 1.0 if kv_dtype == "fp8" else 2.0
    if model.attention == "mla":
        # MLA's latent cache is replicated by plain TP; engines serve it with data-parallel
        # attention instead (capacity.md §3.2 note), which is what this assumes.
        kv_tok = model.kv_elems_per_token() * b_kv
        kv_win = 0.0
    else:
        heads_per_replica = max(model.kv_heads, tp)        # each rank holds at least one KV head
        kv_tok = 2 * model.layers_full * heads_per_replica * model.head_dim * b_kv
        kv_win = 2 * model.layers_window * heads_per_replica * model.head_dim * b_kv
        if tp > model.kv_heads:
            notes.append(f"{model.kv_heads} KV heads over {tp} GPUs: KV cache replicated {tp // model.kv_heads}x")
    capacity = tp * gpu.memory_gb * GB * settings.memory_fraction - weights - tp * settings.overhead_gb_per_gpu * GB
    if capacity <= 0:
        return (f"weights ({weights / GB:,.0f} GB {prec}) and runtime overhead do not fit in "
                f"{tp}x {gpu.memory_gb:g} GB")
    compute = "fp8" if prec == "fp8" and gpu.fp8 else "bf16"
    peak_flops = (gpu.fp8_tflops if compute == "fp8" else gpu.bf16_tflops) * TERA
    prof = settings.moe if model.moe else settings.dense
    dec = settings.throughput_factor * (calibration.decode_factor if calibration else 1.0)
    pre = settings.throughput_factor
    ttft_factor = calibration.ttft_factor if calibration else settings.ttft_overhead_factor
    # two collectives per layer (attention output, MLP/MoE output) over BF16 activations; a ring
    # all-reduce moves 2(TP-1)/TP of the bytes per GPU, an in-switch (NVLink SHARP) one about 1x.
    # MoE expert-parallel all-to-all is sized alike.
    collectives = 2 * model.layers if tp > 1 else 0
    comm_fixed = collectives * settings.comm_latency_us * 1e-6
    link = gpu.link_gbs * GB * settings.comm_efficiency
    share = 1.0 if gpu.in_switch_reduction else 2.0 * (tp - 1) / tp
    comm_tok = collectives * share * model.hidden * 2.0 / link if tp > 1 else 0.0
    if not gpu.anchored:
        notes.append(f"no published benchmark anchors the roofline on {gpu.id}: calibrate before committing")
    if gpu.interconnect == "pcie" and tp > 1:
        notes.append(f"tensor parallel over PCIe ({gpu.link_gbs:g} GB/s): all-reduce slows every step")
    return Deployment(
        model=model, gpu=gpu, tp=tp, precision=prec, kv_dtype=kv_dtype, compute_dtype=compute,
        weight_bytes=weights, weight_nonexpert_bytes=w_ne, weight_expert_bytes=w_ex,
        kv_bytes_per_token=kv_tok, kv_window_bytes_per_token=kv_win, kv_capacity_bytes=capacity,
        bandwidth=tp * gpu.bandwidth_tbs * TERA * prof.mbu * dec,
        flops_decode=tp * peak_flops * prof.mfu_decode * dec,
        flops_prefill=tp * peak_flops * prof.mfu_prefill * pre,
        flops_attention=tp * peak_flops * settings.dense.mfu_decode * dec,
        comm_fixed_s=comm_fixed, comm_per_token_s=comm_tok, ttft_factor=ttft_factor, calibration=calibration.source if calibration else None, notes=tuple(notes),
    )


def deployments_for(model: Model, gpu: Gpu, settings: Settings, *, tps: Sequence[int] | None = None,
                    precision: str | None = None,
                    calibrations: dict[tuple[str, str, int], Calibration] | None = None) -> list[tuple[int, Deployment | str]]:
    """(GPUs per replica, deployment or reason): the given sizes, else the smallest size that fits
    the weights and wider ones up to `tp_max_over_minimum` x that (tensor-parallel choice)."""
    cals = calibrations or {}
    sizes = list(tps) if tps else [t for t in (1, 2, 4, 8, 16, 32) if t <= settings.max_gpus_per_replica]
    built = [build_deployment(model, gpu, tp, settings, precision=precision, calibration=cals.get((model.id, gpu.id, tp)))
             for tp in sizes]
    if tps:
        return list(zip(sizes, built, strict=True))
    fitting = [d.tp for d in built if not isinstance(d, str)]
    if not fitting:
        return list(zip(sizes, built, strict=True))
    widest = min(fitting) * max(settings.tp_max_over_minimum, 1)
    return [(tp, d if isinstance(d, str) or d.tp <= widest else
             f"{d.tp} GPUs per replica: more than {settings.tp_max_over_minimum}x the {min(fitting)} that fit")
            for tp, d in zip(sizes, built, strict=True)]


# ---------------------------------------------------------------- vectorised evaluation

@dataclass
class Shapes:
    """Workload shapes, one entry per segment (numpy arrays of equal length)."""

    input_tokens: np.ndarray       # mean input tokens per request (all input, cached included)
    output_tokens: np.ndarray      # mean output tokens per request
    cached_share: np.ndarray       # share of input served from a cached prefix
    ttft_s: np.ndarray             # target time to first token (inf = none)
    tpot_s: np.ndarray             # target inter-token latency (inf = none)
    max_tokens: np.ndarray         # input + output of the largest request that must fit (p99)

    @classmethod
    def one(cls, input_tokens: float, output_tokens: float, cached_share: float = 0.0, *,
            ttft_s: float = math.inf, tpot_s: float = math.inf, max_tokens: float | None = None) -> Shapes:
        mx = input_tokens + output_tokens if max_tokens is None else max_tokens
        return cls(*(np.array([float(v)]) for v in (input_tokens, output_tokens, cached_share, ttft_s, tpot_s, mx)))

    def __len__(self) -> int:
        return len(self.input_tokens)


@dataclass
class Capacity:
    """Results per (segment, deployment): arrays of shape (S, D)."""

    b_mem: np.ndarray              # F4 concurrency cap from KV memory (before max_num_seqs)
    code: np.ndarray               # 0 feasible under the targets, else an infeasibility code
    t_prefill_s: np.ndarray
    offline_rps: np.ndarray        # F8 requests/s per replica at full batch
    slo_batch: np.ndarray          # largest concurrency meeting the targets (0 if none)
    mu_rps: np.ndarray             # F7 SLO capacity per replica, requests/s (0 if none)
    tpot_s: np.ndarray             # at slo_batch
    ttft_s: np.ndarray             # at slo_batch, overhead factor included
    rho: np.ndarray                # prefill busy share at slo_batch

    def row(self, i: int, j: int) -> dict[str, Any]:
        return {name: getattr(self, name)[i, j].item() for name in
                ("b_mem", "code", "t_prefill_s", "offline_rps", "slo_batch", "mu_rps", "tpot_s", "ttft_s", "rho")}


def _dep_arrays(deps: Sequence[Deployment]) -> dict[str, np.ndarray]:
    def col(f: Any) -> np.ndarray:
        return np.array([float(f(d)) for d in deps])[None, :]

    return {
        "w_ne": col(lambda d: d.weight_nonexpert_bytes),
        "w_ex": col(lambda d: d.weight_expert_bytes),
        "kfrac": col(lambda d: d.model.experts_active / d.model.experts if d.model.experts else 0.0),
        "kv": col(lambda d: d.kv_bytes_per_token),
        "kv_win": col(lambda d: d.kv_window_bytes_per_token),
        "win": col(lambda d: d.model.window),
        "cap": col(lambda d: d.kv_capacity_bytes),
        "bw": col(lambda d: d.bandwidth),
        "f_dec": col(lambda d: d.flops_decode),
        "f_pre": col(lambda d: d.flops_prefill),
        "f_att": col(lambda d: d.flops_attention),
        "p_act": col(lambda d: d.model.params_active_b * GB),
        "q_dim": col(lambda d: d.model.q_dim),
        "l_full": col(lambda d: d.model.layers_full if d.model.attention != "mla" else d.model.layers),
        "l_win": col(lambda d: d.model.layers_window),
        # decode attention FLOPs per token per token of context
        "att_full": col(lambda d: (2.0 * d.model.layers * d.model.heads * (2 * d.model.mla_kv_lora_rank + d.model.mla_rope_dim))
                        if d.model.attention == "mla" else 4.0 * d.model.layers_full * d.model.q_dim),
        "att_win": col(lambda d: 4.0 * d.model.layers_window * d.model.q_dim),
        "ttft_factor": col(lambda d: d.ttft_factor),
        "comm_fixed": col(lambda d: d.comm_fixed_s),
        "comm_tok": col(lambda d: d.comm_per_token_s),
    }


def _prefill(d: dict[str, np.ndarray], i: np.ndarray, c: np.ndarray) -> np.ndarray:
    """F5: prefill of the uncached part, causal attention (windowed layers bounded by the window)."""
    uncached = i * (1.0 - c)
    quad = i * i - (c * i) ** 2
    attn = 2.0 * d["q_dim"] * (d["l_full"] * quad + d["l_win"] * np.minimum(quad, 2.0 * d["win"] * uncached))
    return np.asarray((2.0 * d["p_act"] * uncached + attn) / d["f_pre"])


def _step(d: dict[str, np.ndarray], b: np.ndarray | float, i: np.ndarray, o: np.ndarray) -> np.ndarray:
    """F6: one decode step at concurrency b (bandwidth-bound until compute-bound)."""
    ctx = i + o / 2.0
    kv_read = d["kv"] * ctx + d["kv_win"] * np.minimum(d["win"], ctx)
    att_tok = d["att_full"] * ctx + d["att_win"] * np.minimum(d["win"], ctx)
    w_read = d["w_ne"] + d["w_ex"] * (1.0 - (1.0 - d["kfrac"]) ** b)
    t_mem = (w_read + b * kv_read) / d["bw"]
    t_cmp = 2.0 * d["p_act"] * b / d["f_dec"] + att_tok * b / d["f_att"]
    return np.asarray(np.maximum(t_mem, t_cmp) + d["comm_fixed"] + d["comm_tok"] * b)


def evaluate(deps: Sequence[Deployment], shapes: Shapes, settings: Settings) -> Capacity:
    """Size every deployment for every shape. Vectorised: no loop over segments or deployments."""
    d = _dep_arrays(deps)
    i = shapes.input_tokens[:, None].astype(float)
    o = np.maximum(shapes.output_tokens[:, None].astype(float), 1.0)
    c = np.clip(shapes.cached_share[:, None].astype(float), 0.0, 1.0)
    ttft_t = shapes.ttft_s[:, None].astype(float)
    tpot_t = shapes.tpot_s[:, None].astype(float)
    mx = np.maximum(shapes.max_tokens[:, None].astype(float), 1.0)

    # F4: memory per sequence (sliding-window layers hold at most `win` tokens)
    per_seq = d["kv"] * (i + o) + d["kv_win"] * np.minimum(d["win"], i + o)
    b_mem = np.floor(d["cap"] / per_seq)
    largest = d["kv"] * mx + d["kv_win"] * np.minimum(d["win"], mx)
    fits = (b_mem >= 1) & (largest <= d["cap"])
    b_cap = np.clip(np.minimum(b_mem, settings.max_num_seqs), 1, None)
    t_pre = _prefill(d, i, c)

    def load(b: np.ndarray) -> tuple[np.ndarray, ...]:   # F7 in closed form for λ at concurrency b
        s = _step(d, b, i, o)
        bb = t_pre * (1.0 + b) + o * s
        lam = 2.0 * b / (bb + np.sqrt(np.maximum(bb * bb - 2.0 * b * t_pre * t_pre, 0.0)))
        rho = lam * t_pre
        tpot = s / (1.0 - rho)
        ttft = t_pre * (1.0 + rho / (2.0 * (1.0 - rho))) * d["ttft_factor"]
        return lam, rho, tpot, ttft

    def meets(b: np.ndarray) -> np.ndarray:
        _, rho, tpot, ttft = load(b)
        return (tpot <= tpot_t) & (ttft <= ttft_t) & (rho <= settings.prefill_busy_max)

    # F8 offline
    offline_rps = 1.0 / (t_pre + o * _step(d, b_cap, i, o) / b_cap)

    # largest concurrency meeting the targets: monotone in b, so bisect on integers
    ones = np.ones_like(b_cap)
    ok1 = meets(ones) & fits
    lo = np.where(ok1, 1.0, 0.0)
    hi = np.where(ok1, b_cap, 0.0)
    for _ in range(int(math.ceil(math.log2(max(settings.max_num_seqs, 2)))) + 1):
        active = lo < hi
        if not active.any():
            break
        mid = np.floor((lo + hi + 1.0) / 2.0)
        good = meets(np.maximum(mid, 1.0)) & active
        lo = np.where(good, mid, lo)
        hi = np.where(active & ~good, mid - 1.0, hi)
    b_star = lo
    lam, rho, tpot, ttft = load(np.maximum(b_star, 1.0))
    _, rho1, tpot1, ttft1 = load(ones)
    code = np.full(b_star.shape, OK, dtype=np.int8)
    code = np.where(~ok1 & (rho1 > settings.prefill_busy_max), PREFILL_SATURATED, code)
    code = np.where(~ok1 & (ttft1 > ttft_t), TTFT_TOO_HIGH, code)
    code = np.where(~ok1 & (tpot1 > tpot_t), TPOT_TOO_HIGH, code)
    code = np.where(~fits, NO_KV_FOR_REQUEST, code)
    feasible = b_star >= 1
    return Capacity(
        b_mem=b_mem, code=code, t_prefill_s=t_pre,
        offline_rps=np.where(fits, offline_rps, 0.0),
        slo_batch=b_star, mu_rps=np.where(feasible, lam, 0.0),
        tpot_s=np.where(feasible, tpot, tpot1), ttft_s=np.where(feasible, ttft, ttft1),
        rho=np.where(feasible, rho, rho1),
    )


def size_one(dep: Deployment, shape: Shapes, settings: Settings) -> dict[str, Any]:
    """One deployment for one shape, as plain numbers (estimate, calibrate, tests)."""
    out = evaluate([dep], shape, settings).row(0, 0)
    out["offline_output_tok_s"] = out["offline_rps"] * max(float(shape.output_tokens[0]), 1.0)
    out["slo_output_tok_s"] = out["mu_rps"] * max(float(shape.output_tokens[0]), 1.0)
    return out


def step_time(dep: Deployment, batch: float, input_tokens: float, output_tokens: float) -> float:
    """F6 decode step time at a given concurrency (calibration compares it with a measured TPOT)."""
    one = np.array([[float(input_tokens)]])
    return float(_step(_dep_arrays([dep]), float(batch), one, np.array([[max(float(output_tokens), 1.0)]]))[0, 0])


def prefill_time(dep: Deployment, input_tokens: float, cached_share: float = 0.0) -> float:
    """F5 prefill time of one request (before queueing and the TTFT overhead factor)."""
    return float(_prefill(_dep_arrays([dep]), np.array([[float(input_tokens)]]), np.array([[float(cached_share)]]))[0, 0])
