"""litellm: LiteLLM proxy spend logs (`LiteLLM_SpendLogs`) and its daily aggregate tables.

Reads the request-grain table as exported by `COPY "LiteLLM_SpendLogs" TO ... CSV HEADER`, as returned
by the proxy's `/spend/logs` API (a JSON array, JSON Lines, or a `{"data": [...]}` page) or as Parquet;
and the bucket-grain `LiteLLM_Daily{User,Team,Organization,EndUser,Agent,Tag}Spend` tables in the same
containers (many deployments keep only those). Shapes: `fixtures/litellm/README.md`.

Token accounting (DESIGN §4: `input_tokens` is ALL input):
- chat-completions calls report `prompt_tokens` in the OpenAI convention, cache reads and writes
  included; the split lives in `metadata.usage_object` (`prompt_tokens_details.cached_tokens` or
  `cache_read_input_tokens`, `cache_creation_input_tokens`);
- `call_type = anthropic_messages` (the `/v1/messages` pass-through) reports `prompt_tokens` WITHOUT
  the cache tokens (BerriAI/litellm#23342): they are added back. A row whose cache counts exceed its
  `prompt_tokens` can only be in that convention, whatever its call type, and is treated the same way.
- `spend` is LiteLLM's own estimate from its price map → `billed_cost_usd` (the cost the source states).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planner import sensitivity
from planner.db import quote_ident, quote_literal
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest import _records as rec
from planner.ingest._stage import FieldSource, MappedSource, RowCheck, commit, stage, typed_sql

if TYPE_CHECKING:
    import duckdb

FORMAT = "litellm"

SPEND_LOG_KEYS = ("request_id", "call_type", "startTime", "spend")
DAILY_KEYS = ("date", "api_key", "prompt_tokens", "completion_tokens", "spend", "api_requests")

SPEND_LOG_COLUMNS = (
    "request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
    "startTime", "endTime", "completionStartTime", "request_duration_ms", "model", "model_id", "model_group",
    "custom_llm_provider", "api_base", "user", "metadata", "cache_hit", "request_tags", "team_id",
    "organization_id", "end_user", "session_id", "status", "messages", "agent_id", "mcp_namespaced_tool_name",
)
DAILY_COLUMNS = (
    "id", "date", "api_key", "model", "model_group", "custom_llm_provider", "mcp_namespaced_tool_name",
    "endpoint", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "spend", "api_requests", "successful_requests", "failed_requests",
)
# the entity column tells which daily table a file is (LiteLLM_Daily<...>Spend)
DAILY_ENTITIES = {
    "team_id": "DailyTeamSpend", "user_id": "DailyUserSpend", "organization_id": "DailyOrganizationSpend",
    "end_user_id": "DailyEndUserSpend", "agent_id": "DailyAgentSpend", "tag": "DailyTagSpend",
}

# LiteLLM's `custom_llm_provider` → the provider id genai-prices uses (the name as written stays in tags)
PROVIDER_IDS = {
    "bedrock": "aws", "bedrock_converse": "aws", "sagemaker": "aws",
    "vertex_ai": "google", "vertex_ai_beta": "google", "gemini": "google",
    "azure": "azure", "azure_ai": "azure", "azure_text": "azure",
    "text-completion-openai": "openai", "openai": "openai", "anthropic": "anthropic",
    "together_ai": "together", "fireworks_ai": "fireworks", "xai": "x-ai", "cohere_chat": "cohere",
    "moonshot": "moonshotai", "mistral": "mistral", "groq": "groq", "deepseek": "deepseek",
    "cerebras": "cerebras", "perplexity": "perplexity", "openrouter": "openrouter", "databricks": "databricks",
}

# call types / endpoints → usage `kind` (the vocabulary the OpenAI usage adapter uses)
KINDS = {
    "completion": "completions", "acompletion": "completions", "text_completion": "completions",
    "atext_completion": "completions", "anthropic_messages": "completions", "responses": "completions",
    "aresponses": "completions", "embedding": "embeddings", "aembedding": "embeddings",
    "image_generation": "images", "aimage_generation": "images", "moderation": "moderations",
    "amoderation": "moderations", "transcription": "audio_transcriptions", "atranscription": "audio_transcriptions",
    "speech": "audio_speeches", "aspeech": "audio_speeches",
}

# paths read out of the `metadata` JSON of a spend log, in this order
_META = {
    "cached_details": "usage_object.prompt_tokens_details.cached_tokens",
    "cache_read": "usage_object.cache_read_input_tokens",
    "cache_read_extra": "additional_usage_values.cache_read_input_tokens",
    "cache_write": "usage_object.cache_creation_input_tokens",
    "cache_write_extra": "additional_usage_values.cache_creation_input_tokens",
    "reasoning": "usage_object.completion_tokens_details.reasoning_tokens",
    "status": "status",
    "key_alias": "user_api_key_alias",
    "team_alias": "user_api_key_team_alias",
    "error_code": "error_information.error_code",
    "error_class": "error_information.error_class",
}


def _map_sql(mapping: dict[str, str], x: str) -> str:
    entries = ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in sorted(mapping.items()))
    return f"coalesce(MAP {{{entries}}}[lower({x})], lower({x}))"


def provider_sql(x: str) -> str:
    return _map_sql(PROVIDER_IDS, x)


def _table(columns: list[str] | set[str] | dict[str, object]) -> str | None:
    cols = set(columns)
    if all(k in cols for k in SPEND_LOG_KEYS):
        return "spend_logs"
    if all(k in cols for k in DAILY_KEYS) and any(e in cols for e in DAILY_ENTITIES):
        return "daily"
    return None


def sniff(path: Path, head: bytes, container: str) -> bool:
    if container in ("json", "jsonl"):
        first = rec.first_record(head, container, unwrap="data")
        return first is not None and _table(first) is not None
    return _table(rec.columns_of(path, head, container)) is not None


def _which(con: duckdb.DuckDBPyConnection, file: SourceFile) -> tuple[str, str | None]:
    """(spend_logs | daily, entity column) from the file's columns or first record."""
    if file.container in ("json", "jsonl"):
        first = rec.first_record(file.head, file.container, unwrap="data") or {}
        cols = set(first)
    else:
        probe = rec.read(con, file, {})
        cols = set(probe.columns)
    table = _table(cols) or ("daily" if "api_requests" in cols and "request_id" not in cols else "spend_logs")
    entity = next((e for e in DAILY_ENTITIES if e in cols), None) if table == "daily" else None
    return table, entity


