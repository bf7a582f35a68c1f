"""bedrock: Amazon Bedrock model invocation logs (one JSON record per invocation).

S3 delivery writes gzipped JSON Lines; hand-made dumps are JSON arrays or concatenated objects;
CloudWatch Logs exports carry each record as text: `aws logs filter-log-events` pages
(`{"events": [{"timestamp", "message": "{...}"}]}`), Logs Insights CSV (`@timestamp,@message`) and
export-task files (`<ISO time> <record>` per line).
All are read. Shape: `fixtures/bedrock/README.md`.

- `input.inputTokenCount` counts only the UNCACHED input: canonical `input_tokens` adds
  `cacheReadInputTokenCount` and `cacheWriteInputTokenCount`. Logs written before prompt caching
  lack those two fields: the parts stay NULL (unknown), never 0.
- `modelId` is kept as written (a bare id, a cross-region profile id such as `us.anthropic...`, or an
  ARN); the base model id with region prefix, profile and ARN stripped goes to `tags['base_model']`.
- Prompt text comes from `input.inputBodyJson` when text delivery is on (Converse and Anthropic
  Messages bodies, Titan `inputText`, Llama/Mistral `prompt`, Cohere `message`/`texts`): scanned, never stored.
- Latency: `output.outputBodyJson.metrics.latencyMs` (Converse); for streamed Anthropic responses, the
  `amazon-bedrock-invocationMetrics` of the last chunk (latency and first-byte latency).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import InputError
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest import _records as rec
from planner.ingest._stage import FieldSource, MappedSource, RowCheck, commit, stage

if TYPE_CHECKING:
    import duckdb

FORMAT = "bedrock"

WANTED = {
    "schemaType": "schemaType", "schemaVersion": "schemaVersion", "timestamp": "timestamp",
    "accountId": "accountId", "arn": "identity.arn", "region": "region", "inferenceRegion": "inferenceRegion",
    "requestId": "requestId", "operation": "operation", "modelId": "modelId", "errorCode": "errorCode",
    "status": "status", "inputTokenCount": "input.inputTokenCount",
    "cacheReadInputTokenCount": "input.cacheReadInputTokenCount",
    "cacheWriteInputTokenCount": "input.cacheWriteInputTokenCount",
    "inputBodyJson": "input.inputBodyJson", "inputBodyS3Path": "input.inputBodyS3Path",
    "outputTokenCount": "output.outputTokenCount", "latencyMs": "output.outputBodyJson.metrics.latencyMs",
    "requestMetadata": "requestMetadata", "performanceLatency": "performanceConfig.latency",
}
# geography prefixes of cross-region inference profiles (us.anthropic..., global.anthropic...)
PROFILE_PREFIXES = ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca")
_ERROR_WORDS = ("error", "failed", "failure", "fault", "throttled", "exception")


def _looks_like(first: dict | None) -> bool:
    if not first:
        return False
    if first.get("schemaType") == "ModelInvocationLog":
        return True
    inp = first.get("input")
    return ("modelId" in first and "requestId" in first and isinstance(inp, dict)
            and "inputTokenCount" in inp and isinstance(first.get("output"), dict))


# CloudWatch Logs exports: `aws logs filter-log-events` pages, and Logs Insights CSV
EMBEDDED = ("events", "message")
INSIGHTS = ("events", "@message")


# CloudWatch Logs export task files (S3): one event per line, `<ISO time> <message>`
_STAMPED = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.]+Z \{")


def _stamped_record(head: bytes) -> dict | None:
    line = head.decode("utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0].strip()
    if not _STAMPED.match(line):
        return None
    try:
        rec_ = json.loads(line.split(" ", 1)[1])
    except ValueError:
        return None
    return rec_ if isinstance(rec_, dict) else None


def sniff(path: Path, head: bytes, container: str) -> bool:
    if container in ("json", "jsonl"):
        return (_looks_like(rec.first_record(head, container))
                or _looks_like(rec.embedded_first_record(head, container, *EMBEDDED)))
    return container == "csv" and (_looks_like(rec.embedded_first_record(head, container, *INSIGHTS))
                                   or _looks_like(_stamped_record(head)))


def base_model_sql(model_id: str) -> str:
    """The base model id: ARN resource type and cross-region profile prefix removed; NULL when opaque."""
    prefixes = "|".join(p.replace("-", "\\-") for p in PROFILE_PREFIXES)
    stripped = (f"regexp_replace(regexp_replace({model_id}, '^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:[^/]+/', ''), "
                f"'^({prefixes})\\.', '')")
    return f"CASE WHEN {stripped} LIKE '%.%' THEN {stripped} END"


def _body_text(body: str) -> str:
    return rec.join_text_sql([
        rec.content_text_sql(f"json_extract({body}, '$.system')"),
        rec.messages_text_sql(f"json_extract({body}, '$.messages')"),
        f"json_extract_string({body}, '$.inputText')",
        f"json_extract_string({body}, '$.prompt')",
        f"CASE WHEN json_type({body}, '$.message') = 'VARCHAR' THEN json_extract_string({body}, '$.message') END",
        f"list_aggr(json_extract_string({body}, '$.texts[*]'), 'string_agg', chr(10))",
    ])


def source(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> MappedSource:
    embedded = INSIGHTS if file.container == "csv" else EMBEDDED
    lines = None
    if file.container == "csv" and _stamped_record(file.head) is not None:
        lines = (f"(SELECT _row, regexp_replace(_line, '^\\d{{4}}-\\d{{2}}-\\d{{2}}T[0-9:.]+Z ', '') AS _line "
                 f"FROM {rec.lines_sql(file)})")
    elif file.container == "parquet" or (file.container == "csv" and INSIGHTS[1] not in rec.csv_header(file.head)):
        raise InputError(file.label, f"not a bedrock invocation log: a {file.container} file without JSON records",
                         hint="Bedrock logs are JSON Lines (S3), CloudWatch exports, or a Logs Insights CSV with @message")
    reader = rec.read(con, file, WANTED, keep_json=True, embedded=embedded, lines=lines)
    body = "inputBodyJson"
    prompt = f"CASE WHEN {body} IS NOT NULL AND json_valid({body}) THEN {_body_text(body)} END"
    uncached, read_, write = "inputTokenCount", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"
    total = (f"CASE WHEN TRY_CAST({uncached} AS BIGINT) IS NULL THEN {uncached} "
             f"ELSE CAST(TRY_CAST({uncached} AS BIGINT) + coalesce(TRY_CAST({read_} AS BIGINT), 0) "
             f"+ coalesce(TRY_CAST({write} AS BIGINT), 0) AS VARCHAR) END")
    is_stream = "operation ILIKE '%stream%'"
    metrics = "'$.output.outputBodyJson[*].\"amazon-bedrock-invocationMetrics\"'"
    stream_metric = (f"CASE WHEN {is_stream} THEN list_filter(json_extract({{j}}, {metrics}), "
                     "lambda m: m IS NOT NULL)[-1] END")
    stream_latency = f"TRY_CAST(json_extract_string({stream_metric.format(j='_j')}, '$.invocationLatency') AS DOUBLE)"
    stream_ttft = f"TRY_CAST(json_extract_string({stream_metric.format(j='_j')}, '$.firstByteLatency') AS DOUBLE)"
    latency = f"coalesce(TRY_CAST(latencyMs AS DOUBLE), {stream_latency})"
    errors = " OR ".join(f"lower(status) LIKE '%{w}%'" for w in _ERROR_WORDS)
    status = f"CASE WHEN errorCode IS NOT NULL OR {errors} THEN 'error' ELSE 'ok' END"
    kind = ("CASE WHEN _base ILIKE '%embed%' THEN 'embeddings' "
            "WHEN _base SIMILAR TO '.*(image|canvas|stable-diffusion|sd3|stability|reel).*' THEN 'images' "
            "ELSE 'completions' END")
    relation = rec.layer(rec.layer(reader.relation, [("_base", base_model_sql("modelId"))]), [
        ("_input", total), ("_status", status), ("_latency", latency), ("_ttft", stream_ttft), ("_kind", kind),
        ("_prompt", prompt),
    ])
    f = FieldSource
    fields = {
        "ts": f("timestamp", "VARCHAR", "timestamp"),
        "provider": f("'aws'", "VARCHAR"),
        "model": f("modelId", "VARCHAR", "modelId"),
        "user_id": f("arn", "VARCHAR", "identity.arn"),
        "request_id": f("requestId", "VARCHAR", "requestId"),
        "input_tokens": f("_input", "VARCHAR", "input.inputTokenCount"),
        "cached_input_tokens": f(read_, "VARCHAR", "input.cacheReadInputTokenCount"),
        "cache_write_tokens": f(write, "VARCHAR", "input.cacheWriteInputTokenCount"),
        "output_tokens": f("outputTokenCount", "VARCHAR", "output.outputTokenCount"),
        "status": f("_status", "VARCHAR", "errorCode"),
        "latency_ms": f("_latency", "DOUBLE", "output.outputBodyJson.metrics.latencyMs"),
        "ttft_ms": f("_ttft", "DOUBLE", "output.outputBodyJson"),
        "kind": f("_kind", "VARCHAR", "modelId"),
        "prompt": f("_prompt", "VARCHAR", "input.inputBodyJson"),
    }
    tags = [
        ("base_model", "_base"), ("model_vendor", "split_part(_base, '.', 1)"),
        ("account_id", "accountId"), ("region", "region"), ("inference_region", "inferenceRegion"),
        ("operation", "operation"), ("schema_version", "schemaVersion"), ("error_code", "errorCode"),
        ("bedrock_status", "status"), ("request_metadata", "requestMetadata"),
        ("performance_latency", "performanceLatency"),
        ("body_in_s3", f"CASE WHEN inputBodyS3Path IS NOT NULL AND {body} IS NULL THEN 'true' END"),
    ]
    tags = [(k, f"nullif(trim({v}), '')") for k, v in tags]
    record = [(k, k) for k in WANTED if k not in ("inputBodyJson", "requestMetadata")]
    record += [("_bytes", "_bytes"), ("_start", "_start")]
    not_json, why = rec.not_json_check()
    ok = "errorCode IS NULL"
    checks = [
        RowCheck(not_json, "record", why),
        RowCheck("modelId IS NULL OR trim(modelId) = ''", "model", "'missing modelId'", "modelId"),
        RowCheck(f"{ok} AND {uncached} IS NULL", "input_tokens", "'missing input.inputTokenCount'",
                 "input.inputTokenCount"),
        RowCheck(f"{ok} AND outputTokenCount IS NULL", "output_tokens", "'missing output.outputTokenCount'",
                 "output.outputTokenCount"),
    ]
    return MappedSource(relation=f"{relation} AS src", fields=fields, tags=tags, record=record, checks=checks)


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    stage(con, source(con, file, options), file.source_id, options)
    counts = commit(con, file.source_id, file.label, options.run_id, options=options)
    return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                      rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                      first_error=counts.first_error)
