"""The segment stage: workload x sensitivity x token shape, with the shape statistics scoring needs.

A row's workload comes from, in order: planner.toml's `[[workloads.rules]]` (first match wins), a
declared workload (the `workload` column, or a `workload` tag), a prompt template seen at least
`segments.template_min_requests` times, else project x api key x model. The rules live in the SQL
macro `planner_workload`, regenerated here each run, so `usage_enriched.segment_id` and the stage
agree by construction.

Statistics are kept per segment x UTC day in mergeable form (sums, log-bucket token histograms,
minute-count histograms, first/last arrival and the longest in-day gap), and the nightly run rebuilds
only the days that new rows (or newly promoted templates) touch; a change of config, sensitivity
policy or prices rebuilds everything. `segments` then merges the days: a few thousand rows.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from planner import sensitivity
from planner.db import fetch_dicts, load_sql, quote_literal
from planner.errors import ConfigError
from planner.stages import StageResult

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

SEGMENT_VERSION = "2"  # bump when the rollup SQL changes meaning: forces one full rebuild

KINDS = ("classification", "extraction", "summarization", "rag_qa", "chat", "code", "agentic", "vision",
         "long_document", "embedding", "reasoning")

# the columns a workload rule may name (every usage column, plus the two usage_enriched adds)
RULE_COLUMNS = (
    "event_id", "source_id", "source_row", "grain", "ts", "ts_end", "provider", "model", "model_ref", "project",
    "api_key_id", "user_id", "session_id", "request_id", "workload", "tags", "requests", "input_tokens",
    "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "batch", "service_tier",
    "status", "latency_ms", "ttft_ms", "billed_cost_usd", "prompt_chars", "prompt_sha256", "prompt_fingerprint",
    "pii_types", "sensitivity", "kind", "context_band", "mode",
)

# what a rule can see: exactly the macro's parameters
_RULE_RELATION = f"(SELECT {', '.join(RULE_COLUMNS)} FROM usage_enriched) AS u"
_DECLARED = "coalesce(workload, nullif(tags['workload'], ''))"
_NULL_V = "CAST(NULL AS VARCHAR)"
_NULL_I = "CAST(NULL AS INTEGER)"


def _struct(name: str, source: str, basis: str, kind: str, mode: str, rule: str) -> str:
    return (f"{{'name': {name}, 'source': {source}, 'basis': {basis}, 'kind': {kind}, 'mode': {mode}, "
            f"'rule': {rule}}}")


def workload_macro_sql(con: duckdb.DuckDBPyConnection, config: Config) -> str:
    """`CREATE OR REPLACE MACRO planner_workload(...)` applying the config's rules, then the fallbacks."""
    whens: list[str] = []
    for i, rule in enumerate(config.workloads.rules):
        label = f"workloads.rules[{i}]"
        if not rule.name.strip():
            raise ConfigError(f"{label}.name: empty workload name")
        if rule.kind is not None and rule.kind not in KINDS:
            raise ConfigError(f"{label}.kind: unknown kind {rule.kind!r}", hint="kinds: " + ", ".join(KINDS))
        where = sensitivity.check_predicate(con, rule.where, f"{label}.where", relation=_RULE_RELATION)
        mode = f"coalesce({quote_literal(rule.mode)}, mode)" if rule.mode else "mode"
        kind = quote_literal(rule.kind) if rule.kind else _NULL_V
        whens.append(f"WHEN ({where}) THEN " + _struct(quote_literal(rule.name.strip()), "'rule'", _NULL_V, kind,
                                                       mode, str(i)))
    whens.append(f"WHEN {_DECLARED} IS NOT NULL THEN " + _struct(_DECLARED, "'declared'", _NULL_V, _NULL_V, "mode",
                                                                  _NULL_I))
    whens.append(
        "WHEN prompt_fingerprint IN (SELECT t.template_fingerprint FROM segment_fingerprints AS t "
        "WHERE t.template_promoted) THEN "
        + _struct("'tpl-' || left(prompt_fingerprint, 10)", "'fingerprint'", "'template'", _NULL_V, "mode", _NULL_I))
    # callers are named after aggregation (planner_caller_name): no string is built per row here
    default = _struct(_NULL_V, "'fingerprint'", "'caller'", _NULL_V, "mode", _NULL_I)
    body = "CASE " + " ".join(whens) + f" ELSE {default} END"
    return f"CREATE OR REPLACE MACRO planner_workload({', '.join(RULE_COLUMNS)}) AS {body}"