# ---------------------------------------------------------------- spend logs

def _ts(col: str, options: IngestOptions) -> str:
    return typed_sql("ts", FieldSource(sql=quote_ident(col), type="VARCHAR"), options)


def _int(x: str) -> str:
    return f"TRY_CAST({x} AS BIGINT)"


def spend_logs_source(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> MappedSource:
    reader = rec.read(con, file, {c: c for c in SPEND_LOG_COLUMNS}, unwrap="data")
    rec.require_columns(file, reader, list(SPEND_LOG_KEYS), FORMAT)
    meta_paths = "[" + ", ".join(quote_literal(rec.json_path(p)) for p in _META.values()) + "]"
    m = {name: f"_m[{i + 1}]" for i, name in enumerate(_META)}
    cached = f"coalesce({_int(m['cached_details'])}, {_int(m['cache_read'])}, {_int(m['cache_read_extra'])})"
    write = f"coalesce({_int(m['cache_write'])}, {_int(m['cache_write_extra'])})"
    prompt = _int('"prompt_tokens"')
    excludes_cache = (f"(lower(call_type) = 'anthropic_messages' "
                      f"OR coalesce(_cached, 0) + coalesce(_write, 0) > {prompt})")
    input_sql = (f"CASE WHEN {prompt} IS NULL THEN prompt_tokens "
                 f"WHEN {excludes_cache} THEN CAST({prompt} + coalesce(_cached, 0) + coalesce(_write, 0) AS VARCHAR) "
                 f"ELSE prompt_tokens END")
    messages = "messages"
    text = rec.join_text_sql([
        f"CASE WHEN json_type({messages}) = 'VARCHAR' THEN json_extract_string({messages}, '$') END",
        rec.messages_text_sql(messages),
        rec.messages_text_sql(f"json_extract({messages}, '$.messages')"),
        rec.content_text_sql(f"json_extract({messages}, '$.system')"),
    ])
    prompt_text = (f"CASE WHEN {messages} IS NULL THEN NULL WHEN NOT json_valid({messages}) THEN {messages} "
                   f"ELSE {text} END")
    ttft = ("CASE WHEN _t_first >= _t_start "
            "THEN date_diff('microsecond', _t_start, _t_first) / 1000.0 END")
    latency = ("coalesce(TRY_CAST(request_duration_ms AS DOUBLE), "
               "CASE WHEN _t_end >= _t_start THEN date_diff('microsecond', _t_start, _t_end) / 1000.0 END)")
    with_meta = rec.layer(reader.relation, [
        ("_m", f"CASE WHEN json_valid(metadata) THEN json_extract_string(metadata, {meta_paths}) END")])
    parsed = rec.layer(with_meta, [
        ("_cached", cached), ("_write", write), ("_t_start", _ts("startTime", options)),
        ("_t_end", _ts("endTime", options)), ("_t_first", _ts("completionStartTime", options)),
    ])
    relation = rec.layer(parsed, [
        ("_input", input_sql), ("_ttft", ttft), ("_latency", latency), ("_prompt", prompt_text),
        ("_provider", provider_sql("custom_llm_provider")), ("_kind", f"MAP {{{_kinds()}}}[lower(call_type)]"),
        ("_status", f"coalesce(status, {m['status']})"),
    ])
    f = FieldSource
    fields = {
        "ts": f('"startTime"', "VARCHAR", "startTime"),
        "ts_end": f('"endTime"', "VARCHAR", "endTime"),
        "request_id": f("request_id", "VARCHAR", "request_id"),
        "provider": f("_provider", "VARCHAR", "custom_llm_provider"),
        "model": f("model", "VARCHAR", "model"),
        "project": f("team_id", "VARCHAR", "team_id"),
        "api_key_id": f("api_key", "VARCHAR", "api_key"),
        "user_id": f("coalesce(nullif(trim(\"user\"), ''), nullif(trim(end_user), ''))", "VARCHAR", "user"),
        "session_id": f("session_id", "VARCHAR", "session_id"),
        "input_tokens": f("_input", "VARCHAR", "prompt_tokens"),
        "cached_input_tokens": f("CAST(_cached AS VARCHAR)", "VARCHAR", "metadata.usage_object"),
        "cache_write_tokens": f("CAST(_write AS VARCHAR)", "VARCHAR", "metadata.usage_object"),
        "output_tokens": f("completion_tokens", "VARCHAR", "completion_tokens"),
        "reasoning_tokens": f(m["reasoning"], "VARCHAR", "metadata.usage_object"),
        "status": f("_status", "VARCHAR", "status"),
        "latency_ms": f("_latency", "DOUBLE", "request_duration_ms"),
        "ttft_ms": f("_ttft", "DOUBLE", "completionStartTime"),
        "billed_cost_usd": f("spend", "VARCHAR", "spend"),
        "kind": f("_kind", "VARCHAR", "call_type"),
        "prompt": f("_prompt", "VARCHAR", "messages"),
    }
    tags = [
        ("call_type", "call_type"), ("model_group", "model_group"), ("model_id", "model_id"),
        ("cache_hit", "cache_hit"), ("request_tags", "CASE WHEN request_tags NOT IN ('[]', '') THEN request_tags END"),
        ("litellm_provider", "custom_llm_provider"), ("organization_id", "organization_id"),
        ("end_user", sensitivity.redact_sql("end_user")), ("api_base", "api_base"),
        ("agent_id", "agent_id"), ("mcp_tool", "mcp_namespaced_tool_name"),
        ("key_alias", m["key_alias"]), ("team_alias", m["team_alias"]),
        ("error_code", m["error_code"]), ("error_class", m["error_class"]),
    ]
    tags = [(k, f"nullif(trim({v}), '')") for k, v in tags]
    record = [(c, quote_ident(c)) for c in SPEND_LOG_COLUMNS if c not in ("messages", "metadata", "request_tags")]
    record += [("_bytes", "_bytes"), ("_start", "_start")]
    not_json, why = rec.not_json_check()
    checks = [
        RowCheck(not_json, "record", why),
        RowCheck("metadata IS NOT NULL AND NOT json_valid(metadata)", "cached_input_tokens",
                 "'metadata is not valid JSON'", "metadata"),
    ]
    return MappedSource(relation=f"{relation} AS src", fields=fields, tags=tags, record=record, checks=checks)


def _kinds() -> str:
    return ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in sorted(KINDS.items()))


