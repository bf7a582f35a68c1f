"""PII detection, redaction and the sensitivity stage, all as DuckDB SQL (vectorized; no Python loop over rows).

`pii_types_sql(expr)` yields a VARCHAR[] of Presidio entity names found in a text expression,
`redact_sql(expr)` the text with every candidate span replaced by `<ENTITY_TYPE>`. Each detector is
a regular expression (RE2, the subset Spark's Java regex also reads) plus an optional validator in
SQL (Luhn, IBAN mod-97, SSN area/group rules, phone shapes, IP octets). A cheap `regexp_matches`
runs first on every row; extraction and validation only run on the few rows that match, so the cost
stays close to one pass of the patterns themselves.

Values found are never written anywhere: only type names (`usage.pii_types`) and redacted text
(`prompt_samples`). `run()` is the detect stage: `usage.sensitivity` from declared rules, then the
source's own label, then detection and the policy in planner.toml.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.db import load_sql, quote_literal
from planner.errors import ConfigError
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config


@dataclass(frozen=True)
class Detector:
    entity: str
    pattern: str                   # RE2 syntax; inline (?i) for case-insensitive parts
    validator: str | None = None   # SQL boolean over `m` (the extracted value)
    group: int = 0                 # capture group holding the value (0: the whole match)
    replacement: str | None = None  # for redaction; default `<ENTITY>` (group patterns keep their context)
    redact: str | None = None      # pattern used for redaction when it differs from the detection one


_D = "regexp_replace(m, '[^0-9]', '', 'g')"          # the digits of the match


def _let(value: str, name: str, body: str) -> str:
    """`body` with `name` bound to `value`, evaluated once per row (a one-element list and a lambda)."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


# Luhn over a digit string d: from the right, every second digit doubled (minus 9 above 9); sum % 10 = 0
def _luhn(d: str) -> str:
    return (f"list_sum(list_transform(string_split(reverse({d}), ''), lambda ch, i: "
            f"CASE WHEN i % 2 = 0 THEN CAST(ch AS INTEGER) * 2 - CASE WHEN ch >= '5' THEN 9 ELSE 0 END "
            f"ELSE CAST(ch AS INTEGER) END)) % 10 = 0")


# card: the number C after an optional prefix word; 12-19 digits, one kind of separator at most, a real
# network's first digit, not one repeated digit, Luhn; the word before it must not name an id (SKU, EAN, ...)
_C = "regexp_extract(m, '[0-9][0-9 -]*[0-9]$')"
_CARD_NOT_AFTER = (
    "'sku', 'ean', 'upc', 'gtin', 'isbn', 'order', 'orders', 'invoice', 'inv', 'tracking', 'ref', 'reference', "
    "'uuid', 'serial', 'sn', 'account', 'acct', 'imei', 'iccid', 'part', 'item', 'barcode', 'ticket', 'booking', "
    "'transaction', 'txn', 'confirmation', 'policy', 'member'"
)
# the words before a number (up to two): the last one decides, or the one before a bare "number"/"no."/"#"
_WORDS_BEFORE = ("list_transform(regexp_extract_all(regexp_extract(m, '^[^0-9+(]*'), '[A-Za-z#]+'), "
                 "lambda w: lower(w))")
_BRIDGE = "'number', 'no', 'num', 'nr', '#', 'id', 'code'"


def _not_after(words: str) -> str:
    return _let(_WORDS_BEFORE, "ws",
                f"NOT coalesce(list_extract(ws, -1) IN ({words}) OR (list_extract(ws, -1) IN ({_BRIDGE}) "
                f"AND list_extract(ws, -2) IN ({words})), false)")


