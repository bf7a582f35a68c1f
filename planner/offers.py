"""API offers and what a token shape costs on them: the API side of every comparison.

Two sources, one shape:
- `api_price_book` (built by the pricing stage; docs/contracts.md) when the table exists;
- genai-prices directly (`genai_offer`, `genai_cost`) for `planner estimate`, for catalog offers and
  for models the book does not hold. `genai_cost` follows capacity.md §4 gotchas: it prices ONE
  representative request and multiplies by the request count (tiers are per request), with
  `price_context={'processing': 'batch'}` for batch traffic.

`shape_cost` is a stand-in for the pricing engineer's helper (pricing a token shape on a price-book
row); it is the only place that arithmetic lives here, so switching at merge is one function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import duckdb

MTOK = Decimal("0.000001")


@dataclass(frozen=True)
class Offer:
    """One way to buy tokens: provider × model × variant, prices in USD per million tokens."""

    provider: str
    model_ref: str
    catalog_model: str | None
    variant: str                           # standard | batch | flex | ...
    input_mtok: Decimal | None
    cached_input_mtok: Decimal | None      # None: cached tokens bill at the input price
    cache_write_mtok: Decimal | None
    output_mtok: Decimal | None
    long_context_start: int | None = None  # long-context tier: requests above this many input tokens
    long_input_mtok: Decimal | None = None
    long_cached_input_mtok: Decimal | None = None
    long_output_mtok: Decimal | None = None
    source: str = ""
    snapshot_date: str | None = None

    @property
    def priced(self) -> bool:
        return self.input_mtok is not None and self.output_mtok is not None

    @property
    def label(self) -> str:
        suffix = "" if self.variant == "standard" else f" ({self.variant})"
        return f"{self.provider}/{self.model_ref}{suffix}"

    def as_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "model_ref": self.model_ref, "catalog_model": self.catalog_model,
                "variant": self.variant, "input_mtok": _s(self.input_mtok),
                "cached_input_mtok": _s(self.cached_input_mtok), "output_mtok": _s(self.output_mtok),
                "source": self.source, "snapshot_date": self.snapshot_date}


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


@dataclass(frozen=True)
class TokenShape:
    """A month of traffic: totals, plus the p95 input that decides a long-context tier."""

    requests: Decimal
    input_tokens: Decimal          # all input, cached included
    cached_tokens: Decimal
    output_tokens: Decimal
    p95_input: float | None = None


def shape_cost(offer: Offer, shape: TokenShape) -> Decimal | None:
    """USD for `shape` on `offer`; None when the offer lacks a price. Long-context prices apply when
    the shape's p95 input is above the tier start (conservative for the alternative)."""
    if not offer.priced:
        return None
    inp, cached, out = offer.input_mtok, offer.cached_input_mtok, offer.output_mtok
    if (offer.long_context_start is not None and shape.p95_input is not None
            and shape.p95_input > offer.long_context_start):
        inp = offer.long_input_mtok or inp
        cached = offer.long_cached_input_mtok or cached
        out = offer.long_output_mtok or out
    assert inp is not None and out is not None
    cached_price = cached if cached is not None else inp
    uncached = max(shape.input_tokens - shape.cached_tokens, Decimal(0))
    return (uncached * inp + shape.cached_tokens * cached_price + shape.output_tokens * out) * MTOK


def offer_price_matrix(offers: list[Offer]) -> dict[str, np.ndarray]:
    """Float unit prices per offer (for vectorised selection; stored figures use `shape_cost`)."""
    def arr(f: Any) -> np.ndarray:
        return np.array([np.nan if f(o) is None else float(f(o)) for o in offers], dtype=float)

    inp = arr(lambda o: o.input_mtok)
    cached = arr(lambda o: o.cached_input_mtok)
    return {"input": inp, "cached": np.where(np.isnan(cached), inp, cached), "output": arr(lambda o: o.output_mtok),
            "long_start": arr(lambda o: o.long_context_start), "long_input": arr(lambda o: o.long_input_mtok),
            "long_cached": arr(lambda o: o.long_cached_input_mtok), "long_output": arr(lambda o: o.long_output_mtok)}


def shape_costs(prices: dict[str, np.ndarray], input_tokens: np.ndarray, cached_tokens: np.ndarray,
                output_tokens: np.ndarray, p95_input: np.ndarray) -> np.ndarray:
    """(segments × offers) USD, float, NaN where an offer has no price. Same rule as shape_cost."""
    i = input_tokens[:, None]
    c = cached_tokens[:, None]
    o = output_tokens[:, None]
    long = (~np.isnan(prices["long_start"]))[None, :] & (p95_input[:, None] > np.nan_to_num(prices["long_start"], nan=np.inf)[None, :])
    inp = np.where(long & ~np.isnan(prices["long_input"])[None, :], prices["long_input"][None, :], prices["input"][None, :])
    cp = np.where(long & ~np.isnan(prices["long_cached"])[None, :], prices["long_cached"][None, :], prices["cached"][None, :])
    cp = np.where(np.isnan(cp), inp, cp)
    out = np.where(long & ~np.isnan(prices["long_output"])[None, :], prices["long_output"][None, :], prices["output"][None, :])
    return np.asarray((np.maximum(i - c, 0.0) * inp + c * cp + o * out) * 1e-6)


# ---------------------------------------------------------------- genai-prices

