"""focus: FinOps FOCUS 1.0-1.2 cost and usage exports (CSV or Parquet, gzip/zstd CSV too) -> `charges`.

Columns are read by their FOCUS Column IDs (FOCUS_Spec `specification/datasets/cost_and_usage/columns`):
`BilledCost`, `EffectiveCost`, `ListCost` (DECIMAL, exactly; negative credits and refunds kept),
`BillingCurrency`, `ChargePeriodStart`/`End` (UTC), `ChargeCategory`, `ChargeClass`, `ChargeDescription`,
`ServiceName`, `SkuId`, `SkuMeter`, `SkuPriceDetails`, `ConsumedQuantity`/`ConsumedUnit` (else
`PricingQuantity`/`PricingUnit`), `SubAccountId`, `RegionId`, `ResourceId`, `Tags`, and the provider as
`ProviderName` (1.0-1.2) or `ServiceProviderName` (1.3). Literal `NULL` cells are null.

An LLM token line is one whose unit or description says tokens (`ConsumedUnit`/`PricingUnit`,
`SkuMeter`, `ChargeDescription`, `SkuPriceDetails`, or a provider `x_` meter/usage/description
column) - never the service category alone. For those lines the token direction and, where the line
names one, the model are read from the same text, and the quantity is converted to tokens using its
unit (`1K Tokens` = 1,000). `billed_cost_usd` is filled only when `BillingCurrency` is USD.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from planner.db import quote_ident, quote_literal
from planner.errors import InputError
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest import _charges as charges
from planner.ingest._pages import refuse_mapping
from planner.ingest._stage import FieldSource

if TYPE_CHECKING:
    import duckdb

FORMAT = "focus"
NULL_STRINGS = ["", "NULL", "null"]
MANDATORY = ("BilledCost", "ChargePeriodStart", "BillingCurrency")

# provider names as FOCUS producers write them -> the lower-case ids genai-prices and planner use
PROVIDER_IDS: dict[str, str] = {
    "aws": "aws", "amazon web services": "aws", "amazon web services, inc.": "aws", "amazon": "aws",
    "microsoft": "azure", "microsoft azure": "azure", "azure": "azure", "microsoft corporation": "azure",
    "google": "google", "google cloud": "google", "google cloud platform": "google", "gcp": "google",
    "google llc": "google",
    "oracle": "oracle", "oracle cloud infrastructure": "oracle", "oci": "oracle",
    "openai": "openai", "anthropic": "anthropic", "ibm": "ibm", "ibm cloud": "ibm",
    "alibaba cloud": "alibaba", "alibaba": "alibaba", "databricks": "databricks", "snowflake": "snowflake",
    "mistral ai": "mistral", "mistral": "mistral", "cohere": "cohere", "huawei cloud": "huawei",
    "tencent cloud": "tencent", "digitalocean": "digitalocean",
}
# FOCUS 1.0 dimensions present in every version 1.0-1.3: a line's identity, stable across re-exports
# (InvoiceId and Tags are left out: they are added or edited after the fact)
KEY_COLUMNS = ("BillingAccountId", "SubAccountId", "ChargeCategory", "ChargeClass", "ChargeFrequency",
               "ChargeDescription", "ServiceName", "SkuId", "SkuPriceId", "ResourceId", "RegionId",
               "AvailabilityZone", "PricingCategory", "PricingUnit", "ConsumedUnit", "BillingCurrency",
               "CommitmentDiscountId")
# provider `x_` columns that describe what is metered (never user-chosen names such as resource groups)
_X_DESCRIBES = re.compile(r"meter|sku|usage|operation|description|unit|product|pricing|model|lineitem|chargetype",
                          re.IGNORECASE)
_X_EXCLUDED = re.compile(r"resource|account|tag|invoice|publisher|subscription|billingprofile", re.IGNORECASE)
_X_MODEL = re.compile(r"^x_(model|modelname|modelid|model_name|model_id)$", re.IGNORECASE)

MODEL_RE = (
    r"(?i)\b((?:gpt|chatgpt|o[1-9]|claude|llama|meta-llama|mistral|mixtral|codestral|pixtral|ministral|gemini|"
    r"gemma|titan|nova|command|deepseek|qwen|jamba|phi|text-embedding|embed|grok|dall-e|whisper|palm)"
    r"[\w.:/-]*(?: (?:\d[\w.-]*|sonnet|haiku|opus|pro|flash|lite|mini|nano|large|small|medium|instruct|"
    r"turbo|micro|premier|chat|maverick|scout|light|plus|max|reasoner|v\d[\w.-]*))*)"
)
_MODEL_TAIL = (r"(?i)[ _-]+(input|output|inp|outp|cached?|cache\w*|tokens?|batch|global|glbl|regional|regnl|"
               r"data ?zone|dz|provisioned|standard|text|audio|image|units?)\b.*$")
DIRECTIONS = (
    ("cache_read", r"(?i)cache[ _-]?read|cached[ _-]?(input|inp|prompt|tokens?)|cache[ _-]?hit"),
    ("cache_write", r"(?i)cache[ _-]?(write|creation)"),
    ("input", r"(?i)input|\binp\b|prompt"),
    ("output", r"(?i)output|\boutp\b|completion|generated"),
)
TIERS = (("batch", r"(?i)\bbatch\b"), ("priority", r"(?i)\bpriority\b"), ("flex", r"(?i)\bflex\b"))


# ---------------------------------------------------------------- sniffing

def _header(head: bytes) -> list[str]:
    line = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", errors="replace")
    return [c.strip().strip('"').strip() for c in re.split(r"[,;\t|]", line)]


def _parquet_columns(path: Path) -> list[str]:
    try:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception:  # not readable as Parquet: not ours to claim
        return []


# Column IDs only FOCUS uses; four of them make a FOCUS file, so one missing mandatory column is reported
# by the adapter ("no BilledCost column") instead of leaving the file unrecognised
DISTINCTIVE = ("BilledCost", "EffectiveCost", "ListCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd",
               "ChargeCategory", "ChargeDescription", "ProviderName", "ServiceProviderName", "BillingAccountId",
               "SubAccountId", "SkuId", "ServiceCategory")


def _is_focus(columns: list[str]) -> bool:
    lower = {c.lower() for c in columns}
    return sum(1 for c in DISTINCTIVE if c.lower() in lower) >= 4


def sniff(path: Path, head: bytes, container: str) -> bool:
    if container == "csv":
        return _is_focus(_header(head))
    if container == "parquet":
        return _is_focus(_parquet_columns(path))
    return False


# ---------------------------------------------------------------- reading

def reader_sql(file: SourceFile) -> str:
    path = quote_literal(str(file.path))
    if file.container == "parquet":
        return (f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
                f"FROM read_parquet({path}, file_row_number = true)) AS src")
    if file.container != "csv":
        raise InputError(file.label, "FOCUS data must be CSV or Parquet")
    comp = f", compression = {quote_literal(file.compression)}" if file.compression else ""
    nulls = "[" + ", ".join(quote_literal(s) for s in NULL_STRINGS) + "]"
    # the delimiter is read off the header line: left to guess, DuckDB reads a file cut inside a quoted
    # field as one wide column instead of failing
    delim = quote_literal(_delimiter(file.head))
    return (f"(SELECT * EXCLUDE (ordinality), ordinality AS _row FROM read_csv({path}, header = true, "
            f"delim = {delim}, quote = '\"', escape = '\"', all_varchar = true, nullstr = {nulls}, "
            f"max_line_size = 16777216{comp}) WITH ORDINALITY) AS src")


def _delimiter(head: bytes) -> str:
    line = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", errors="replace")
    return max((",", ";", "\t", "|"), key=line.count)


def _text(name: str, sql_type: str) -> str:
    col = f"src.{quote_ident(name)}"
    t = sql_type.upper()
    if t == "VARCHAR":
        return f"nullif(trim({col}), '')"
    if t == "JSON":
        return f"json_extract_string({col}, '$')"
    if t.startswith(("STRUCT", "MAP", "UNION")) or t.endswith("]"):
        return f"CAST(to_json({col}) AS VARCHAR)"
    return f"CAST({col} AS VARCHAR)"


class _Columns:
    """The file's columns by FOCUS Column ID, matched exactly first, then ignoring case."""

    def __init__(self, described: list[tuple[str, str]]) -> None:
        self.types = dict(described)
        self.by_lower = {name.lower(): name for name, _ in described}

    def name(self, column_id: str) -> str | None:
        if column_id in self.types:
            return column_id
        return self.by_lower.get(column_id.lower())

    def text(self, column_id: str) -> str:
        name = self.name(column_id)
        return _text(name, self.types[name]) if name else "CAST(NULL AS VARCHAR)"

    def source(self, column_id: str) -> FieldSource:
        name = self.name(column_id)
        if name is None:
            return FieldSource(sql="CAST(NULL AS VARCHAR)", type="VARCHAR", column=column_id)
        return FieldSource(sql=f"src.{quote_ident(name)}", type=self.types[name], column=name)

    def x_columns(self, pattern: re.Pattern[str]) -> list[str]:
        return [n for n in self.types if n.lower().startswith("x_") and pattern.search(n[2:])
                and not _X_EXCLUDED.search(n[2:])]