_CARD_OK = (
    _not_after(_CARD_NOT_AFTER) + " AND "
    + _let(_C, "c", _let("regexp_replace(c, '[^0-9]', '', 'g')", "cd",
                         "length(cd) BETWEEN 12 AND 19 "
                         "AND length(list_distinct(string_split(regexp_replace(c, '[0-9]', '', 'g'), ''))) <= 1 "
                         "AND substr(cd, 1, 1) IN ('2', '3', '4', '5', '6') "
                         "AND length(list_distinct(string_split(cd, ''))) > 1 AND " + _luhn("cd")))
)

# IBAN lengths by country (ISO 13616 registry, SWIFT IBAN Registry release 2024)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN_MAP = "MAP {" + ", ".join(f"'{k}': {v}" for k, v in sorted(IBAN_LENGTHS.items())) + "}"
_IBAN_S = "upper(regexp_replace(m, '[^A-Za-z0-9]', '', 'g'))"
# mod-97 over the rearranged string (BBAN + country + check digits), letters as 10..35, folded digit by digit
_IBAN_OK = (
    f"{_IBAN_MAP}[substr({_IBAN_S}, 1, 2)] = length({_IBAN_S}) AND list_reduce(list_transform("
    f"string_split(substr({_IBAN_S}, 5) || substr({_IBAN_S}, 1, 4), ''), lambda c: "
    f"CASE WHEN c BETWEEN '0' AND '9' THEN ascii(c) - 48 ELSE ascii(c) - 55 END), "
    f"lambda acc, v: (acc * CASE WHEN v >= 10 THEN 100 ELSE 10 END + v) % 97) = 1"
)
# SSN: area not 000, 666 or 9xx; group not 00; serial not 0000; one kind of separator; not one repeated digit
_SSN_OK = _let(_D, "d",
                "length(d) = 9 AND length(list_distinct(string_split(regexp_replace(m, '[0-9]', '', 'g'), ''))) <= 1 "
                "AND substr(d, 1, 3) NOT IN ('000', '666') AND substr(d, 1, 1) <> '9' "
                "AND substr(d, 4, 2) <> '00' AND substr(d, 6, 4) <> '0000' "
                "AND length(list_distinct(string_split(d, ''))) > 1")
# phones: the number N is what follows the prefix word. Digits by shape: +CC 8-15, 00CC 10-17, trunk 0 10-12,
# bracketed area 9-12, bare 9-11. Not a date, not an IP. The word before it must not name an id
# (order, invoice, case, ...): phone-shaped ids are the classic false positive.
_PN = ("regexp_extract(regexp_replace(m, '(?i) ?(x|ext\\.?) ?[0-9]{1,5}$', ''), "
       "'[+(]?[0-9][0-9 ().\\-/]*[0-9]')")
