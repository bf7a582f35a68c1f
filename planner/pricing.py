"""Price every usage row from the pinned genai-prices snapshot, build the API price book, reconcile.

The stage never prices rows in Python. It scans the distinct raw price keys of `usage` (one GROUP BY),
resolves each (provider, model) to the id genai-prices knows, and writes one `prices` row per key x dated
price period x long-context tier. `usage_enriched` joins every row to its price row in SQL and does the
arithmetic in DECIMAL. Tier rules genai-prices lacks (batch, flex before a variant exists) come from
`planner/data/defaults/pricing.toml`; user overrides from `[pricing]` in planner.toml.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import price_keys
from planner.db import fetch_dicts, load_sql
from planner.errors import ConfigError
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb
    from genai_prices import types as gp_types
    from genai_prices.data_snapshot import DataSnapshot

    from planner.config import Config, PriceOverride

MTOK_KEYS = ("input_mtok", "cache_read_mtok", "cache_write_mtok", "output_mtok", "requests_kcount")
MIN_TS = datetime(1, 1, 1)
MAX_TS = datetime(9999, 12, 31)
MAX_INPUT = 9_223_372_036_854_775_807
SCALE = Decimal("0.0000000001")
_END_OF_DAY = time(23, 59, 59, 999999)

# provider names other tools write → the genai-prices provider id
PROVIDER_ALIASES = {
    "bedrock": "aws", "aws_bedrock": "aws", "amazon": "aws", "amazon-bedrock": "aws", "aws-bedrock": "aws",
    "vertex_ai": "google", "vertex": "google", "vertex-ai": "google", "gemini": "google", "google_ai_studio": "google",
    "google-vertex": "google", "google-ai-studio": "google",
    "together_ai": "together", "togetherai": "together", "fireworks_ai": "fireworks", "fireworks-ai": "fireworks",
    "azure_openai": "azure", "azure_ai": "azure", "azure-openai": "azure", "xai": "x-ai", "grok": "x-ai",
    "mistralai": "mistral", "mistral_ai": "mistral", "deepseek_ai": "deepseek", "novita_ai": "novita",
    "meta_llama": "meta", "cohere_chat": "cohere",
}
# providers that only route: their `provider/model` prefixes name the real provider
ROUTERS = {None, "litellm", "gateway", "proxy", "portkey", "helicone", "langfuse"}
TIER_ALIASES = {
    None: "standard", "": "standard", "default": "standard", "standard": "standard", "auto": "standard",
    "on_demand": "standard", "on-demand": "standard",
    "batch": "batch",
    "flex": "flex", "flex-tier": "flex", "flex_tier": "flex", "flex_discount": "flex",
    "priority": "priority", "priority_on_demand": "priority", "priority-tier": "priority",
    "scale": "scale", "fast": "fast",
}
_DATE_SUFFIX = re.compile(r"(-|@)(20\d{2})-?(\d{2})-?(\d{2})$")


# ---------------------------------------------------------------- the snapshot

@dataclass
class PriceSource:
    """The price data in use: the bundled genai-prices snapshot, or a pinned price file."""

    snapshot: DataSnapshot
    snapshot_date: date
    source: str
    version: str
    warnings: list[str] = field(default_factory=list)


def load_prices(config: Config) -> PriceSource:
    """The bundled snapshot (never fetched: auto-update off), or `[pricing] price_file` when set."""
    import genai_prices
    from genai_prices.data_snapshot import DataSnapshot, get_snapshot

    pinned = str(config.value("pricing.snapshot.genai_prices_version"))
    warnings: list[str] = []
    if config.pricing.price_file:
        path = Path(config.pricing.price_file)
        if config.path is not None and not path.is_absolute():
            path = config.path.parent / path
        snapshot = DataSnapshot(providers=_read_price_file(path), from_auto_update=False)
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
        origin = config.assumptions["pricing.snapshot.date"].origin
        snap_date = _as_date(config.value("pricing.snapshot.date")) if origin != "default" else mtime
        return PriceSource(snapshot, snap_date, f"price file {path.name} (genai-prices format)",
                           genai_prices.__version__, warnings)
    if genai_prices.__version__ != pinned:
        warnings.append(f"genai-prices {genai_prices.__version__} is installed but {pinned} is pinned; "
                        f"the snapshot date {config.value('pricing.snapshot.date')} may be wrong")
    return PriceSource(get_snapshot(), _as_date(config.value("pricing.snapshot.date")),
                       f"genai-prices {genai_prices.__version__} bundled snapshot", genai_prices.__version__,
                       warnings)


def _read_price_file(path: Path) -> list[gp_types.Provider]:
    from genai_prices.types import _providers_from_raw  # the package's own loader for its data.json

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: pricing.price_file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: pricing.price_file is not genai-prices JSON ({exc})") from None
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: pricing.price_file must be a JSON array of providers (genai-prices data.json)")
    try:
        return _providers_from_raw(raw)
    except Exception as exc:  # pydantic validation: name the file, keep one line
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path}: pricing.price_file: invalid provider data ({first})") from None


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# ---------------------------------------------------------------- model normalisation

@dataclass(frozen=True)
class Resolution:
    """What a (provider, model) pair of usage resolved to."""

    provider: str | None
    model: str | None
    model_ref: str | None
    gp_provider: str | None
    gp_model: str | None
    status: str            # priced | override | unknown_model | unknown_provider | unsupported
    reason: str | None = None
    lookup_ref: str | None = None   # the spelling genai-prices resolved (e.g. with the Fireworks prefix)


def canonical_provider(provider: str | None) -> str | None:
    if provider is None:
        return None
    p = provider.strip().lower()
    return PROVIDER_ALIASES.get(p, p) or None


def _lookup(snapshot: DataSnapshot, provider: str | None, model: str) -> tuple[Any, Any] | None:
    found = _lookup_ref(snapshot, provider, model)
    return None if found is None else (found[0], found[1])


def _lookup_ref(snapshot: DataSnapshot, provider: str | None, model: str) -> tuple[Any, Any, str] | None:
    """genai-prices' own lookup, then the spellings it misses (Fireworks prefix, date suffixes)."""
    tries = [model]
    if provider == "fireworks" and not model.startswith("accounts/"):
        tries.append(f"accounts/fireworks/models/{model}")
    m = _DATE_SUFFIX.search(model)
    if m:
        tries.append(model[: m.start()])
    if provider == "aws":
        tries.extend(re.sub(r"^(us|eu|apac|global|jp|au|ca|us-gov)\.", "", t) for t in list(tries))
    for t in tries:
        try:
            gp_provider, model_info = snapshot.find_provider_model(t, None, provider, None)
        except LookupError:
            continue
        return gp_provider, model_info, t
    return None


