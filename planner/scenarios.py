"""Scenarios: "what if" runs of `planner analyze` without editing files.

A scenario is a set of assumption overrides, from `[scenarios.NAME]` in planner.toml (`assumptions`,
`volume`, `price_change`) and/or quick flags (`--set-assumption KEY=VALUE`, `--volume X`,
`--price-change PROVIDER:±N%`). Everything it changes lands on real assumption keys:

- `assumptions` and `--set-assumption` set the key (validated against the defaults: type and name);
- `volume` / `--volume` multiply `scoring.volume_multiplier` (segments' requests, tokens, peaks and so
  the fleets, and today's API bill, all scale together);
- `price_change` / `--price-change` multiply `scoring.provider_price_multipliers[provider]` (that provider's
  API prices: today's bill, its API offers and hybrid overflow to it).

So the run's `assumptions` rows alone (with their origin `scenario` or `flag`) are enough to re-run it:
`config_from_run` rebuilds the configuration from them. The run is recorded with `runs.scenario` set and
keeps its own rows in every per-run table; the defaults ("the latest plan") skip scenario runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.config import _suggest
from planner.errors import UsageError

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

VOLUME_KEY = "scoring.volume_multiplier"
PRICE_KEY = "scoring.provider_price_multipliers"
ADHOC = "adhoc"                   # runs.scenario of a run with flags only
_CHANGE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:\s*([+-]?\d+(?:\.\d+)?)\s*%\s*$")


@dataclass
class Applied:
    """A configuration with a scenario applied, the name to record and what was changed (for people)."""

    config: Config
    name: str | None
    changes: list[str] = field(default_factory=list)


def parse_price_change(text: str) -> tuple[str, float]:
    """`openai:-20%` -> ("openai", 0.8). The provider id is lower-case, as genai-prices names it."""
    m = _CHANGE.match(text)
    if not m:
        raise UsageError(f"--price-change {text!r}: expected PROVIDER:±N% (e.g. openai:-20%)")
    factor = 1.0 + float(m.group(2)) / 100.0
    if factor <= 0:
        raise UsageError(f"--price-change {text!r}: a change of {m.group(2)}% leaves no price; use more than -100%")
    return m.group(1).lower(), factor


def parse_set(text: str) -> tuple[str, str]:
    """`gpus.h100.price_per_hour=1.9` -> (key, "1.9")."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set-assumption {text!r}: expected KEY=VALUE (e.g. gpus.h100.price_per_hour=1.9)",
                         hint="`planner assumptions` lists every key")
    return key.strip(), value.strip()


def _volume(cfg: Config, factor: float, what: str) -> dict[str, Any]:
    if not factor > 0:
        raise UsageError(f"{what}: volume must be > 0, got {factor!r}")
    return {VOLUME_KEY: float(cfg.value(VOLUME_KEY)) * float(factor)}


def _prices(cfg: Config, changes: list[tuple[str, float]]) -> dict[str, Any]:
    mults = {str(k).lower(): float(v) for k, v in dict(cfg.value(PRICE_KEY)).items()}
    for provider, factor in changes:
        mults[provider] = round(mults.get(provider, 1.0) * factor, 12)
    return {PRICE_KEY: dict(sorted(mults.items()))}


def apply(config: Config, *, name: str | None = None, set_assumptions: list[str] | None = None,
          volume: float | None = None, price_changes: list[str] | None = None) -> Applied:
    """The configuration for a scenario run: the named scenario first (origin `scenario`), then the flags
    (origin `flag`), each step validated. Without any of them: the configuration as it is, name None."""
    cfg = config
    changes: list[str] = []
    if name is not None:
        sc = config.scenarios.get(name)
        if sc is None:
            known = ", ".join(sorted(config.scenarios)) or "none"
            raise UsageError(f"--scenario {name!r}: no [scenarios.{name}] in the configuration{_suggest(name, config.scenarios)}",
                             hint=f"scenarios defined: {known}")
        if sc.assumptions:
            cfg = cfg.with_assumptions(dict(sc.assumptions), "scenario")
            changes += [f"{k} = {v}" for k, v in sorted(sc.assumptions.items())]
        if sc.volume is not None:
            cfg = cfg.with_assumptions(_volume(cfg, sc.volume, f"scenarios.{name}.volume"), "scenario")
            changes.append(f"volume x{sc.volume:g}")
        if sc.price_change:
            parsed = [parse_price_change(f"{p}:{str(v).strip()}") for p, v in sorted(sc.price_change.items())]
            cfg = cfg.with_assumptions(_prices(cfg, parsed), "scenario")
            changes += [f"{p} API prices {v}" for p, v in sorted(sc.price_change.items())]
    flagged = False
    if set_assumptions:
        pairs = [parse_set(t) for t in set_assumptions]
        cfg = cfg.with_assumptions(dict(pairs), "flag")
        changes += [f"{k} = {v}" for k, v in pairs]
        flagged = True
    if volume is not None:
        cfg = cfg.with_assumptions(_volume(cfg, volume, "--volume"), "flag")
        changes.append(f"volume x{volume:g}")
        flagged = True
    if price_changes:
        cfg = cfg.with_assumptions(_prices(cfg, [parse_price_change(t) for t in price_changes]), "flag")
        changes += [f"{t.split(':', 1)[0].strip().lower()} API prices {t.split(':', 1)[1].strip()}" for t in price_changes]
        flagged = True
    if name is None and not flagged:
        return Applied(config, None, [])
    if flagged:
        from planner.catalog import load_catalog
        from planner.score import validate_config  # the scoring ranges (e.g. a price must be > 0)

        validate_config(cfg, load_catalog())
    label = name if name is not None else ADHOC
    if name is not None and flagged:
        label = f"{name}+flags"
    return Applied(cfg, label, changes)


def config_from_run(con: duckdb.DuckDBPyConnection, run_id: str, base: Config) -> Config:
    """The configuration a run used, rebuilt from its `assumptions` rows alone (every key whose origin is
    not `default` is applied with its recorded origin). Re-running analyze with it reproduces the run."""
    rows = con.execute("SELECT key, value, origin FROM assumptions WHERE run_id = ? ORDER BY key", [run_id]).fetchall()
    if not rows:
        raise UsageError(f"run {run_id!r} has no recorded assumptions")
    cfg = base
    by_origin: dict[str, dict[str, Any]] = {}
    for key, value, origin in rows:
        if key in base.assumptions and str(base.assumptions[key].as_row()["value"]) != value:
            by_origin.setdefault(origin or "scenario", {})[key] = value
    for origin, overrides in sorted(by_origin.items()):
        cfg = cfg.with_assumptions(overrides, origin)
    return cfg


def scenario_of(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    row = con.execute("SELECT scenario FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return row[0] if row else None
