"""planner.toml → validated settings; every default assumption with its unit and source.

Two kinds of keys live in planner.toml:
- assumptions: scalar tunables (GPU prices, labour, latency targets, ...). Their defaults, units and
  sources are in `planner/data/defaults/*.toml`; a user value overrides the default and is recorded
  with origin `config` (or `flag`, `scenario`, `calibration`).
- structured sections: `[[sources]]`, `[[workloads.rules]]`, `[sensitivity]`, `[pricing]`,
  `[candidates]`, `[scenarios.NAME]`, validated by the pydantic models below.
Unknown keys are errors that name the nearest valid key.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.errors import ConfigError

DEFAULT_CONFIG = "planner.toml"


# ---------------------------------------------------------------- assumptions

@dataclass(frozen=True)
class Assumption:
    key: str
    value: Any
    unit: str
    source: str
    origin: str = "default"

    def as_row(self) -> dict[str, str]:
        return {"key": self.key, "value": _render(self.value), "unit": self.unit, "source": self.source,
                "origin": self.origin}


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and "value" in value and "unit" in value and "source" in value:
            out[path] = value
        elif isinstance(value, dict):
            out.update(_flatten(value, f"{path}."))
        else:
            raise ConfigError(f"planner/data/defaults: {path}: a default needs value, unit and source")
    return out


@cache
def default_assumptions() -> dict[str, Assumption]:
    """Every built-in default, keyed by its dotted name."""
    out: dict[str, Assumption] = {}
    folder = resources.files("planner") / "data" / "defaults"
    for f in sorted(folder.iterdir(), key=lambda f: f.name):
        if not f.name.endswith(".toml"):
            continue
        for key, spec in _flatten(tomllib.loads(f.read_text(encoding="utf-8"))).items():
            if key in out:
                raise ConfigError(f"planner/data/defaults/{f.name}: {key}: defined twice")
            out[key] = Assumption(key, spec["value"], spec["unit"], spec["source"])
    return out


# ---------------------------------------------------------------- structured sections

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceMapping(_Strict):
    """`[[sources]]`: how the nightly job reads files matching `glob` (relative to the export folder)."""

    glob: str
    format: str = "auto"
    map: dict[str, str] = Field(default_factory=dict)
    set: dict[str, str] = Field(default_factory=dict)
    ts_unit: Literal["s", "ms", "us", "ns"] | None = None
    ts_origin: str | None = None
    tz: str | None = None
    allow_any_ts: bool = False


class WorkloadRule(_Strict):
    """`[[workloads.rules]]`: a SQL predicate over usage columns and tags → a workload name."""

    name: str
    where: str
    kind: str | None = None
    mode: Literal["interactive", "batch"] | None = None


class Workloads(_Strict):
    rules: list[WorkloadRule] = Field(default_factory=list)


SensitivityClass = Literal["public", "internal", "confidential", "regulated"]


class SensitivityRule(_Strict):
    """`[[sensitivity.rules]]`: declared classes win over detection."""

    where: str
    sensitivity: SensitivityClass
    allow_third_party: bool = False


class Sensitivity(_Strict):
    confidential: list[str] = Field(default_factory=lambda: ["EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "PERSON",
                                                             "LOCATION"])
    regulated: list[str] = Field(default_factory=lambda: ["CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_DRIVER_LICENSE",
                                                          "US_PASSPORT", "MEDICAL_LICENSE", "US_BANK_NUMBER",
                                                          "API_KEY"])
    default: SensitivityClass | None = None
    clean: SensitivityClass = "internal"
    rules: list[SensitivityRule] = Field(default_factory=list)
    presidio: bool = False


class PriceOverride(_Strict):
    """`[[pricing.overrides]]`: negotiated discounts or private deployments."""

    provider: str
    model: str
    input_mtok: Decimal | None = None
    cached_input_mtok: Decimal | None = None
    cache_write_mtok: Decimal | None = None
    output_mtok: Decimal | None = None
    discount_pct: Decimal | None = None
    source: str = "planner.toml"


class Pricing(_Strict):
    azure_deployments: dict[str, str] = Field(default_factory=dict)
    model_aliases: dict[str, str] = Field(default_factory=dict)
    overrides: list[PriceOverride] = Field(default_factory=list)
    price_file: str | None = None


class Candidates(_Strict):
    models: list[str] | None = None
    gpus: list[str] | None = None
    open_model_providers: list[str] | None = None


class Scenario(_Strict):
    """`[scenarios.NAME]`: assumption overrides plus quick what-ifs."""

    description: str | None = None
    assumptions: dict[str, Any] = Field(default_factory=dict)
    volume: float | None = None
    price_change: dict[str, str] = Field(default_factory=dict)

    @field_validator("volume")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("volume must be > 0")
        return v


class Engine(_Strict):
    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: str | None = None


_STRUCTURED: dict[str, Any] = {
    "sources": list[SourceMapping],
    "workloads": Workloads,
    "sensitivity": Sensitivity,
    "pricing": Pricing,
    "candidates": Candidates,
    "scenarios": dict[str, Scenario],
    "engine": Engine,
}


class _Structured(_Strict):
    sources: list[SourceMapping] = Field(default_factory=list)
    workloads: Workloads = Field(default_factory=Workloads)
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    pricing: Pricing = Field(default_factory=Pricing)
    candidates: Candidates = Field(default_factory=Candidates)
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    engine: Engine = Field(default_factory=Engine)


# ---------------------------------------------------------------- the config object

@dataclass(frozen=True)
class Config:
    path: Path | None
    assumptions: dict[str, Assumption]
    sources: list[SourceMapping] = field(default_factory=list)
    workloads: Workloads = field(default_factory=Workloads)
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    pricing: Pricing = field(default_factory=Pricing)
    candidates: Candidates = field(default_factory=Candidates)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    engine: Engine = field(default_factory=Engine)
    raw_text: str = ""

    def value(self, key: str) -> Any:
        try:
            return self.assumptions[key].value
        except KeyError:
            raise ConfigError(f"unknown assumption {key}{_suggest(key, self.assumptions)}") from None

    def num(self, key: str) -> float:
        return float(self.value(key))

    def dec(self, key: str) -> Decimal:
        return Decimal(str(self.value(key)))

    def with_assumptions(self, overrides: dict[str, Any], origin: str) -> Config:
        """A copy with some assumptions replaced (CLI --set-assumption, scenarios, calibration)."""
        merged = dict(self.assumptions)
        for key, value in overrides.items():
            if key not in merged:
                raise ConfigError(f"{origin}: {key}: unknown assumption{_suggest(key, merged)}")
            merged[key] = replace(merged[key], value=_coerce(key, value, merged[key].value, origin), origin=origin)
        return replace(self, assumptions=merged)

    @property
    def hash(self) -> str:
        """Identity of everything that shapes results: assumptions and structured sections."""
        body = json.dumps(
            {"assumptions": {k: _render(a.value) for k, a in sorted(self.assumptions.items())},
             "structured": {name: _dump(getattr(self, name)) for name in _STRUCTURED}},
            sort_keys=True, default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def assumption_rows(self) -> list[dict[str, str]]:
        return [a.as_row() for _, a in sorted(self.assumptions.items())]


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _coerce(key: str, value: Any, default: Any, where: str) -> Any:
    """A user value must have the default's type (numbers interchangeable)."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
    elif isinstance(default, int | float) and not isinstance(default, bool):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                pass
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list):
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                value = json.loads(value)      # as `assumptions` stores it (a scenario re-run from the table)
            except json.JSONDecodeError:
                pass
        if isinstance(value, list):
            return value
    elif isinstance(default, dict):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        if isinstance(value, dict):
            return value
    else:
        return value
    raise ConfigError(f"{where}: {key}: expected {type(default).__name__}, got {value!r}")