def normalise(snapshot: DataSnapshot, config: Config, provider: str | None, model: str | None) -> Resolution:
    """Map a raw (provider, model) to the genai-prices id: aliases, Azure deployments, ARNs, prefixes, dates."""
    if model is None or not model.strip():
        return Resolution(provider, model, None, None, None, "unknown_model", "no model name in the source")
    name = model.strip()
    prov = canonical_provider(provider)
    steps: list[str] = []

    aliases = {k.lower(): v for k, v in config.pricing.model_aliases.items()}
    for key in (f"{(provider or '').lower()}/{name.lower()}", name.lower()):
        if key in aliases:
            steps.append(f"alias {key} -> {aliases[key]}")
            name = aliases[key]
            break
    if prov == "azure":
        deployments = {k.lower(): v for k, v in config.pricing.azure_deployments.items()}
        if name.lower() in deployments:
            steps.append(f"azure deployment {name} -> {deployments[name.lower()]}")
            name = deployments[name.lower()]
    if name.lower().startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
        steps.append("ARN -> model id")
    if "/" in name:
        head, rest = name.split("/", 1)
        head_p = canonical_provider(head)
        if (prov in ROUTERS or head_p == prov) and rest and _provider_exists(snapshot, head_p):
            if head_p != prov:
                steps.append(f"provider from prefix {head}")
            prov = head_p
            name = rest

    if prov is not None and not _provider_exists(snapshot, prov):
        return Resolution(provider, model, None, prov, None, "unknown_provider",
                          f"provider {prov!r} is not in the price snapshot")
    found = _lookup_ref(snapshot, prov, name)
    if found is None and prov is None:
        return Resolution(provider, model, None, None, None, "unknown_model",
                          f"no provider given and no provider's models match {name!r}")
    if found is None:
        return Resolution(provider, model, None, prov, None, "unknown_model",
                          f"model {name!r} is not in the price snapshot for provider {prov!r}")
    gp_provider, gp_model, ref = found
    return Resolution(provider, model, gp_model.id, gp_provider.id, gp_model.id, "priced",
                      "; ".join(steps) or None, ref)


def _provider_exists(snapshot: DataSnapshot, provider: str | None) -> bool:
    if provider is None:
        return False
    from genai_prices.data_snapshot import find_provider_by_id

    return find_provider_by_id(snapshot.providers, provider) is not None


# ---------------------------------------------------------------- unit prices of one model

@dataclass(frozen=True)
class UnitPrices:
    """Per-million USD prices of one tier (a flat price per key; tiers are split into separate rows)."""

    input_mtok: Decimal | None
    cached_input_mtok: Decimal | None
    cache_write_mtok: Decimal | None
    output_mtok: Decimal | None
    request_kusd: Decimal | None

    def scaled(self, factor: Decimal) -> UnitPrices:
        return UnitPrices(*(None if v is None else v * factor for v in self.as_tuple()))

    def as_tuple(self) -> tuple[Decimal | None, ...]:
        return (self.input_mtok, self.cached_input_mtok, self.cache_write_mtok, self.output_mtok, self.request_kusd)


@dataclass(frozen=True)
class TierPrices:
    """One long-context tier: requests whose input is in (input_above, input_up_to]."""

    context_tier: int
    input_above: int
    input_up_to: int
    prices: UnitPrices


def split_tiers(model_price: Any) -> list[TierPrices]:
    """A genai-prices ModelPrice → one flat price set per long-context tier (cliff tiers: 'input > start')."""
    from genai_prices.types import TieredPrices

    values = {k: getattr(model_price, k, None) for k in MTOK_KEYS}
    starts = sorted({t.start for v in values.values() if isinstance(v, TieredPrices) for t in v.tiers})
    bounds = [-1, *starts]
    out: list[TierPrices] = []
    for i, above in enumerate(bounds):
        up_to = bounds[i + 1] if i + 1 < len(bounds) else MAX_INPUT

        def at(v: Any, above: int = above) -> Decimal | None:
            if v is None:
                return None
            if isinstance(v, TieredPrices):
                price = v.base
                for tier in v.tiers:  # sorted ascending; a request with input > above is > every start <= above
                    if tier.start <= above:
                        price = tier.price
                return Decimal(price)
            return Decimal(v)

        out.append(TierPrices(i, above, up_to, UnitPrices(
            at(values["input_mtok"]), at(values["cache_read_mtok"]), at(values["cache_write_mtok"]),
            at(values["output_mtok"]), at(values["requests_kcount"]))))
    return out


def _other_price_keys(model_price: Any) -> list[str]:
    return sorted(k for k, v in vars(model_price).items()
                  if v is not None and not k.startswith("_") and k not in MTOK_KEYS)


# ---------------------------------------------------------------- price periods

@dataclass(frozen=True)
class Period:
    valid_from: datetime
    valid_to: datetime
    daily_from: time | None
    daily_to: time | None
    at: datetime                      # a representative instant inside the period