# ---------------------------------------------------------------- daily tables

def daily_source(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions,
                 entity: str | None) -> MappedSource:
    wanted = {c: c for c in DAILY_COLUMNS}
    for e in DAILY_ENTITIES:
        wanted[e] = e
    reader = rec.read(con, file, wanted, unwrap="data")
    rec.require_columns(file, reader, list(DAILY_KEYS), FORMAT)
    read_, write = _int("cache_read_input_tokens"), _int("cache_creation_input_tokens")
    prompt = _int("prompt_tokens")
    excludes = (f"(endpoint ILIKE '%/messages' OR coalesce({read_}, 0) + coalesce({write}, 0) > {prompt})")
    input_sql = (f"CASE WHEN {prompt} IS NULL THEN prompt_tokens WHEN {excludes} "
                 f"THEN CAST({prompt} + coalesce({read_}, 0) + coalesce({write}, 0) AS VARCHAR) ELSE prompt_tokens END")
    day = "TRY_CAST(trim(\"date\") AS DATE)"
    f = FieldSource
    endpoint_kind = ("CASE WHEN endpoint ILIKE '%embeddings%' THEN 'embeddings' "
                     "WHEN endpoint ILIKE '%images%' THEN 'images' WHEN endpoint ILIKE '%moderations%' THEN 'moderations' "
                     "WHEN endpoint ILIKE '%audio/transcriptions%' THEN 'audio_transcriptions' "
                     "WHEN endpoint ILIKE '%audio/speech%' THEN 'audio_speeches' "
                     "WHEN endpoint ILIKE '%completions%' OR endpoint ILIKE '%/messages' OR endpoint ILIKE '%responses%' "
                     "THEN 'completions' END")
    fields = {
        "ts": f('"date"', "VARCHAR", "date"),
        "ts_end": f(f"CAST({day} + INTERVAL 1 DAY AS VARCHAR)", "VARCHAR", "date"),
        "provider": f(provider_sql("custom_llm_provider"), "VARCHAR", "custom_llm_provider"),
        "model": f("model", "VARCHAR", "model"),
        "api_key_id": f("api_key", "VARCHAR", "api_key"),
        "requests": f("api_requests", "VARCHAR", "api_requests"),
        "input_tokens": f(input_sql, "VARCHAR", "prompt_tokens"),
        "cached_input_tokens": f("cache_read_input_tokens", "VARCHAR", "cache_read_input_tokens"),
        "cache_write_tokens": f("cache_creation_input_tokens", "VARCHAR", "cache_creation_input_tokens"),
        "output_tokens": f("completion_tokens", "VARCHAR", "completion_tokens"),
        "billed_cost_usd": f("spend", "VARCHAR", "spend"),
        "kind": f(endpoint_kind, "VARCHAR", "endpoint"),
    }
    if entity == "team_id":
        fields["project"] = f("team_id", "VARCHAR", "team_id")
    elif entity in ("user_id", "end_user_id"):
        fields["user_id"] = f(quote_ident(entity), "VARCHAR", entity)
    table = DAILY_ENTITIES.get(entity or "", "Daily")
    # dimensions only: a bucket's tags are part of its identity, so a later, fuller export of the same day
    # (more requests, more failures) must carry the same tags to replace the earlier one
    tags = [("litellm_table", quote_literal(table)), ("model_group", "model_group"),
            ("litellm_provider", "custom_llm_provider"), ("endpoint", "endpoint"), ("mcp_tool", "mcp_namespaced_tool_name")]
    if entity in ("organization_id", "agent_id", "tag", "end_user_id"):
        tags.append((entity, quote_ident(entity)))
    tags = [(k, f"nullif(trim({v}), '')") for k, v in tags]
    record = [(c, quote_ident(c)) for c in (*DAILY_COLUMNS, *(e for e in [entity] if e))] + [("_start", "_start")]
    not_json, why = rec.not_json_check()
    checks = [
        RowCheck(not_json, "record", why),
        RowCheck(f'"date" IS NOT NULL AND {day} IS NULL', "ts",
                 "'expected a date YYYY-MM-DD, got ' || to_json(left(\"date\", 40))", "date"),
    ]
    return MappedSource(relation=f"{reader.relation} AS src", fields=fields, tags=tags, record=record,
                        grain="bucket", checks=checks)