_PHONE_NOT_AFTER = (
    "'order', 'orders', 'invoice', 'inv', 'ticket', 'case', 'shipment', 'batch', 'total', 'ref', 'reference', 'id', "
    "'sku', 'isbn', 'ean', 'upc', 'part', 'serial', 'sn', 'tracking', 'build', 'version', 'ver', 'v', 'release', "
    "'account', 'acct', 'po', 'nr', 'item', 'code', 'zip', 'postcode', 'room', 'units', 'amount', 'price', 'qty', "
    "'page', 'pages', 'row', 'line', 'step', 'employee', 'uuid', 'hash', 'commit', 'model', 'sum', 'count', "
    "'ssn', 'iban', 'card', 'license', 'licence', 'dl', 'nhs', 'routing', 'aba', 'swift', 'bic', "
    "'sort', 'tax', 'tin', 'ein', 'vat', 'passport', 'medicare', 'policy', 'claim', 'member', 'mrn', 'isin', 'lot', "
    "'imei', 'pin', 'otp', 'ticket', 'ref', 'booking', 'reservation', 'confirmation', 'transaction', 'txn'"
)
_PHONE_OK = (
    _not_after(_PHONE_NOT_AFTER)
    + " AND " + _let(_PN, "n", _let("regexp_replace(n, '[^0-9]', '', 'g')", "nd",
                          "NOT regexp_matches(n, '^(\\d{4}[./-]\\d{1,2}[./-]\\d{1,2}|\\d{1,2}[./-]\\d{1,2}[./-]\\d{2,4})([ T]|$)') "
                          "AND NOT regexp_matches(n, '^\\d{1,3}(\\.\\d{1,3}){3}$') "
                          "AND CASE WHEN substr(n, 1, 1) = '+' THEN length(nd) BETWEEN 8 AND 15 "
                          "WHEN substr(n, 1, 2) = '00' THEN length(nd) BETWEEN 10 AND 17 "
                          "WHEN substr(n, 1, 1) = '0' THEN length(nd) BETWEEN 10 AND 12 "
                          "WHEN substr(n, 1, 1) = '(' THEN length(nd) BETWEEN 9 AND 12 "
                          "ELSE length(nd) BETWEEN 9 AND 11 END"))
)
_IP4 = "regexp_extract(m, '[0-9][0-9.]*$')"
_IPV4_OK = (
    "NOT regexp_matches(m, '(?i)[a-z]') AND "
    f"length(string_split({_IP4}, '.')) = 4 AND list_bool_and(list_transform(string_split({_IP4}, '.'), lambda o: "
    "length(o) BETWEEN 1 AND 3 AND CAST(o AS INTEGER) <= 255 AND (o = '0' OR substr(o, 1, 1) <> '0')))"
)
_IPV6_OK = (
    "length(string_split(m, '::')) <= 2 AND list_bool_and(list_transform(list_filter(string_split(replace(m, '::', ':'), ':'), "
    "lambda g: g <> ''), lambda g: regexp_matches(g, '^[0-9A-Fa-f]{1,4}$') OR regexp_matches(g, '^\\d{1,3}(\\.\\d{1,3}){3}$'))) "
    "AND CASE WHEN strpos(m, '::') > 0 "
    "THEN length(list_filter(string_split(replace(m, '::', ':'), ':'), lambda g: g <> '')) BETWEEN 2 AND 7 "
    "ELSE length(string_split(m, ':')) = 8 END "
    "AND regexp_matches(m, '[0-9]') AND NOT regexp_matches(m, '^[0-9]{1,2}(:[0-9]{2})+$')"
)

_PHONE_CTX = (r"\b(?:phone|tel|telephone|mobile|mob|cell|cellphone|fax|call|text|sms|whatsapp|ph|"
              r"tél|téléphone|telefon|telefono|teléfono|móvil|movil|handy|portable|numéro|rufnummer|contact|"
              r"(?:my|his|her|our|their|your) (?:number|no\.?)|reach (?:me|us))"
              r"\b[^0-9+\n]{0,20}")