def price_time(date_text: str) -> datetime:
    """The instant hypothetical API prices are read at (scoring.price_date, noon UTC)."""
    day = datetime.fromisoformat(str(date_text))
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


@cache
def genai_offer(provider: str, model_ref: str, variant: str, when: datetime) -> Offer | None:
    """Unit prices of one genai-prices model as an Offer (base tier only); None if it is unknown."""
    from genai_prices import Usage, calc_price

    ctx: Any = {"processing": "batch"} if variant == "batch" else ({"service_tier": variant} if variant == "flex" else None)

    def one(usage: Any) -> tuple[Decimal, str]:
        r = calc_price(usage, model_ref, provider_id=provider, genai_request_timestamp=when, price_context=ctx)
        return Decimal(str(r.total_price)), r.model.id

    try:
        inp, resolved = one(Usage(input_tokens=1_000_000))
        cached, _ = one(Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000))
        out, _ = one(Usage(output_tokens=1_000_000))
    except Exception:          # genai-prices raises LookupError/ValueError subclasses for unknown ids
        return None
    return Offer(provider=provider, model_ref=resolved, catalog_model=None, variant=variant, input_mtok=inp,
                 cached_input_mtok=cached, cache_write_mtok=None, output_mtok=out,
                 source=f"genai-prices {_genai_version()} ({provider}/{model_ref}, priced {when:%Y-%m-%d})",
                 snapshot_date=f"{when:%Y-%m-%d}")


def genai_cost(provider: str | None, model_ref: str, *, requests: float, input_tokens: float, cached_tokens: float,
               output_tokens: float, batch: bool, when: datetime) -> tuple[Decimal, str, str]:
    """USD for `requests` identical requests of the given per-request shape, via genai-prices.

    One representative request is priced and multiplied by the count (tiers are per request; a
    month of usage aggregated into one call would be priced at the long-context tier).
    Returns (cost, resolved provider id, resolved model id). Raises LookupError when unknown.
    """
    from genai_prices import Usage, calc_price

    usage = Usage(input_tokens=int(round(input_tokens)), cache_read_tokens=int(round(cached_tokens)),
                  output_tokens=int(round(output_tokens)))
    ctx: Any = {"processing": "batch"} if batch else None
    try:
        r = calc_price(usage, model_ref, provider_id=provider, genai_request_timestamp=when, price_context=ctx)
    except Exception as exc:
        raise LookupError(f"genai-prices does not know {provider + '/' if provider else ''}{model_ref} ({exc})") from None
    per_request = Decimal(str(r.total_price))
    return per_request * Decimal(str(requests)), r.provider.id, r.model.id


@cache
def _genai_version() -> str:
    from importlib.metadata import version

    return version("genai-prices")


def catalog_offers(models: list[Any], when: datetime, variants: tuple[str, ...] = ("standard", "batch")) -> list[Offer]:
    """Hosted offers of catalog models (models.toml api_offers), priced by genai-prices."""
    out: list[Offer] = []
    for m in models:
        for provider, ref in getattr(m, "api_offers", ()):
            for variant in variants:
                o = genai_offer(provider, ref, variant, when)
                if o is not None:
                    out.append(replace(o, catalog_model=m.id))
    return out


# ---------------------------------------------------------------- the price book table

_BOOK_ALIASES = {
    "long_context_start": ("long_context_start", "long_context_threshold", "long_context_tokens", "tier_start_tokens"),
    "long_input_mtok": ("long_input_mtok", "long_context_input_mtok", "tier_input_mtok"),
    "long_cached_input_mtok": ("long_cached_input_mtok", "long_context_cached_input_mtok", "tier_cached_input_mtok"),
    "long_output_mtok": ("long_output_mtok", "long_context_output_mtok", "tier_output_mtok"),
}


def read_price_book(con: duckdb.DuckDBPyConnection) -> list[Offer] | None:
    """Every row of api_price_book as an Offer; None when the pricing stage has not filled it."""
    from planner.db import fetch_dicts, load_sql

    exists = con.execute(load_sql("stages/score_price_book_exists")).fetchall()
    if not exists or not exists[0][0]:
        return None
    rows = fetch_dicts(con, load_sql("stages/score_price_book"))
    if not rows:
        return None

    def dec(v: Any) -> Decimal | None:
        return None if v is None else Decimal(str(v))

    def pick(row: dict[str, Any], name: str) -> Any:
        for alias in _BOOK_ALIASES.get(name, (name,)):
            if alias in row and row[alias] is not None:
                return row[alias]
        return None

    offers = []
    for r in rows:
        start = pick(r, "long_context_start")
        offers.append(Offer(
            provider=str(r["provider"]).lower(), model_ref=str(r["model_ref"]), catalog_model=r.get("catalog_model"),
            variant=str(r.get("variant") or "standard"), input_mtok=dec(r.get("input_mtok")),
            cached_input_mtok=dec(r.get("cached_input_mtok")), cache_write_mtok=dec(r.get("cache_write_mtok")),
            output_mtok=dec(r.get("output_mtok")), long_context_start=None if start is None else int(start),
            long_input_mtok=dec(pick(r, "long_input_mtok")), long_cached_input_mtok=dec(pick(r, "long_cached_input_mtok")),
            long_output_mtok=dec(pick(r, "long_output_mtok")), source=str(r.get("source") or "api_price_book"),
            snapshot_date=None if r.get("snapshot_date") is None else str(r.get("snapshot_date")),
        ))
    return offers
