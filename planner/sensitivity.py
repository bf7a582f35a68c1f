"""PII detection and redaction as DuckDB SQL expressions (vectorized; no Python loop over rows).

`pii_types_sql(expr)` yields a VARCHAR[] of Presidio entity names found in a text expression,
`redact_sql(expr)` the text with every detected span replaced by `<ENTITY_TYPE>`. Validators (Luhn,
IBAN mod-97, SSN area rules) run in SQL too. Values found are never written anywhere: only the
type names (in `usage.pii_types`) and redacted text (in `prompt_samples`).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.db import quote_literal


@dataclass(frozen=True)
class Detector:
    entity: str
    pattern: str                 # RE2 syntax (DuckDB); matched case-insensitively where flagged
    validator: str | None = None  # SQL lambda body over `m` (the match) returning boolean
    flags: str = ""


_DIGITS = "regexp_replace(m, '[^0-9]', '', 'g')"
# Luhn over the digit string d: double every second digit from the right.
_LUHN = (
    f"list_sum(list_transform(range(length({_DIGITS})), lambda i: "
    f"CASE WHEN i % 2 = 1 THEN (CAST(substr({_DIGITS}, length({_DIGITS}) - i, 1) AS INTEGER) * 2) "
    f"- CASE WHEN CAST(substr({_DIGITS}, length({_DIGITS}) - i, 1) AS INTEGER) * 2 > 9 THEN 9 ELSE 0 END "
    f"ELSE CAST(substr({_DIGITS}, length({_DIGITS}) - i, 1) AS INTEGER) END)) % 10 = 0"
)

DETECTORS: tuple[Detector, ...] = (
    Detector("EMAIL_ADDRESS", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    Detector("CREDIT_CARD", r"\b(?:\d[ -]?){11,18}\d\b",
             validator=f"length({_DIGITS}) BETWEEN 12 AND 19 AND {_LUHN}"),
    Detector("US_SSN", r"\b\d{3}-\d{2}-\d{4}\b",
             validator="substr(m, 1, 3) NOT IN ('000', '666') AND substr(m, 1, 1) <> '9' "
                       "AND substr(m, 5, 2) <> '00' AND substr(m, 8, 4) <> '0000'"),
    Detector("IBAN_CODE", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
    Detector("IP_ADDRESS", r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b"),
    Detector("PHONE_NUMBER", r"(?:\+\d{1,3}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"),
    Detector("API_KEY", r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}"
                        r"|xox[baprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b"),
)


def _matches_sql(det: Detector, expr: str) -> str:
    found = f"regexp_extract_all({expr}, {quote_literal(det.pattern)})"
    if det.validator:
        found = f"list_filter({found}, lambda m: {det.validator})"
    return found


def pii_types_sql(expr: str, detectors: tuple[Detector, ...] = DETECTORS) -> str:
    """VARCHAR[] of entity types present in `expr`; NULL when `expr` is NULL; [] when clean."""
    parts = ", ".join(
        f"CASE WHEN len({_matches_sql(d, expr)}) > 0 THEN {quote_literal(d.entity)} END" for d in detectors
    )
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE list_filter([{parts}], lambda t: t IS NOT NULL) END"


def redact_sql(expr: str, detectors: tuple[Detector, ...] = DETECTORS) -> str:
    """`expr` with every span that any detector's pattern matches replaced by `<ENTITY>`.

    Redaction is deliberately broader than detection (no validators): a false redaction costs a
    word in a sample, a missed one leaks a value.
    """
    out = expr
    for det in detectors:
        out = f"regexp_replace({out}, {quote_literal(det.pattern)}, {quote_literal('<' + det.entity + '>')}, 'g')"
    return out