def _utc_time(t: time) -> time:
    if t.tzinfo is None:
        return t
    return datetime.combine(date(2000, 1, 1), t).astimezone(UTC).time().replace(tzinfo=None)


def periods_of(model: Any, fallback_day: date) -> list[Period]:
    """The dated price periods of a model (start dates of its prices and variants), split by time-of-day
    windows where it has them. Prices are constant inside each period, so one lookup per period is exact."""
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    constraints: list[Any] = []
    if isinstance(model.prices, list):
        constraints.extend(c.constraint for c in model.prices if c.constraint is not None)
    constraints.extend(v.constraint for v in model.price_variants or () if v.constraint is not None)
    days = sorted({c.start_date for c in constraints if isinstance(c, StartDateConstraint)})
    cuts = sorted({_utc_time(t) for c in constraints if isinstance(c, TimeOfDateConstraint)
                   for t in (c.start_time, c.end_time)})
    edges: list[datetime] = [MIN_TS, *(datetime.combine(d, time()) for d in days), MAX_TS]
    windows: list[tuple[time | None, time | None]]
    if cuts:
        marks = [time(0), *[c for c in cuts if c != time(0)]]
        windows = [(marks[i], marks[i + 1] if i + 1 < len(marks) else None) for i in range(len(marks))]
    else:
        windows = [(None, None)]
    out: list[Period] = []
    for i in range(len(edges) - 1):
        start, end = edges[i], edges[i + 1]
        if start == MIN_TS:
            rep_day = (end.date() - timedelta(days=1)) if end != MAX_TS else fallback_day
        else:
            rep_day = start.date()
        for w_from, w_to in windows:
            at = datetime.combine(rep_day, w_from or time(12), tzinfo=UTC)
            # daily_to is inclusive (the next window's start less 1 µs, DuckDB's precision)
            last = (datetime.combine(date(2000, 1, 1), w_to) - timedelta(microseconds=1)).time() if w_to else _END_OF_DAY
            out.append(Period(start, end, w_from, last if w_from is not None else None, at))
    return out


# ---------------------------------------------------------------- tiers: batch, flex, priority

def price_tier(batch: bool | None, service_tier: str | None) -> str:
    """The tier a row is billed at: batch wins; service tier names normalised (unknown names kept)."""
    st = service_tier.strip().lower() if isinstance(service_tier, str) else None
    if batch:
        return "batch"
    return TIER_ALIASES.get(st, st or "standard")


def price_context(tier: str) -> dict[str, str] | None:
    """The genai-prices price_context that selects a tier's variant (None = standard prices)."""
    if tier == "standard":
        return None
    if tier == "batch":
        return {"processing": "batch"}
    if tier == "fast":
        return {"service_tier": "fast", "speed": "fast"}
    return {"service_tier": tier}


def _variant_active(model: Any, ctx: Mapping[str, str], at: datetime) -> bool:
    for v in model.price_variants or ():
        if v.constraint is not None and not v.constraint.active(at):
            continue
        if all(ctx.get(k) == val for k, val in v.when.items()):
            return True
    return False


@dataclass(frozen=True)
class ResolvedPrice:
    tiers: list[TierPrices]
    basis: str
    note: str | None
    warning: str | None = None


def resolve_price(config: Config, gp_provider: Any, model: Any, tier: str, at: datetime,
                  raw_provider: str | None = None) -> ResolvedPrice:
    """Unit prices of `model` on `gp_provider` for `tier` at instant `at`.

    genai-prices' variant when it has one active (as calc_price applies it: only for the provider's own
    models, not fallbacks); else the provider's tier multiplier from pricing.toml; else standard prices
    with a warning (the tier's price is unknown, never silently assumed)."""
    ctx = price_context(tier)
    own = any(model is m for m in gp_provider.models)
    standard = model.get_prices(at)
    others = _other_price_keys(standard)
    note = f"not priced: {', '.join(others)} (no such counts in usage)" if others else None
    if ctx is None:
        return ResolvedPrice(split_tiers(standard), "genai-prices", note)
    if own and _variant_active(model, ctx, at):
        ctx_text = ",".join(f"{k}={v}" for k, v in sorted(ctx.items()))
        return ResolvedPrice(split_tiers(model.get_prices(at, ctx)), f"genai-prices variant {ctx_text}", note)
    if tier in ("batch", "flex"):
        for pid in dict.fromkeys([gp_provider.id, canonical_provider(raw_provider)]):
            key = f"pricing.{tier}_multiplier.{pid}"
            if pid and key in config.assumptions:
                factor = Decimal(str(config.value(key)))
                tiers = [replace(t, prices=t.prices.scaled(factor)) for t in split_tiers(standard)]
                return ResolvedPrice(tiers, f"rule {key} = {factor}", note)
    warning = (f"{tier} rows of {gp_provider.id}/{model.id} priced at standard rates: "
               f"no {tier} price known (genai-prices has no variant, pricing.toml no rule)")
    return ResolvedPrice(split_tiers(standard), f"genai-prices standard (no {tier} price known)",
                         f"{tier} priced at standard rates" + (f"; {note}" if note else ""), warning)


# ---------------------------------------------------------------- overrides

@dataclass(frozen=True)
class Override:
    spec: PriceOverride
    model_ref: str
    index: int


def _apply_override(tiers: list[TierPrices], ov: PriceOverride) -> list[TierPrices]:
    out = []
    for t in tiers:
        p = t.prices
        p = UnitPrices(
            ov.input_mtok if ov.input_mtok is not None else p.input_mtok,
            ov.cached_input_mtok if ov.cached_input_mtok is not None else p.cached_input_mtok,
            ov.cache_write_mtok if ov.cache_write_mtok is not None else p.cache_write_mtok,
            ov.output_mtok if ov.output_mtok is not None else p.output_mtok,
            p.request_kusd,
        )
        if ov.discount_pct is not None:
            p = p.scaled((Decimal(100) - ov.discount_pct) / Decimal(100))
        out.append(replace(t, prices=p))
    if any(v is not None for v in (ov.input_mtok, ov.cached_input_mtok, ov.cache_write_mtok, ov.output_mtok)):
        # explicit prices are flat: the first tier's prices hold for every input size
        first = out[0]
        out = [replace(first, input_above=-1, input_up_to=MAX_INPUT)]
    return out