def _prices_signature(con: duckdb.DuckDBPyConnection) -> str:
    """Segment costs come from usage_enriched.cost_usd: a new price table means rebuilt rollups."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'prices'").fetchone()
    if not exists or not exists[0]:
        return "none"
    row = con.execute("SELECT md5(coalesce(string_agg(CAST(p AS VARCHAR), '|' ORDER BY CAST(p AS VARCHAR)), '')) "
                      "FROM prices AS p").fetchone()
    return str(row[0]) if row else "none"


def config_hash(con: duckdb.DuckDBPyConnection, config: Config) -> str:
    """Everything that shapes the rollups: rules, the sensitivity policy, segments.* assumptions, prices."""
    body = json.dumps({
        "version": SEGMENT_VERSION,
        "workloads": config.workloads.model_dump(mode="json"),
        "sensitivity": sensitivity.policy_hash(config),
        "assumptions": {k: a.value for k, a in sorted(config.assumptions.items()) if k.startswith("segments.")},
        "prices": _prices_signature(con),
    }, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM segment_state WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> int:
    row = con.execute(sql, params).fetchone() if params is not None else con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _flag(sql: str, name: str, value: bool) -> str:
    """Booleans that pick a query plan (not data) are spliced in, so the SQL also works in temp views."""
    return sql.replace(f"${name}", "TRUE" if value else "FALSE")


def run(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, *, rebuild: bool = False) -> StageResult:
    """Rebuild the rollups of the days that need it, then write this run's `segments` rows.

    Everything is rebuilt when `rebuild` is set, when the segmentation config changed, or when a
    source already in the rollups is gone (rows deleted by hand): days cannot be un-added."""
    result = StageResult(name="segment")
    con.execute(load_sql("stages/segment_macros"))
    con.execute(workload_macro_sql(con, config))
    digest = config_hash(con, config)
    gone = _count(con, "SELECT count(*) FROM segment_sources WHERE source_id NOT IN "
                       "(SELECT source_id FROM sources WHERE status = 'loaded')")
    full = rebuild or gone > 0 or _state(con, "config_hash") != digest
    if full:
        for table in ("segment_days", "segment_day_hist", "segment_sources", "segment_fingerprints"):
            con.execute(f"DELETE FROM {table}")
    con.execute("CREATE OR REPLACE TEMP TABLE _seg_new_sources AS SELECT source_id FROM sources "
                "WHERE status = 'loaded' AND source_id NOT IN (SELECT source_id FROM segment_sources)")

    # templates: recount the ones new rows carry; promote those now big enough
    con.execute(_flag(load_sql("stages/segment_fingerprints"), "full", full))
    min_requests = int(config.value("segments.template_min_requests"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _seg_fp_promoted AS SELECT f.fp FROM _seg_fp AS f "
        "LEFT JOIN segment_fingerprints AS s ON s.template_fingerprint = f.fp "
        "WHERE f.n >= ? AND NOT coalesce(s.template_promoted, false)", [min_requests])
    con.execute("INSERT OR REPLACE INTO segment_fingerprints SELECT fp, n, true FROM _seg_fp WHERE n >= ?",
                [min_requests])
    promoted = _count(con, "SELECT count(*) FROM _seg_fp_promoted")

    # the days to rebuild
    if full:
        con.execute("CREATE OR REPLACE TEMP TABLE _seg_days AS SELECT DISTINCT CAST(ts AS DATE) AS day FROM usage")
    else:
        con.execute(load_sql("stages/segment_dirty_days"))
    days = _count(con, "SELECT count(*) FROM _seg_days")
    if days:
        con.execute("CREATE OR REPLACE TEMP VIEW _seg_rows AS " + _flag(load_sql("stages/segment_rows"), "full", full))
        con.execute(load_sql("stages/segment_hours"))
        con.execute(load_sql("stages/segment_grid"))
        con.execute("CREATE OR REPLACE TEMP VIEW _seg_min AS SELECT * FROM _seg_grid "
                    "WHERE is_minute AND arrival_requests IS NOT NULL")
        con.execute("CREATE OR REPLACE TEMP VIEW _seg_tok AS SELECT * FROM _seg_grid WHERE NOT is_minute")
        con.execute(load_sql("stages/segment_sessions"))
        con.execute(load_sql("stages/segment_keys"))
        for table in ("segment_days", "segment_day_hist"):
            con.execute(f"DELETE FROM {table} WHERE day IN (SELECT day FROM _seg_days)")
        con.execute(load_sql("stages/segment_days_insert"))
        con.execute(load_sql("stages/segment_hist_insert"))
    con.execute("INSERT OR REPLACE INTO segment_sources SELECT source_id, now()::TIMESTAMP FROM _seg_new_sources")
    con.execute("INSERT OR REPLACE INTO segment_state VALUES ('config_hash', ?)", [digest])

    # exact quantiles while the data is small
    total_rows = _count(con, "SELECT count(*) FROM usage")
    exact = total_rows <= int(config.value("segments.exact_quantiles_max_rows"))
    if exact:
        con.execute("CREATE OR REPLACE TEMP VIEW _seg_rows AS " + _flag(load_sql("stages/segment_rows"), "full", True))
        con.execute(load_sql("stages/segment_exact"))
    return finish(con, config, run_id, result, exact=exact, full=full, days=days, promoted=promoted, digest=digest)


def finish(con: duckdb.DuckDBPyConnection, config: Config, run_id: str, result: StageResult, *, exact: bool,
           full: bool, days: int, promoted: int, digest: str) -> StageResult:
    """Merge the day rollups into this run's `segments` rows (also the Spark engine's last step)."""
    if not exact:
        con.execute("CREATE OR REPLACE TEMP TABLE _seg_exact AS SELECT CAST(NULL AS VARCHAR) AS segment_id, "
                    + ", ".join(f"CAST(NULL AS DOUBLE) AS {c}" for c in
                                ("p50_input", "p95_input", "p99_input", "p50_output", "p95_output", "p99_output"))
                    + ", CAST(NULL AS BIGINT) AS bucket_rows WHERE false")

    con.execute("DELETE FROM segments WHERE run_id = ?", [run_id])
    con.execute("DELETE FROM segment_token_hist WHERE run_id = ?", [run_id])
    con.execute(load_sql("stages/segment_final"), {
        "run_id": run_id,
        "coarse_share": float(config.value("segments.coarse_share")),
        "kind_share": float(config.value("segments.kind_signal_share")),
        "cls_max_out": float(config.value("segments.classification_max_p95_output")),
        "long_min_in": float(config.value("segments.long_document_min_p50_input")),
        "chat_min_turns": float(config.value("segments.chat_min_turns")),
    })
    con.execute(load_sql("stages/segment_token_hist"), {"run_id": run_id})
    for name in ("_seg_rows", "_seg_min", "_seg_tok"):
        con.execute(f"DROP VIEW IF EXISTS {name}")
    for name in ("_seg_keys", "_seg_hour", "_seg_grid", "_seg_sess", "_seg_exact", "_seg_fp", "_seg_fp_promoted", "_seg_days",
                 "_seg_new_sources"):
        con.execute(f"DROP TABLE IF EXISTS {name}")

    summary = fetch_dicts(con, load_sql("stages/segment_summary"), {"run_id": run_id})[0]
    result.data = {
        "segments": int(summary["segments"] or 0), "full_rebuild": full, "days_rebuilt": days,
        "templates_promoted": promoted, "quantile_method": "exact" if exact else "histogram",
        "config_hash": digest,
    }
    unknown_kind = int(summary["unknown_kind"] or 0)
    if unknown_kind:
        result.warnings.append(
            f"{unknown_kind} segments have no workload kind (no rule, no telling name or signal); "
            "name it with kind = ... in [[workloads.rules]]")
    coarse = int(summary["coarse"] or 0)
    if coarse:
        result.warnings.append(
            f"{coarse} segments have timestamps rounded to whole seconds or coarser: their burstiness is "
            "measured per minute only (coarse_timestamps = true)")
    return result