def _split(data: dict[str, Any], defaults: dict[str, Assumption], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate structured sections from assumption overrides, rejecting unknown keys."""
    structured: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    prefixes = {".".join(k.split(".")[:i]) for k in defaults for i in range(1, k.count(".") + 2)}
    valid_all = prefixes | set(_STRUCTURED)

    def valid_like(path: str) -> list[str]:
        depth = path.count(".")
        return sorted(v for v in valid_all if v.count(".") == depth)

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            path = f"{prefix}{key}"
            if not prefix and key in _STRUCTURED:
                structured[key] = value
            elif path in defaults:
                overrides[path] = value
            elif isinstance(value, dict) and any(k.startswith(path + ".") for k in defaults):
                walk(value, path + ".")
            else:
                raise ConfigError(f"{where}: {path}: unknown key{_suggest(path, valid_like(path))}")

    # sections that mix structured and assumption keys (e.g. [sensitivity] has both)
    for name in list(data):
        if name in _STRUCTURED and isinstance(data[name], dict):
            model = _STRUCTURED[name]
            fields = getattr(model, "model_fields", None)
            if fields is not None:
                extra = {k: v for k, v in data[name].items() if k not in fields}
                if extra:
                    data = dict(data)
                    data[name] = {k: v for k, v in data[name].items() if k in fields}
                    walk(extra, f"{name}.")
    walk(data, "")
    return structured, overrides


def _validation_message(exc: ValidationError, where: str) -> str:
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        parent = err["loc"][:-1]
        model: Any = _Structured
        for part in parent:
            if isinstance(part, int):
                continue
            ann = getattr(model, "model_fields", {}).get(str(part))
            if ann is None:
                model = None
                break
            model = ann.annotation
            for inner in getattr(model, "__args__", ()):
                if hasattr(inner, "model_fields"):
                    model = inner
        names = list(getattr(model, "model_fields", {}) or {})
        hint = _suggest(str(err["loc"][-1]), names)
        return f"{where}: {loc}: unknown key{hint}"
    return f"{where}: {loc}: {err['msg']}"


def load_config(path: Path | str | None = None, *, required: bool = False) -> Config:
    """Read planner.toml (the given path, else ./planner.toml when present, else built-in defaults)."""
    defaults = default_assumptions()
    if path is None:
        candidate = Path(DEFAULT_CONFIG)
        path = candidate if candidate.is_file() else None
    elif not Path(path).is_file():
        raise ConfigError(f"{path}: config file not found")
    if path is None:
        return Config(path=None, assumptions=dict(defaults))
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    structured, overrides = _split(data, defaults, where)
    try:
        parsed = _Structured.model_validate(structured)
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, where)) from None
    cfg = Config(path=path, assumptions=dict(defaults), raw_text=text,
                 **{name: getattr(parsed, name) for name in _STRUCTURED})
    cfg = cfg.with_assumptions(overrides, "config") if overrides else cfg
    for name, scenario in cfg.scenarios.items():
        for key, value in scenario.assumptions.items():
            if key not in defaults:
                raise ConfigError(f"{where}: scenarios.{name}.assumptions.{key}: unknown assumption{_suggest(key, defaults)}")
            _coerce(key, value, defaults[key].value, f"{where}: scenarios.{name}")
    return cfg