def _override_text(ov: PriceOverride) -> str:
    parts = [f"{k}={getattr(ov, k)}" for k in ("input_mtok", "cached_input_mtok", "cache_write_mtok", "output_mtok",
                                               "discount_pct") if getattr(ov, k) is not None]
    return ", ".join(parts)


def match_override(config: Config, res: Resolution, snapshot: DataSnapshot) -> PriceOverride | None:
    """The last `[[pricing.overrides]]` entry naming this provider (raw or canonical) and model (raw or id)."""
    found = None
    for ov in config.pricing.overrides:
        ov_prov = canonical_provider(ov.provider)
        if ov_prov not in {canonical_provider(res.provider), res.gp_provider}:
            continue
        names = {ov.model.lower()}
        if res.model is not None and ov.model.lower() == res.model.lower():
            found = ov
            continue
        ov_res = normalise(snapshot, config, ov.provider, ov.model)
        if ov_res.model_ref is not None:
            names.add(ov_res.model_ref.lower())
        if res.model_ref is not None and res.model_ref.lower() in names:
            found = ov
    return found


def override_assumptions(config: Config) -> list[dict[str, str]]:
    """Each override as assumption rows (origin config), so every price figure re-derives from the tables."""
    rows = []
    for ov in config.pricing.overrides:
        base = f"pricing.override.{canonical_provider(ov.provider)}/{ov.model}"
        for k in ("input_mtok", "cached_input_mtok", "cache_write_mtok", "output_mtok", "discount_pct"):
            v = getattr(ov, k)
            if v is not None:
                unit = "percent off list price" if k == "discount_pct" else "USD per 1M tokens"
                rows.append({"key": f"{base}.{k}", "value": str(v), "unit": unit, "source": ov.source,
                             "origin": "config"})
    return rows


# ---------------------------------------------------------------- the stage

PRICE_COLUMNS = (
    "price_key", "provider", "model_ref", "batch", "service_tier", "price_tier", "gp_provider", "gp_model",
    "valid_from", "valid_to", "daily_from", "daily_to", "context_tier", "input_above", "input_up_to",
    "input_mtok", "cached_input_mtok", "cache_write_mtok", "output_mtok", "request_kusd", "batch_input_mtok",
    "batch_output_mtok", "failed_billing", "basis", "note", "snapshot_date", "source", "run_id",
)
MODEL_COLUMNS = ("provider", "model", "model_ref", "gp_provider", "gp_model", "status", "reason", "rows",
                 "needs_update", "run_id")


@dataclass
class PricingOutcome:
    """What `price_usage` found: for warnings, the report and tests."""

    resolutions: list[Resolution]
    price_rows: int
    unpriced: list[dict[str, Any]]
    warnings: list[str]
    bucket_base_tier: list[dict[str, Any]]
    updated_pairs: int


def failed_billing_rule(config: Config, provider: str | None) -> str:
    key = f"pricing.failed_requests.{canonical_provider(provider)}"
    rule = str(config.value(key) if key in config.assumptions else config.value("pricing.failed_requests.default"))
    if rule not in ("not_billed", "input_only"):
        raise ConfigError(f"{key}: expected not_billed or input_only, got {rule!r}")
    return rule


def price_key_text(provider: str | None, model_ref: str, batch: bool | None, service_tier: str | None,
                   period: Period, tier: TierPrices) -> str:
    b = "null" if batch is None else str(batch).lower()
    st = "null" if service_tier is None else service_tier
    start = "since-ever" if period.valid_from == MIN_TS else period.valid_from.date().isoformat()
    window = f"|{period.daily_from:%H:%M}" if period.daily_from is not None else ""
    return f"{provider or '?'}/{model_ref}|batch={b}|tier={st}|{start}{window}|ctx{tier.context_tier}"


def _q(v: Decimal | None) -> Decimal | None:
    return None if v is None else v.quantize(SCALE)


def resolve_models(config: Config, pairs: Iterable[tuple[str | None, str | None]], source: PriceSource
                   ) -> tuple[dict[tuple[str | None, str | None], Resolution],
                              dict[tuple[str | None, str | None], PriceOverride]]:
    """Resolve each raw (provider, model) once: normalisation, overrides, models not priced per token."""
    snapshot = source.snapshot
    resolutions: dict[tuple[str | None, str | None], Resolution] = {}
    overrides: dict[tuple[str | None, str | None], PriceOverride] = {}
    for pair in sorted(set(pairs), key=lambda p: (p[0] or "", p[1] or "")):
        res = normalise(snapshot, config, *pair)
        ov = match_override(config, res, snapshot)
        if ov is not None:
            overrides[pair] = ov
            if res.model_ref is None:
                has_prices = ov.input_mtok is not None and ov.output_mtok is not None
                if has_prices:
                    res = replace(res, model_ref=ov.model.lower(), gp_model=None, status="override",
                                  reason=f"priced by planner.toml override ({_override_text(ov)})")
                else:
                    res = replace(res, reason=(res.reason or "") + "; the override has no input_mtok and output_mtok "
                                  "to price a model the snapshot lacks")
            else:
                res = replace(res, status="override", reason=f"planner.toml override ({_override_text(ov)})")
        if res.model_ref is not None and res.gp_model is not None:
            found = _lookup(snapshot, res.gp_provider, res.lookup_ref or res.gp_model)
            assert found is not None, res
            model = found[1]
            if getattr(model.get_prices(datetime.combine(source.snapshot_date, time(), tzinfo=UTC)), "input_mtok",
                       None) is None and not _is_free(model):
                res = replace(res, model_ref=None, status="unsupported",
                              reason=f"{res.gp_provider}/{res.gp_model} is not priced per input token in the snapshot")
        resolutions[pair] = res
    return resolutions, overrides