def _overlap_warnings(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Daily tables count the same traffic once per entity: loading two of them double-counts."""
    rows = con.execute(
        "SELECT DISTINCT u.tags['litellm_table'] FROM usage AS u "
        "WHERE u.tags['litellm_table'] IS NOT NULL AND u.tags['litellm_table'] <> ? "
        "AND u.ts IN (SELECT DISTINCT ts FROM _stage WHERE _err_reason IS NULL)", [table],
    ).fetchall()
    out = [f"LiteLLM_{r[0]} rows for the same days are already loaded: LiteLLM_{table} counts the same "
           "requests again (load one daily table only)" for r in rows if r[0]]
    if table == "DailyTagSpend":
        out.append("LiteLLM_DailyTagSpend counts a request once per tag: totals overstate traffic when requests "
                   "carry several tags")
    return out


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    table, entity = _which(con, file)
    warnings: list[str] = []
    if table == "daily":
        source = daily_source(con, file, options, entity)
        stage(con, source, file.source_id, options)
        warnings = _overlap_warnings(con, DAILY_ENTITIES.get(entity or "", "Daily"))
    else:
        source = spend_logs_source(con, file, options)
        stage(con, source, file.source_id, options)
    counts = commit(con, file.source_id, file.label, options.run_id, options=options)
    return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                      rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                      first_error=counts.first_error, warnings=warnings)