def _provider_id(name: str) -> str:
    x = f"lower(trim({name}))"
    cases = " ".join(f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in PROVIDER_IDS.items())
    fallback = f"nullif(trim(regexp_replace({x}, '[^a-z0-9]+', '-', 'g'), '-'), '')"
    return f"CASE {x} {cases} ELSE {fallback} END"


def _first_match(texts: list[str], patterns: tuple[tuple[str, str], ...]) -> str:
    """The name of the first pattern matching the first text (in order) that matches any."""
    per_text = [
        "CASE " + " ".join(f"WHEN regexp_matches({t}, {quote_literal(p)}) THEN {quote_literal(n)}"
                           for n, p in patterns) + " END"
        for t in texts
    ]
    return per_text[0] if len(per_text) == 1 else f"coalesce({', '.join(per_text)})"


def _model_from_text(t: str) -> str:
    found = f"regexp_extract({t}, {quote_literal(MODEL_RE)}, 1)"
    return f"nullif(trim(regexp_replace({found}, {quote_literal(_MODEL_TAIL)}, '')), '')"


def _model_from_details(details: str) -> str:
    """A `model`-like key of SkuPriceDetails (FOCUS-defined or `x_`), when the producer writes one."""
    entries = f"map_entries(json_transform({details}, '\"MAP(VARCHAR, JSON)\"'))"
    picked = (f"list_filter({entries}, lambda e: regexp_full_match(lower(e.key), "
              f"'(x_)?model(_?(name|id))?'))[1].value")
    return f"CASE WHEN json_valid({details}) THEN nullif(json_extract_string({picked}, '$'), '') END"