def model_refs(config: Config, pairs: Iterable[tuple[str | None, str | None]],
               source: PriceSource | None = None) -> dict[tuple[str | None, str | None], str | None]:
    """usage.model_ref for each raw (provider, model), as the price stage writes it. Ingest inserts rows
    with it, so the price stage has nothing to rewrite unless the configuration changed since."""
    resolutions, _ = resolve_models(config, pairs, source or load_prices(config))
    return {pair: res.model_ref for pair, res in resolutions.items()}


def price_usage(con: duckdb.DuckDBPyConnection, config: Config, run_id: str | None,
                source: PriceSource | None = None, keys: list[dict[str, Any]] | None = None) -> PricingOutcome:
    """Resolve models, fill usage.model_ref, write `price_models` and `prices`. One scan of usage
    (`keys`: the price_keys rows when another engine scanned them, planner.spark)."""
    source = source or load_prices(config)
    snapshot = source.snapshot
    if keys is None:
        price_keys.ensure(con)  # the key ledger kept at ingest; rebuilt from usage only when stale
        keys = fetch_dicts(con, load_sql("stages/price_keys"))
    warnings = list(source.warnings)

    # 1. resolve each (provider, model) once
    pairs: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for k in keys:
        pair = (k["provider"], k["model"])
        entry = pairs.setdefault(pair, {"rows": 0, "refs": set(), "keys": {}, "bucket_rows": 0})
        entry["rows"] += k["rows"]
        entry["refs"].add(k["model_ref"])
        tk = (k["batch"], k["service_tier"])
        entry["keys"][tk] = entry["keys"].get(tk, 0) + k["rows"]
        if k["grain"] == "bucket":
            entry["bucket_rows"] += k["rows"]

    resolutions, overrides = resolve_models(config, pairs, source)

    # 2. one prices row per raw key x period x long-context tier
    price_rows: list[tuple[Any, ...]] = []
    bucket_base: list[dict[str, Any]] = []
    tier_warnings: dict[str, None] = {}
    for pair, res in resolutions.items():
        if res.model_ref is None:
            continue
        entry = pairs[pair]
        failed = failed_billing_rule(config, res.gp_provider or pair[0])
        ov = overrides.get(pair)
        if res.gp_model is None:  # a private model priced only by the override
            rows = _override_only_rows(pair[0], res, entry["keys"], ov, failed, source, run_id)
            price_rows.extend(rows)
            continue
        found = _lookup(snapshot, res.gp_provider, res.lookup_ref or res.gp_model)
        assert found is not None, res
        gp_provider, model = found
        periods = periods_of(model, source.snapshot_date)
        for (batch, service_tier), _n in sorted(entry["keys"].items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
            tier = price_tier(batch, service_tier)
            for period in periods:
                rp = resolve_price(config, gp_provider, model, tier, period.at, pair[0])
                if rp.warning:
                    tier_warnings.setdefault(rp.warning)
                tiers = rp.tiers
                basis = rp.basis
                if ov is not None:
                    tiers = _apply_override(tiers, ov)
                    basis = f"{basis}; planner.toml override ({_override_text(ov)})"
                batch_ref = _batch_reference(config, gp_provider, model, period.at, pair[0])
                for t in tiers:
                    price_rows.append(_price_row(pair[0], res, batch, service_tier, tier, period, t, batch_ref,
                                                 failed, basis, rp.note, source, run_id))
        if entry["bucket_rows"] and any(len(split_tiers(model.get_prices(p.at))) > 1 for p in periods):
            bucket_base.append({"provider": pair[0], "model": pair[1], "model_ref": res.model_ref,
                                "rows": entry["bucket_rows"]})
    warnings.extend(tier_warnings)
    # raw models resolving to the same id (gpt-4o-2024-08-06, gpt-4o) share their price rows
    unique: dict[str, tuple[Any, ...]] = {}
    for row in price_rows:
        kept = unique.setdefault(row[0], row)
        if kept is not row and kept[15:20] != row[15:20]:
            warnings.append(f"{row[0]}: overrides for raw model names of the same model disagree; the first is used")
    price_rows = list(unique.values())

    # 3. write price_models and prices, then usage.model_ref where it changes
    model_rows = []
    for pair, res in resolutions.items():
        refs = pairs[pair]["refs"]
        needs = refs != {res.model_ref}
        model_rows.append((pair[0], pair[1], res.model_ref, res.gp_provider, res.gp_model, res.status, res.reason,
                           pairs[pair]["rows"], needs, run_id))
    # rewrite the two small tables only when something changed (a steady nightly run rewrites nothing)
    if _changed(con, "price_models", MODEL_COLUMNS, model_rows):
        con.execute("DELETE FROM price_models")
        _insert(con, "price_models", MODEL_COLUMNS, model_rows)
    if _changed(con, "prices", PRICE_COLUMNS, price_rows):
        con.execute("DELETE FROM prices")
        _insert(con, "prices", PRICE_COLUMNS, price_rows)
    updated = sum(1 for r in model_rows if r[8])
    if updated:
        con.execute(load_sql("stages/price_fill_model_ref"))
        con.execute(load_sql("stages/usage_keys_fill_model_ref"))
    if run_id is not None:
        con.execute("UPDATE runs SET price_snapshot_date = ? WHERE run_id = ?", [source.snapshot_date, run_id])
        _record_override_assumptions(con, config, run_id)

    unpriced = [{"provider": p[0], "model": p[1], "status": r.status, "reason": r.reason, "rows": pairs[p]["rows"]}
                for p, r in resolutions.items() if r.model_ref is None]
    for u in unpriced:
        warnings.append(f"unpriced: {u['provider'] or '?'}/{u['model'] or '?'} ({u['rows']} rows): {u['reason']}; "
                        "cost left NULL, see v_unpriced")
    for b in bucket_base:
        warnings.append(f"{b['provider']}/{b['model']}: {b['rows']} bucketed rows priced at the base tier "
                        f"(no per-request input sizes; {b['model_ref']} has long-context prices)")
    return PricingOutcome(list(resolutions.values()), len(price_rows), unpriced, warnings, bucket_base, updated)


def _is_free(model: Any) -> bool:
    return model.id.endswith(":free")


def _batch_reference(config: Config, gp_provider: Any, model: Any, at: datetime,
                     raw_provider: str | None) -> UnitPrices | None:
    rp = resolve_price(config, gp_provider, model, "batch", at, raw_provider)
    if rp.warning:
        return None
    return rp.tiers[0].prices


def _price_row(provider: str | None, res: Resolution, batch: bool | None, service_tier: str | None, tier: str,
               period: Period, t: TierPrices, batch_ref: UnitPrices | None, failed: str, basis: str,
               note: str | None, source: PriceSource, run_id: str | None) -> tuple[Any, ...]:
    p = t.prices
    if p.input_mtok is None:  # free models (':free') list no prices: genai-prices bills them $0
        p = UnitPrices(Decimal(0), p.cached_input_mtok, p.cache_write_mtok, p.output_mtok, p.request_kusd)
    assert res.model_ref is not None
    return (
        price_key_text(provider, res.model_ref, batch, service_tier, period, t), provider, res.model_ref, batch,
        service_tier, tier, res.gp_provider, res.gp_model, period.valid_from, period.valid_to, period.daily_from,
        period.daily_to, t.context_tier, t.input_above, t.input_up_to, _q(p.input_mtok), _q(p.cached_input_mtok),
        _q(p.cache_write_mtok), _q(p.output_mtok), _q(p.request_kusd),
        _q(batch_ref.input_mtok) if batch_ref else None, _q(batch_ref.output_mtok) if batch_ref else None,
        failed, basis, note, source.snapshot_date, source.source, run_id,
    )


def _override_only_rows(provider: str | None, res: Resolution, keys: Mapping[tuple[Any, Any], int],
                        ov: PriceOverride | None, failed: str, source: PriceSource,
                        run_id: str | None) -> list[tuple[Any, ...]]:
    assert ov is not None
    base = UnitPrices(ov.input_mtok, ov.cached_input_mtok, ov.cache_write_mtok, ov.output_mtok, None)
    if ov.discount_pct is not None:
        base = base.scaled((Decimal(100) - ov.discount_pct) / Decimal(100))
    period = Period(MIN_TS, MAX_TS, None, None, datetime.combine(source.snapshot_date, time(), tzinfo=UTC))
    t = TierPrices(0, -1, MAX_INPUT, base)
    override_source = f"planner.toml override: {ov.source}"
    return [_price_row(provider, res, batch, st, price_tier(batch, st), period, t, None, failed,
                       f"planner.toml override ({_override_text(ov)})", None,
                       replace(source, source=override_source), run_id)
            for (batch, st) in sorted(keys, key=lambda k: (str(k[0]), str(k[1])))]


def _changed(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> bool:
    """True unless `table` already holds exactly `rows` (run_id aside: it is the last column of both)."""
    cols = ", ".join(columns[:-1])
    current = con.execute(f"SELECT {cols} FROM {table}").fetchall()
    if len(current) != len(rows):
        return True
    return sorted(map(repr, current)) != sorted(repr(r[:-1]) for r in rows)


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert through Arrow (typed by the table's own schema): no per-row statements."""
    if not rows:
        return
    import pyarrow as pa

    schema = _arrow_schema(con, table, columns)
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    arrow_table = pa.table(data, schema=schema)
    con.register("_planner_insert", arrow_table)
    try:
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _planner_insert")
    finally:
        con.unregister("_planner_insert")


def _arrow_schema(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> Any:
    import pyarrow as pa

    types = dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]).fetchall())
    mapping = {
        "VARCHAR": pa.string(), "BOOLEAN": pa.bool_(), "BIGINT": pa.int64(), "INTEGER": pa.int32(),
        "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(), "TIME": pa.time64("us"),
        "DECIMAL(38,10)": pa.decimal128(38, 10),
    }
    return pa.schema([(c, mapping[types[c]]) for c in columns])


def _record_override_assumptions(con: duckdb.DuckDBPyConnection, config: Config, run_id: str) -> None:
    rows = [(run_id, r["key"], r["value"], r["unit"], r["source"], r["origin"]) for r in override_assumptions(config)]
    con.execute("DELETE FROM assumptions WHERE run_id = ? AND key LIKE 'pricing.override.%'", [run_id])
    if rows:
        con.executemany("INSERT INTO assumptions VALUES (?, ?, ?, ?, ?, ?)", rows)


# ---------------------------------------------------------------- the API price book

BOOK_COLUMNS = (
    "provider", "model_ref", "catalog_model", "variant", "input_mtok", "cached_input_mtok", "cache_write_mtok",
    "output_mtok", "request_kusd", "long_context_start", "long_context_input_mtok",
    "long_context_cached_input_mtok", "long_context_cache_write_mtok", "long_context_output_mtok",
    "context_window", "offer_kind", "open_weights", "basis", "price_date", "snapshot_date", "source", "run_id",
)
BOOK_VARIANTS = ("standard", "batch", "flex", "priority")


@cache
def book_offers() -> dict[str, Any]:
    text = (resources.files("planner") / "data" / "price_book.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def build_price_book(con: duckdb.DuckDBPyConnection, config: Config, run_id: str | None,
                     source: PriceSource | None = None) -> int:
    """Write `api_price_book`: models seen in usage, open-model offers, cheaper same-provider models."""
    source = source or load_prices(config)
    snapshot = source.snapshot
    at = datetime.combine(source.snapshot_date, time(12), tzinfo=UTC)
    offers = book_offers()
    open_ids: dict[tuple[str, str], str] = {}
    wanted: list[tuple[str, str, str, str | None]] = []   # (provider, model, kind, catalog)
    for catalog, entries in offers["open_models"].items():
        for e in entries:
            wanted.append((e["provider"], e["model"], "open_model", catalog))
    seen = fetch_dicts(con, "SELECT DISTINCT gp_provider, gp_model, status FROM price_models "
                            "WHERE gp_model IS NOT NULL AND model_ref IS NOT NULL ORDER BY 1, 2")
    for s in seen:
        wanted.insert(0, (s["gp_provider"], s["gp_model"], "current", None))
    for prov in sorted({s["gp_provider"] for s in seen}):
        for m in offers["same_provider"].get(prov, []):
            wanted.append((prov, m, "same_provider", None))

    resolved: list[tuple[Any, Any, str, str | None]] = []
    for prov, m, kind, catalog in wanted:
        try:
            gp_provider, model = snapshot.find_provider_model(m, None, prov, None)
        except LookupError:
            found = _lookup(snapshot, prov, m)
            if found is None:
                continue
            gp_provider, model = found
        if kind == "open_model":
            open_ids[(gp_provider.id, model.id)] = catalog or ""
        resolved.append((gp_provider, model, kind, catalog))

    rows: list[tuple[Any, ...]] = []
    done: set[tuple[str, str, str]] = set()
    for gp_provider, model, kind, catalog in resolved:
        catalog = catalog or open_ids.get((gp_provider.id, model.id))
        for variant in BOOK_VARIANTS:
            key = (gp_provider.id, model.id, variant)
            if key in done:
                continue
            rp = resolve_price(config, gp_provider, model, variant, at)
            if variant != "standard" and rp.warning:
                continue
            if variant == "priority" and not rp.basis.startswith("genai-prices variant"):
                continue
            base = rp.tiers[0].prices
            if base.input_mtok is None:
                continue
            done.add(key)
            long = rp.tiers[1] if len(rp.tiers) > 1 else None
            lp = long.prices if long else None
            rows.append((
                gp_provider.id, model.id, catalog, variant, _q(base.input_mtok), _q(base.cached_input_mtok),
                _q(base.cache_write_mtok), _q(base.output_mtok), _q(base.request_kusd),
                long.input_above if long else None, _q(lp.input_mtok) if lp else None,
                _q(lp.cached_input_mtok) if lp else None, _q(lp.cache_write_mtok) if lp else None,
                _q(lp.output_mtok) if lp else None, model.context_window, kind, catalog is not None, rp.basis,
                source.snapshot_date, source.snapshot_date, source.source, run_id,
            ))
    con.execute("DELETE FROM api_price_book")
    _insert(con, "api_price_book", BOOK_COLUMNS, rows)
    return len(rows)


# ---------------------------------------------------------------- pricing a token shape (for scoring)

@dataclass(frozen=True)
class TokenShape:
    """A segment's traffic: request count and mean tokens per request (input includes cache reads/writes)."""

    requests: Decimal | int
    input_tokens: Decimal | int
    output_tokens: Decimal | int
    cached_input_tokens: Decimal | int = 0
    cache_write_tokens: Decimal | int = 0
    p95_input_tokens: int | None = None
    batch: bool = False


def shape_cost(offer: Mapping[str, Any], shape: TokenShape) -> Decimal | None:
    """USD for `shape` on one api_price_book row. The long-context tier applies when the shape's p95 input
    (else its mean input) is above the offer's tier start: all requests then pay the tier's prices, the
    conservative reading of a segment's distribution. None when the offer has no input price."""
    long = offer.get("long_context_start")
    tier_input = shape.p95_input_tokens if shape.p95_input_tokens is not None else shape.input_tokens
    prefix = "long_context_" if long is not None and Decimal(tier_input) > Decimal(long) else ""
    inp = offer.get(f"{prefix}input_mtok")
    if inp is None:
        return None
    cached = offer.get(f"{prefix}cached_input_mtok")
    write = offer.get(f"{prefix}cache_write_mtok")
    out = offer.get(f"{prefix}output_mtok")
    req_fee = offer.get("request_kusd")
    n = Decimal(shape.requests)
    i, c, w, o = (Decimal(x) for x in (shape.input_tokens, shape.cached_input_tokens, shape.cache_write_tokens,
                                       shape.output_tokens))
    per_request = ((i - c - w) * Decimal(inp) + c * Decimal(cached if cached is not None else inp)
                   + w * Decimal(write if write is not None else inp) + o * Decimal(out or 0)) / Decimal(1_000_000)
    per_request += Decimal(req_fee or 0) / Decimal(1000)
    return (n * per_request).quantize(SCALE)


def price_shapes(con: duckdb.DuckDBPyConnection, shapes: Any, *, relation: str = "shape_input") -> Any:
    """Vectorised `shape_cost`: every shape x every api_price_book row, in one SQL statement.

    `shapes` is anything DuckDB can scan (polars/pandas/arrow frame) with columns shape_id, requests,
    input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, p95_input_tokens, batch.
    Returns an Arrow table: shape_id, the book row's key columns, cost_usd (DECIMAL), variant_fits."""
    con.register(relation, shapes)
    try:
        return con.sql(load_sql("stages/price_shapes").replace("shape_input", relation)).to_arrow_table()
    finally:
        con.unregister(relation)


# ---------------------------------------------------------------- reconciliation and totals

def reconcile(con: duckdb.DuckDBPyConnection, config: Config) -> tuple[list[dict[str, Any]], list[str]]:
    """v_reconciliation rows over the configured threshold, and one warning per flagged provider-day."""
    max_ratio = float(config.value("pricing.reconciliation.max_relative_variance"))
    min_abs = Decimal(str(config.value("pricing.reconciliation.min_abs_variance_usd")))
    limit = int(config.value("pricing.reconciliation.max_warnings"))
    rows = fetch_dicts(con, load_sql("stages/price_reconciliation"), {"max_ratio": max_ratio, "min_abs": min_abs})
    warnings = []
    days = [r for r in rows if r["grain"] == "day"]
    for r in days[:limit]:
        ratio = r["variance_ratio"]
        pct = f"{ratio:+.1%}" if ratio is not None else "n/a"
        warnings.append(
            f"reconciliation: {r['provider'] or '?'} {r['period_start']}: priced ${_money(r['priced_cost_usd'])} vs "
            f"billed ${_money(r['billed_cost_usd'])} ({pct}, from {r['billed_source']}) is over the "
            f"{max_ratio:.0%} threshold; see v_reconciliation")
    if len(days) > limit:
        warnings.append(f"reconciliation: {len(days) - limit} more provider-days over the threshold (v_reconciliation)")
    months = [r for r in rows if r["grain"] == "month"]
    if not days and months:
        for r in months[:limit]:
            warnings.append(
                f"reconciliation: {r['provider'] or '?'} month {r['period_start']:%Y-%m}: priced "
                f"${_money(r['priced_cost_usd'])} vs billed ${_money(r['billed_cost_usd'])} is over the threshold")
    return rows, warnings


def _money(v: Decimal | None) -> str:
    return "n/a" if v is None else f"{v.quantize(Decimal('0.01')):,}"


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


def reconciliation_json(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, Any]:
    """plan.json `reconciliation`: threshold, per provider-month rows, flagged provider-days. Money as strings."""
    max_ratio = float(config.value("pricing.reconciliation.max_relative_variance"))
    min_abs = Decimal(str(config.value("pricing.reconciliation.min_abs_variance_usd")))
    flagged, _ = reconcile(con, config)
    months = fetch_dicts(con, "SELECT * EXCLUDE (flagged) FROM v_reconciliation WHERE grain = 'month' "
                              "ORDER BY provider, period_start")
    return {
        "threshold": {"max_relative_variance": max_ratio, "min_abs_variance_usd": str(min_abs)},
        "months": [{k: _json_value(v) for k, v in m.items() if k != "grain"} for m in months],
        "flagged_days": [{k: _json_value(v) for k, v in r.items() if k not in ("grain", "flagged")}
                         for r in flagged if r["grain"] == "day"],
        "flagged_months": [{k: _json_value(v) for k, v in r.items() if k not in ("grain", "flagged")}
                           for r in flagged if r["grain"] == "month"],
    }


def totals_json(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The pricing part of plan.json `totals`: priced and billed cost, unpriced requests and their share."""
    row = fetch_dicts(con, load_sql("stages/price_totals"))[0]
    return {k: _json_value(v) for k, v in row.items()}


# ---------------------------------------------------------------- the stage function

def run(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, *,
        keys: list[dict[str, Any]] | None = None) -> StageResult:
    """Stage 1 of analyze: prices, price book, reconciliation. The caller wraps it in one transaction.
    `keys`: the distinct price keys when the rows live elsewhere (planner run --engine spark)."""
    source = load_prices(config)
    outcome = price_usage(con, config, run_id, source, keys)
    book_rows = build_price_book(con, config, run_id, source)
    flagged, rec_warnings = reconcile(con, config)
    warnings = outcome.warnings + rec_warnings
    return StageResult(
        name="price",
        warnings=warnings,
        findings=bool(outcome.unpriced) or bool(flagged),
        data={
            "price_snapshot_date": source.snapshot_date.isoformat(),
            "price_source": source.source,
            "price_rows": outcome.price_rows,
            "price_book_rows": book_rows,
            "unpriced_models": outcome.unpriced,
            "bucket_base_tier": outcome.bucket_base_tier,
            "reconciliation_flagged": len(flagged),
        },
    )


def describe_models(resolutions: Iterable[Resolution]) -> list[dict[str, Any]]:
    return [r.__dict__ for r in resolutions]


# ---------------------------------------------------------------- `planner prices`

@dataclass
class PriceTable:
    headers: list[str]
    rows: list[dict[str, Any]]
    notes: list[str]


def price_table(con: duckdb.DuckDBPyConnection, *, book: bool = False, model: str | None = None,
                provider: str | None = None) -> PriceTable:
    """The prices in use (or the price book) as display rows: money as decimal strings, never floats."""
    rows = fetch_dicts(con, load_sql("stages/price_book_table" if book else "stages/price_table"))
    if provider:
        want = canonical_provider(provider)
        rows = [r for r in rows if canonical_provider(r["provider"]) == want]
    if model:
        rows = [r for r in rows if model.lower() in (r["model_ref"] or "").lower()]
    out = [{k: _display(v) for k, v in r.items()} for r in rows]
    headers = list(out[0]) if out else ["provider", "model_ref"]
    notes = []
    snap = fetch_dicts(con, "SELECT DISTINCT snapshot_date, source FROM "
                            + ("api_price_book" if book else "prices") + " ORDER BY 1, 2")
    for s in snap:
        notes.append(f"prices: {s['source']}, snapshot {s['snapshot_date']}")
    if not rows:
        notes.append("prices: no prices in this database yet; run `planner analyze` to price the usage"
                     if not (model or provider) else "prices: nothing matches the filters")
    return PriceTable(headers, out, notes)


def _display(v: Any) -> Any:
    if isinstance(v, Decimal):
        text = format(v.normalize(), "f")
        return text
    if isinstance(v, date | datetime | time):
        return v.isoformat()
    return v
