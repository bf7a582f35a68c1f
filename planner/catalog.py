"""Open-weight models and GPUs: the facts sizing starts from (planner/data/models.toml, gpus.toml).

Facts are not assumptions: a model's layer count or a GPU's bandwidth do not change with the
user's situation, so they live in the catalog with their sources, while prices, efficiencies and
targets live in planner/data/defaults/ as assumptions the user can override.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from planner.errors import ConfigError, UsageError

# Workload kinds capability tiers are given for (docs/segments.md names them; aliases below map
# the spellings a rule or the segmentation stage may use onto these).
KINDS: tuple[str, ...] = (
    "classification", "extraction", "summarization", "rag", "chat", "code", "agentic", "reasoning",
    "vision", "long_document",
)
_KIND_ALIASES = {
    "classify": "classification", "classifier": "classification", "labeling": "classification",
    "labelling": "classification", "moderation": "classification",
    "extract": "extraction", "structured_extraction": "extraction", "parsing": "extraction",
    "summarize": "summarization", "summarisation": "summarization", "summary": "summarization",
    "rag_qa": "rag", "qa": "rag", "question_answering": "rag", "rag/qa": "rag", "retrieval": "rag",
    "conversation": "chat", "assistant": "chat", "support": "chat",
    "coding": "code", "code_generation": "code",
    "agent": "agentic", "tool_use": "agentic", "tools": "agentic", "agentic_tool_use": "agentic",
    "agentic/tool_use": "agentic", "function_calling": "agentic",
    "complex_reasoning": "reasoning", "math": "reasoning",
    "image": "vision", "multimodal": "vision",
    "long_doc": "long_document", "long_context": "long_document", "long_document_reasoning": "long_document",
    "long-document": "long_document",
}

PRECISIONS = ("bf16", "fp8", "int4", "mxfp4")
FP8_KV_CACHE = ("any", "fp4_gpus")


def normalize_kind(kind: str | None) -> str | None:
    """A workload kind from any spelling onto KINDS; None when unknown or not one of ours."""
    if kind is None:
        return None
    key = re.sub(r"[\s\-]+", "_", str(kind).strip().lower())
    if key in KINDS:
        return key
    return _KIND_ALIASES.get(key) or _KIND_ALIASES.get(key.replace("_", "-"))


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    commercial_use: bool
    attribution: str
    restrictions: str
    url: str


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    hf_repo: str
    profile: str                  # dense | moe (which efficiency profile sizes it)
    native_precision: str         # bf16 | fp8 | mxfp4: what the vendor ships
    params_total_b: float
    params_active_b: float
    params_expert_b: float        # routed experts (MoE), 0 for dense
    experts: int
    experts_active: int
    layers: int
    layers_window: int            # sliding-window attention layers (their KV is bounded by `window`)
    window: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    attention: str                # gqa | mla
    vocab: int
    context_window: int
    context_window_native: int
    modalities: tuple[str, ...]
    licence: Licence
    tiers: dict[str, int]
    sources: tuple[str, ...]
    mla_kv_lora_rank: int = 0
    mla_rope_dim: int = 0
    kv_bytes_per_token_bf16: int = 0
    # where the engines offer an FP8 KV cache for this model: "any" GPU with FP8 compute, or only
    # "fp4_gpus" (Blackwell); gpt-oss's attention-sink kernels read a BF16 cache on Hopper
    fp8_kv_cache: str = "any"
    api_offers: tuple[tuple[str, str], ...] = ()   # (provider, model_ref) as genai-prices names them

    @property
    def moe(self) -> bool:
        return self.profile == "moe"

    @property
    def layers_full(self) -> int:
        return self.layers - self.layers_window

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    def kv_elems_per_token(self) -> int:
        """KV cache elements per token of context over the full-attention layers (F2)."""
        if self.attention == "mla":
            return self.layers * (self.mla_kv_lora_rank + self.mla_rope_dim)
        return 2 * self.layers_full * self.kv_heads * self.head_dim

    def kv_window_elems_per_token(self) -> int:
        """Per-token KV elements of the sliding-window layers (bounded by `window` tokens)."""
        return 2 * self.layers_window * self.kv_heads * self.head_dim

    def tier(self, kind: str) -> int:
        return int(self.tiers.get(kind, 0))


@dataclass(frozen=True)
class Gpu:
    id: str
    name: str
    memory_gb: float
    bandwidth_tbs: float
    bf16_tflops: float
    fp8_tflops: float
    fp4_tflops: float
    power_w: float
    fp8: bool
    fp4: bool
    interconnect: str
    gpus_per_node: int
    link_gbs: float
    in_switch_reduction: bool
    anchored: bool
    sources: tuple[str, ...]

    @property
    def price_key(self) -> str:
        return f"gpus.{self.id}.price_per_hour"


@dataclass(frozen=True)
class Catalog:
    models: dict[str, Model]
    gpus: dict[str, Gpu]
    licences: dict[str, Licence]

    def model(self, model_id: str) -> Model:
        try:
            return self.models[model_id.strip().lower()]
        except KeyError:
            raise UsageError(f"unknown model {model_id!r}", hint=f"catalog models: {', '.join(self.models)}") from None

    def gpu(self, gpu_id: str) -> Gpu:
        try:
            return self.gpus[gpu_id.strip().lower()]
        except KeyError:
            raise UsageError(f"unknown GPU {gpu_id!r}", hint=f"catalog GPUs: {', '.join(self.gpus)}") from None

    def model_for_repo(self, repo: str) -> Model | None:
        """The catalog model a Hugging Face repo or served-model name refers to, if any."""
        text = repo.strip().lower()
        tail = text.rsplit("/", 1)[-1]
        for m in self.models.values():
            if text == m.hf_repo.lower() or tail == m.hf_repo.lower().rsplit("/", 1)[-1] or tail == m.id:
                return m
        squashed = re.sub(r"[^a-z0-9]", "", tail)
        for m in sorted(self.models.values(), key=lambda m: -len(m.id)):
            if re.sub(r"[^a-z0-9]", "", m.id) in squashed:
                return m
        return None


def _read(name: str) -> dict[str, Any]:
    node = resources.files("planner") / "data" / name
    return tomllib.loads(node.read_text(encoding="utf-8"))


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"planner/data/{where}: missing {key}")
    return table[key]


@cache
def load_catalog() -> Catalog:
    """Read and check the packaged catalog once per process."""
    mdata = _read("models.toml")
    gdata = _read("gpus.toml")
    licences = {
        lid: Licence(lid, spec["name"], bool(spec["commercial_use"]), spec["attribution"], spec["restrictions"], spec["url"])
        for lid, spec in mdata.get("licences", {}).items()
    }
    models: dict[str, Model] = {}
    for mid, spec in mdata.get("models", {}).items():
        where = f"models.toml: {mid}"
        if not spec.get("sources"):
            raise ConfigError(f"planner/data/{where}: every model needs sources")
        lid = _require(spec, "licence", where)
        if lid not in licences:
            raise ConfigError(f"planner/data/{where}: unknown licence {lid}")
        tiers = dict(_require(spec, "tiers", where))
        unknown = sorted(set(tiers) - set(KINDS))
        if unknown:
            raise ConfigError(f"planner/data/{where}: unknown workload kinds in tiers: {', '.join(unknown)}")
        if spec["native_precision"] not in PRECISIONS:
            raise ConfigError(f"planner/data/{where}: native_precision must be one of {PRECISIONS}")
        if spec.get("fp8_kv_cache", "any") not in FP8_KV_CACHE:
            raise ConfigError(f"planner/data/{where}: fp8_kv_cache must be one of {FP8_KV_CACHE}")
        fields = {k: v for k, v in spec.items() if k not in {"licence", "tiers", "sources", "modalities", "api_offers"}}
        models[mid] = Model(id=mid, licence=licences[lid], tiers=tiers, sources=tuple(spec["sources"]),
                            modalities=tuple(spec.get("modalities", ["text"])),
                            api_offers=tuple((str(p), str(r)) for p, r in spec.get("api_offers", [])), **fields)
    gpus: dict[str, Gpu] = {}
    for gid, spec in gdata.items():
        if not spec.get("sources"):
            raise ConfigError(f"planner/data/gpus.toml: {gid}: every GPU needs sources")
        fields = {k: v for k, v in spec.items() if k != "sources"}
        gpus[gid] = Gpu(id=gid, sources=tuple(spec["sources"]), **fields)
    return Catalog(models=models, gpus=gpus, licences=licences)