def _tags_sql(cols: _Columns) -> str | None:
    name = cols.name("Tags")
    if name is None:
        return None
    col = f"src.{quote_ident(name)}"
    t = cols.types[name].upper()
    if t.startswith("MAP("):
        return (f"map_from_entries(list_transform(map_entries({col}), "
                f"lambda e: struct_pack(k := CAST(e.key AS VARCHAR), v := CAST(e.value AS VARCHAR))))")
    text = _text(name, cols.types[name])
    as_map = f"json_transform({text}, '\"MAP(VARCHAR, JSON)\"')"
    return (f"CASE WHEN json_valid({text}) THEN map_from_entries(list_transform(map_entries({as_map}), "
            f"lambda e: struct_pack(k := e.key, v := json_extract_string(e.value, '$')))) END")


def build(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> charges.ChargeSource:
    relation = reader_sql(file)
    try:
        described = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
                     if r[0] != "_row"]
    except Exception as exc:
        import duckdb

        if isinstance(exc, duckdb.Error):
            first = str(exc).strip().splitlines()[0]
            raise InputError(file.label, f"cannot parse as CSV (truncated, or a quote left open?): {first[:200]}"
                             if file.container == "csv" else f"cannot parse: {first[:200]}") from None
        raise
    cols = _Columns(described)
    missing = [m for m in MANDATORY if cols.name(m) is None]
    if missing:
        raise InputError(file.label, f"not a FOCUS cost and usage file: no {', '.join(missing)} column",
                         hint="FOCUS columns are named by their Column IDs (BilledCost, ChargePeriodStart, ...)")
    provider_col = "ServiceProviderName" if cols.name("ServiceProviderName") else "ProviderName"
    provider_name = cols.text(provider_col)

    # what the line says it meters: the SKU meter first, then provider meter/usage columns, then the
    # description; each text is computed once (`_t<i>`), then each reading of it once (`_says_tokens`, ...)
    x_meter = cols.x_columns(_X_DESCRIBES)
    texts = {"SkuMeter": cols.text("SkuMeter"), **{x: cols.text(x) for x in x_meter},
             "ChargeDescription": cols.text("ChargeDescription"), "SkuPriceDetails": cols.text("SkuPriceDetails"),
             "ConsumedUnit": cols.text("ConsumedUnit"), "PricingUnit": cols.text("PricingUnit")}
    texts = {k: v for k, v in texts.items() if v != "CAST(NULL AS VARCHAR)"}
    alias = {k: f"_t{i}" for i, k in enumerate(texts)}
    describing = [alias[k] for k in texts if k not in ("ConsumedUnit", "PricingUnit")] or ["CAST(NULL AS VARCHAR)"]
    token_texts = [alias[k] for k in texts] or ["CAST(NULL AS VARCHAR)"]
    joined = "concat_ws(' | ', " + ", ".join(token_texts) + ")"
    says_tokens = f"regexp_matches({joined}, '(?i)token')"
    model_candidates = []
    if "SkuPriceDetails" in alias:
        model_candidates.append(_model_from_details(alias["SkuPriceDetails"]))
    model_candidates += [f"nullif({cols.text(x)}, '')" for x in cols.types if _X_MODEL.match(x)]
    # readable names first (SkuMeter, ChargeDescription), then provider usage codes (`USE1-Llama3-3-70B-...`)
    named = [alias[k] for k in ("SkuMeter", "ChargeDescription", *x_meter) if k in alias]
    model_candidates += [_model_from_text(t) for t in named]
    model = (model_candidates[0] if len(model_candidates) == 1 else f"coalesce({', '.join(model_candidates)})") \
        if model_candidates else "CAST(NULL AS VARCHAR)"
    inner = relation.removesuffix(" AS src")
    layer1 = ", ".join(f"{expr} AS {alias[k]}" for k, expr in texts.items()) or "NULL AS _t"
    layer2 = (f"{says_tokens} AS _says_tokens, {_first_match(describing, DIRECTIONS)} AS _direction, "
              f"{model} AS _model, {_first_match(describing, TIERS)} AS _tier")
    relation = f"(SELECT *, {layer2} FROM (SELECT *, {layer1} FROM {inner} AS src) AS src) AS src"

    quantity = cols.text("ConsumedQuantity")
    pricing_quantity = cols.text("PricingQuantity")
    fields: dict[str, FieldSource] = {
        "period_start": cols.source("ChargePeriodStart"),
        "period_end": cols.source("ChargePeriodEnd"),
        "provider": FieldSource(sql=_provider_id(provider_name), type="VARCHAR", column=provider_col),
        "provider_name": FieldSource(sql=provider_name, type="VARCHAR", column=provider_col),
        "service": cols.source("ServiceName"),
        "sku": cols.source("SkuId"),
        "charge_category": cols.source("ChargeCategory"),
        "charge_class": cols.source("ChargeClass"),
        "description": cols.source("ChargeDescription"),
        "project": cols.source("SubAccountId"),
        "sub_account_id": cols.source("SubAccountId"),
        "sub_account_name": cols.source("SubAccountName"),
        "region": cols.source("RegionId"),
        "resource_id": cols.source("ResourceId"),
        "billed_cost": cols.source("BilledCost"),
        "effective_cost": cols.source("EffectiveCost"),
        "list_cost": cols.source("ListCost"),
        "currency": cols.source("BillingCurrency"),
        # a token line without ConsumedQuantity still has its tokens in PricingQuantity (in PricingUnit);
        # other lines keep ConsumedQuantity as the file has it (NULL for purchases, taxes, credits)
        "source_quantity": FieldSource(sql=f"CASE WHEN {quantity} IS NOT NULL THEN {quantity} "
                                           f"WHEN src._says_tokens THEN {pricing_quantity} END",
                                       type="VARCHAR", column=cols.name("ConsumedQuantity") or "PricingQuantity"),
        "source_unit": FieldSource(sql=f"CASE WHEN {quantity} IS NOT NULL THEN {cols.text('ConsumedUnit')} "
                                       f"WHEN src._says_tokens THEN {cols.text('PricingUnit')} END", type="VARCHAR",
                                   column=cols.name("ConsumedUnit") or "PricingUnit"),
        "is_llm_tokens": FieldSource(sql="coalesce(src._says_tokens, false)", type="BOOLEAN",
                                     column="SkuMeter/ChargeDescription/units"),
        "token_type": FieldSource(sql="CASE WHEN src._says_tokens THEN src._direction END", type="VARCHAR",
                                  column="SkuMeter/ChargeDescription"),
        "model": FieldSource(sql="src._model", type="VARCHAR", column="SkuMeter/ChargeDescription"),
        "service_tier": FieldSource(sql="src._tier", type="VARCHAR", column="SkuMeter/ChargeDescription"),
    }
    key = [f"upper({cols.text('BillingCurrency')})" if c == "BillingCurrency" else cols.text(c) for c in KEY_COLUMNS]
    key = [provider_name, *key]
    record = [(name, _text(name, t)) for name, t in described]
    source = charges.ChargeSource(relation=relation, format=FORMAT, fields=fields, key=key, tags=_tags_sql(cols),
                                  record=record, occurrences=True)
    if cols.name("Tags") and not cols.types[cols.name("Tags") or ""].upper().startswith("MAP("):
        source.notes.append((f"_rec.{quote_ident(cols.name('Tags') or '')} IS NOT NULL AND tags IS NULL",
                             "Tags is not a JSON object: line loaded without tags"))
    return source


def _near_duplicate_tag_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT list(DISTINCT k ORDER BY k) FROM (SELECT unnest(map_keys(tags)) AS k FROM _charges_stage "
        "WHERE _err_reason IS NULL AND tags IS NOT NULL) GROUP BY lower(trim(k)) HAVING count(DISTINCT k) > 1 "
        "ORDER BY lower(trim(k))"
    ).fetchall()
    return [f"tag keys differ only in case or surrounding spaces: {', '.join(repr(k) for k in r[0])} "
            f"(kept as written)" for r in rows]


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    refuse_mapping(options, FORMAT, allow_sets=False)
    opts = dataclasses.replace(options, ts_unit=None, ts_origin=None)
    source = build(con, file, opts)
    charges.stage(con, source, file.source_id, opts)
    tag_warnings = _near_duplicate_tag_keys(con)
    counts = charges.commit(con, file.label, options.run_id, currency_label="BillingCurrency")
    return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded, rows_rejected=counts.rows_rejected,
                      rows_duplicate=counts.rows_duplicate, first_error=counts.first_error,
                      warnings=counts.warnings + tag_warnings)