DETECTORS: tuple[Detector, ...] = (
    Detector("EMAIL_ADDRESS",
             r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
             r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"),
    Detector("CREDIT_CARD", r"(?i)(?:^|[^0-9a-z\-_./]|[^0-9a-z\-_./] )(?:[a-z#]+\.?:? {0,2}){0,2}\b(?:\d[ -]?){11,18}\d\b",
             validator=_CARD_OK, redact=r"\b(?:\d[ -]?){11,18}\d\b"),
    Detector("US_SSN", r"\b\d{3}[- .]\d{2}[- .]\d{4}\b", validator=_SSN_OK),
    Detector("US_SSN", r"(?i)(\b(?:ssn|social security(?: number| no\.?| #)?|soc\.? sec\.?(?: no\.?)?)\W{1,4}"
                       r"(?:is\W{1,3}|number\W{1,3}|no\.?\W{1,3})?)(\d{9}|\d{3}[- .]\d{2}[- .]\d{4})\b",
             validator=_SSN_OK, group=2, replacement="\\1<US_SSN>"),
    Detector("IBAN_CODE", r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b", validator=_IBAN_OK),
    Detector("IP_ADDRESS", r"(?i)(?:^|[^0-9a-z.])(?:(?:version|ver|release|build|firmware|rev|v)\.?\s*)?"
                           r"\d{1,3}(?:\.\d{1,3}){3}(?:\.\d+)*\b", validator=_IPV4_OK,
             redact=r"\b\d{1,3}(?:\.\d{1,3}){3}\b"),
    Detector("IP_ADDRESS", r"(^|[^0-9A-Za-z:])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?)",
             validator=_IPV6_OK, group=2,
             redact=r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|\b(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){0,6}"
                    r"|::(?:[0-9A-Fa-f]{1,4}:?){1,7}"),
    # international (+CC / 00CC), NANP (3-3-4 with separators), trunk-0 national, bracketed area codes,
    # Spanish/Italian 9-10 digit groups, Indian and Chinese mobiles; see _PHONE_OK for the guard and prefix word
    Detector("PHONE_NUMBER",
             r"(?i)(?:^|[^0-9a-z.\-/+ ]|[^0-9.\-/+ ] |[.\-/+] )(?:[a-z#]+\.?:? {0,2}){0,2}(?:"
             r"(?:\+|\b00)\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6}(?: ?(?:x|ext\.?) ?\d{1,5})?"
             r"|(?:\b1[ .-]?)?(?:\(\d{3}\)[ .-]?|\b\d{3}[ .-])\d{3}[ .-]\d{4}(?: ?(?:x|ext\.?) ?\d{1,5})?"
             r"|\b0\d{1,4}(?:[ /.-]?\d{2,4}){2,5}"
             r"|\(0?\d{1,4}\)[ ]?\d{2,5}(?:[ -]?\d{2,4}){1,3}"
             r"|\b[6-9]\d{2}(?:[ .]\d{2}){3}|\b[6-9]\d{2}[ .]\d{3}[ .]\d{3}"
             r"|\b[6-9]\d{4}[ -]\d{5}|\b1[3-9]\d[ -]\d{4}[ -]\d{4})\b",
             validator=_PHONE_OK,
             redact=r"(?:\+|\b00)\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6}\b"
                    r"|(?:\b1[ .-]?)?(?:\(\d{3}\)[ .-]?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b"
                    r"|\b0\d{1,4}(?:[ /.-]?\d{2,4}){2,5}\b|\(0?\d{1,4}\)[ ]?\d{2,5}(?:[ -]?\d{2,4}){1,3}\b"
                    r"|\b[6-9]\d{2}(?:[ .]\d{2}){3}\b|\b[6-9]\d{2}[ .]\d{3}[ .]\d{3}\b"),
    # after a phone word: any 8-15 digits, grouped or not
    Detector("PHONE_NUMBER", "(?i)(" + _PHONE_CTX + r")(\+?\(?\d[\d .\-()/]{6,20}\d)\b",
             validator="length(regexp_replace(m, '[^0-9]', '', 'g')) BETWEEN 8 AND 15 "
                       "AND NOT regexp_matches(m, '^\\d{4}[./-]\\d{1,2}[./-]\\d{1,2}$|^\\d{1,2}[./-]\\d{1,2}[./-]\\d{2,4}$') "
                       # an SSN or a card after "contact" is not a phone number
                       "AND NOT regexp_matches(m, '^\\d{3}[- .]\\d{2}[- .]\\d{4}$|^\\d{4}[ -]\\d{4}[ -]\\d{4}|^\\d{4}[ -]\\d{6}[ -]\\d{5}$')",
             group=2, replacement="\\1<PHONE_NUMBER>"),
    Detector("US_DRIVER_LICENSE",
             r"(?i)(\b(?:driver'?s?'?|driving|drivers)\W{0,2}licen[cs]e|\bDL\b|\bD\.L\.|\bDLN\b)"
             r"((?:\W{1,3}(?:number|num|no|nr|id|is|was|reads|of|my|the|state|#)\b\.?){0,4}\W{1,4})"
             r"([A-Za-z0-9][A-Za-z0-9-]{3,19})\b",
             validator="length(regexp_replace(m, '[^0-9]', '', 'g')) >= 3 "
                       "AND length(regexp_replace(m, '[^0-9A-Za-z]', '', 'g')) BETWEEN 5 AND 16 "
                       "AND NOT regexp_matches(m, '^\\d{4}-\\d{2}-\\d{2}$')",
             group=3, replacement="\\1\\2<US_DRIVER_LICENSE>"),
    Detector("API_KEY",
             r"\b(?:sk-(?:proj-|ant-(?:api\d\d-)?|live-|test-)?[A-Za-z0-9_-]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
             r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|xox[baprs]-[A-Za-z0-9-]{10,}"
             r"|AIza[0-9A-Za-z_-]{35}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|hf_[A-Za-z0-9]{30,}"
             r"|glpat-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
             r"|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    Detector("API_KEY",
             r"(?i)(\b(?:api[_ -]?key|apikey|secret(?:[_ -]?key)?|access[_ -]?key|auth[_ -]?token|access[_ -]?token|"
             r"bearer|password|passwd|pwd|client[_ -]?secret)\b[\"']?\s*(?:[:=]|is)\s*[\"']?)([A-Za-z0-9_\-/+=.!@#$%^&*]{8,})",
             validator="regexp_matches(m, '[0-9]') AND regexp_matches(m, '[A-Za-z]') "
                       "AND lower(m) NOT IN ('password', 'required', 'optional')",
             group=2, replacement="\\1<API_KEY>"),
)

# the high-sensitivity set the quality targets are measured on
HIGH_SENSITIVITY = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS",
                    "US_DRIVER_LICENSE")
ENTITY_ORDER = tuple(dict.fromkeys(d.entity for d in DETECTORS))


# numeric entities are looked for in the text with IBANs blanked out (their digit groups look like phones)
_MASKED = {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "US_DRIVER_LICENSE"}
# redaction order: the most specific shapes first, so that labels name what was there
_REDACT_ORDER = ("EMAIL_ADDRESS", "API_KEY", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "PHONE_NUMBER", "CREDIT_CARD",
                 "US_DRIVER_LICENSE")


def _masked_sql(expr: str) -> str:
    iban = next(d for d in DETECTORS if d.entity == "IBAN_CODE").pattern
    return (f"CASE WHEN regexp_matches({expr}, {quote_literal(iban)}) "
            f"THEN regexp_replace({expr}, {quote_literal(iban)}, ' ', 'g') ELSE {expr} END")


def _matches_sql(det: Detector, expr: str) -> str:
    if det.group:
        found = f"regexp_extract_all({expr}, {quote_literal(det.pattern)}, {det.group})"
    else:
        found = f"regexp_extract_all({expr}, {quote_literal(det.pattern)})"
    if det.validator:
        found = f"list_filter({found}, lambda m: {det.validator})"
    return found


def _found_sql(det: Detector, expr: str) -> str:
    """TRUE when the detector finds a validated value. The plain match runs first on every row."""
    pre = f"regexp_matches({expr}, {quote_literal(det.pattern)})"
    if not det.validator and not det.group:
        return pre
    return f"({pre} AND len({_matches_sql(det, expr)}) > 0)"


def pii_types_sql(expr: str, detectors: tuple[Detector, ...] = DETECTORS) -> str:
    """VARCHAR[] of entity types present in `expr` (each once, in a fixed order); NULL when `expr` is NULL."""
    by_entity: dict[str, list[Detector]] = {}
    for d in detectors:
        by_entity.setdefault(d.entity, []).append(d)
    masked = _masked_sql(expr)
    parts = ", ".join(
        f"CASE WHEN {' OR '.join(_found_sql(d, masked if d.entity in _MASKED else expr) for d in dets)} "
        f"THEN {quote_literal(entity)} END"
        for entity, dets in by_entity.items()
    )
    # one pass of every pattern at once (a single RE2 automaton) settles the many rows that hold nothing
    return (f"CASE WHEN {expr} IS NULL THEN NULL "
            f"WHEN NOT regexp_matches({expr}, {quote_literal(union_pattern(detectors))}) THEN []::VARCHAR[] "
            f"ELSE list_filter([{parts}], lambda t: t IS NOT NULL) END")


def union_pattern(detectors: tuple[Detector, ...] = DETECTORS) -> str:
    """Every detector's pattern as one alternation: it matches a text iff one of them does."""
    def scoped(p: str) -> str:
        return "(?i:" + p[4:] + ")" if p.startswith("(?i)") else "(?:" + p + ")"
    return "|".join(scoped(d.pattern) for d in detectors)


def redact_sql(expr: str, detectors: tuple[Detector, ...] = DETECTORS, *, numbers: bool = True) -> str:
    """`expr` with every span that any detector's pattern matches replaced by `<ENTITY>`.

    Redaction is deliberately broader than detection (no validators): a false redaction costs a
    word in a sample, a missed one leaks a value. Context-anchored patterns keep their context words.
    """
    out = expr
    rank = {e: i for i, e in enumerate(_REDACT_ORDER)}
    for det in sorted(detectors, key=lambda d: rank.get(d.entity, len(rank))):
        repl = det.replacement or f"<{det.entity}>"
        pattern = det.redact or det.pattern
        if det.redact:
            repl = f"<{det.entity}>"
        out = f"regexp_replace({out}, {quote_literal(pattern)}, {quote_literal(repl)}, 'g')"
    if not numbers:  # rejected records and error messages: their counts and epochs are what to fix
        return out
    # long digit runs left over (account numbers, ids in odd shapes) go too: samples never need them
    return f"regexp_replace({out}, '\\d[\\d -]{{7,}}\\d', '<NUMBER>', 'g')"


# ---------------------------------------------------------------- the detect stage

CLASSES = ("public", "internal", "confidential", "regulated")


def policy_hash(config: Config) -> str:
    """Identity of everything that decides a row's class: rules, entity lists, defaults."""
    body = json.dumps(config.sensitivity.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def check_predicate(con: duckdb.DuckDBPyConnection, where: str, label: str, relation: str = "usage") -> str:
    """Rule SQL is the owner's own input; it must still be one boolean expression over usage columns."""
    text = where.strip()
    if not text:
        raise ConfigError(f"{label}: empty predicate")
    try:
        statements = con.extract_statements(f"SELECT 1 FROM {relation} WHERE ({text})")
    except Exception as exc:
        raise ConfigError(f"{label}: cannot parse {text!r}: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise ConfigError(f"{label}: one SQL expression expected, got {text!r}")
    try:
        con.execute(f"SELECT 1 FROM {relation} WHERE ({text}) LIMIT 0")
    except Exception as exc:
        raise ConfigError(f"{label}: invalid predicate {text!r}: {_first_line(exc)}",
                          hint="a rule's `where` is a SQL condition over usage columns, e.g. "
                               "project = 'legal' or tags['team'] = 'hr'") from None
    return text


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _list_sql(values: list[str]) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]::VARCHAR[]" if values else "[]::VARCHAR[]"


def class_sql(config: Config, con: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    """SQL expressions (over usage columns) for the class, its source and allow_third_party."""
    pol = config.sensitivity
    rules = [(check_predicate(con, r.where, f"sensitivity.rules[{i}].where"), r) for i, r in enumerate(pol.rules)]
    rule_cls = " ".join(f"WHEN ({w}) THEN {quote_literal(r.sensitivity)}" for w, r in rules)
    rule_tp = " ".join(f"WHEN ({w}) THEN {'true' if r.allow_third_party else 'false'}" for w, r in rules)
    regulated = _list_sql([e.upper() for e in pol.regulated])
    confidential = _list_sql([e.upper() for e in pol.confidential])
    detected = (
        f"CASE WHEN pii_types IS NULL THEN NULL "
        f"WHEN len(list_intersect(pii_types, {regulated})) > 0 THEN 'regulated' "
        f"WHEN len(list_intersect(pii_types, {confidential})) > 0 THEN 'confidential' "
        f"ELSE {quote_literal(pol.clean)} END"
    )
    default = quote_literal(pol.default) if pol.default else "NULL"
    cls = (f"CASE {rule_cls + ' ' if rules else ''}WHEN sensitivity_declared IS NOT NULL THEN sensitivity_declared "
           f"WHEN pii_types IS NOT NULL THEN {detected} ELSE {default} END")
    src = (f"CASE {' '.join(f'WHEN ({w}) THEN ' + quote_literal('rule') for w, _ in rules)}"
           f"{' ' if rules else ''}WHEN sensitivity_declared IS NOT NULL THEN 'declared' "
           f"WHEN pii_types IS NOT NULL THEN 'detected' WHEN {default} IS NOT NULL THEN 'default' END")
    tp = f"CASE {rule_tp} END" if rules else "CAST(NULL AS BOOLEAN)"
    return cls, src, tp


def run(con: duckdb.DuckDBPyConnection, config: Config, run_id: str) -> StageResult:
    """Set `usage.sensitivity` for the rows that need it: new rows, or every row when the policy changed."""
    result = StageResult(name="detect")
    digest = policy_hash(config)
    # a class the source itself stated is kept aside the first time a row is seen, so that it survives
    # later policy changes (rules still win over it)
    con.execute(load_sql("stages/sensitivity_declared"))
    cls, src, tp = class_sql(config, con)
    sql = load_sql("stages/sensitivity_apply")
    sql = sql.replace("__CLASS__", cls).replace("__SOURCE__", src).replace("__THIRD_PARTY__", tp)
    row = con.execute(sql, {"policy": digest}).fetchone()
    changed = int(row[0]) if row and row[0] is not None else 0
    summary = con.execute(load_sql("stages/sensitivity_summary")).fetchall()
    result.data = {"rows_classified": changed, "policy_hash": digest,
                   "by_class": {str(k): int(v) for k, v in summary}}
    unknown = result.data["by_class"].get("None", 0)
    if unknown:
        result.warnings.append(
            f"{unknown} usage rows have no sensitivity class (no prompt text and no rule); "
            "add [[sensitivity.rules]] or set sensitivity.default in planner.toml")
    return result


# ---------------------------------------------------------------- prompt samples (at ingest)

def keep_samples(con: duckdb.DuckDBPyConnection, k: int, config: Config | None = None, since: int = -1) -> int:
    """Merge the staged file's bottom-k prompts per workload/fingerprint into `prompt_samples`, redacted.

    Bottom-k by the prompt's sha256 over distinct prompts is mergeable: the kept set after any number
    of files is the k smallest hashes of everything seen, whatever the order or split of the files.
    """
    if k <= 0:
        return 0
    con.execute(load_sql("stages/ingest_samples_candidates"), {"k": int(k), "since": int(since)})
    sql = load_sql("stages/ingest_samples_insert").replace("__REDACTED__", redact_sql("t._prompt"))
    row = con.execute(sql).fetchone()
    added = int(row[0]) if row and row[0] is not None else 0
    con.execute(load_sql("stages/ingest_samples_trim"), {"k": int(k)})
    if added and config is not None and config.sensitivity.presidio:
        presidio_redact_samples(con, config)
    con.execute("DROP TABLE IF EXISTS _sample_candidates")
    return added


# ---------------------------------------------------------------- Presidio (optional)

def _presidio_analyzer(config: Config) -> Any:
    try:
        from presidio_analyzer import AnalyzerEngine  # type: ignore[import-not-found]
    except ImportError:
        raise ConfigError("sensitivity.presidio = true but presidio-analyzer is not installed",
                          hint="pip install 'planner[presidio]' and a spaCy model, or set presidio = false") from None
    try:
        return AnalyzerEngine(supported_languages=[str(config.value("sensitivity.presidio_language"))])
    except Exception as exc:  # no spaCy model installed, typically
        raise ConfigError(f"sensitivity.presidio: Presidio cannot start: {_first_line(exc)}",
                          hint="install the spaCy model Presidio uses (e.g. en_core_web_lg), or set presidio = false"
                          ) from None


_ANALYZER: dict[str, Any] = {}


def analyzer(config: Config) -> Any:
    """One Presidio engine per process (loading its NER model takes seconds)."""
    key = str(config.value("sensitivity.presidio_language"))
    if key not in _ANALYZER:
        _ANALYZER[key] = _presidio_analyzer(config)
    return _ANALYZER[key]


def _presidio_find(engine: Any, texts: list[str], config: Config) -> list[list[Any]]:
    entities = [str(e) for e in config.value("sensitivity.presidio_entities")]
    language = str(config.value("sensitivity.presidio_language"))
    threshold = float(config.value("sensitivity.presidio_min_score"))
    return [[r for r in engine.analyze(text=t, entities=entities, language=language) if r.score >= threshold]
            for t in texts]


def presidio_scan(con: duckdb.DuckDBPyConnection, config: Config, since: int = -1, batch: int = 2000) -> int:
    """Add Presidio's entity types (names, places, ...) to the `pii_types` of the rows just inserted
    (rowid > `since`), reading their text through the `_stage` view. Optional and slow: NER runs row by
    row in Python, which is why it is off by default; the text never leaves the process."""
    engine = analyzer(config)
    con.execute("CREATE OR REPLACE TEMP TABLE _presidio_found (source_row BIGINT, types VARCHAR[])")
    found, last = 0, -1
    # keyset pages: the connection's result is replaced by every insert below
    while rows := con.execute("SELECT source_row, _prompt FROM _stage WHERE _prompt IS NOT NULL AND source_row > ? "
                              "AND _err_reason IS NULL ORDER BY source_row LIMIT ?", [last, batch]).fetchall():
        last = rows[-1][0]
        results = _presidio_find(engine, [r[1] for r in rows], config)
        out = [(r[0], sorted({x.entity_type for x in res})) for r, res in zip(rows, results, strict=True) if res]
        if out:
            con.executemany("INSERT INTO _presidio_found VALUES (?, ?)", out)
            found += len(out)
    if found:
        con.execute(
            "UPDATE usage SET pii_types = list_concat(usage.pii_types, list_filter(f.types, "
            "lambda t: NOT list_contains(usage.pii_types, t))) FROM _presidio_found AS f "
            "WHERE usage.rowid > ? AND f.source_row = usage.source_row AND usage.pii_types IS NOT NULL", [since])
    con.execute("DROP TABLE IF EXISTS _presidio_found")
    return found


def presidio_redact_samples(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Replace what Presidio finds in the newly kept samples (already regex-redacted) by `<TYPE>`."""
    engine = analyzer(config)
    rows = con.execute(
        "SELECT p.sample_key, p.sample_hash, p.redacted_text FROM prompt_samples AS p "
        "WHERE EXISTS (SELECT 1 FROM _sample_candidates AS c WHERE c.sample_key = p.sample_key "
        "AND c.prompt_sha256 = p.sample_hash)").fetchall()
    results = _presidio_find(engine, [r[2] for r in rows], config)
    updates = []
    for (key, digest, text), found in zip(rows, results, strict=True):
        if not found:
            continue
        for r in sorted(found, key=lambda x: x.start, reverse=True):
            text = text[:r.start] + f"<{r.entity_type}>" + text[r.end:]
        updates.append((text, key, digest))
    if updates:
        con.executemany("UPDATE prompt_samples SET redacted_text = ? WHERE sample_key = ? AND sample_hash = ?",
                        updates)
