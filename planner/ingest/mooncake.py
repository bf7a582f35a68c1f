"""mooncake: request replay traces (kvcache-ai/Mooncake `FAST25-release/traces/*.jsonl`) and any JSONL of that shape.

One request per line: `timestamp` (milliseconds since the trace's first request), `input_length`,
`output_length` (tokens) and `hash_ids` (one id per 512-token block of the prompt; equal ids across
requests are a shared prefix). There is no date, model, provider or id in a trace.

- Timestamps are offsets: they are anchored at `--ts-origin` when given, else at the documented default
  `adapters.mooncake_ts_origin` (with a warning). `--ts-unit` overrides the millisecond unit.
- Cached input of a request = its leading blocks already seen in an EARLIER request of the file (an
  unbounded prefix cache), × the block size, capped at `input_length`: `sql/stages/mooncake_cached_prefix.sql`
  (unnest the blocks with their positions, first occurrence per id, leading run per request). A line
  without `hash_ids` has unknown (NULL) cached tokens; an empty list has 0.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.db import load_sql
from planner.errors import InputError
from planner.ingest import IngestOptions, LoadResult, SourceFile
from planner.ingest import _records as rec
from planner.ingest._stage import FieldSource, MappedSource, RowCheck, commit, stage

if TYPE_CHECKING:
    import duckdb

FORMAT = "mooncake"
WANTED = {c: c for c in ("timestamp", "input_length", "output_length", "hash_ids", "session_id", "chat_id",
                         "model", "turn")}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def sniff(path: Path, head: bytes, container: str) -> bool:
    if container not in ("json", "jsonl"):
        return False
    first = rec.first_record(head, container)
    return (first is not None and _is_number(first.get("timestamp")) and _is_number(first.get("input_length"))
            and _is_number(first.get("output_length"))
            and ("hash_ids" not in first or isinstance(first["hash_ids"], list)))


def _assumption(options: IngestOptions, key: str) -> Any:
    if options.config is not None:
        return options.config.value(key)
    from planner.config import default_assumptions

    return default_assumptions()[key].value


def source(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> MappedSource:
    if file.container not in ("json", "jsonl"):
        raise InputError(file.label, f"not a mooncake trace: a {file.container} file, expected JSON Lines")
    reader = rec.read(con, file, WANTED)
    block = int(_assumption(options, "adapters.mooncake_block_tokens"))
    f = FieldSource
    fields = {
        "ts": f("timestamp", "VARCHAR", "timestamp"),
        "input_tokens": f("input_length", "VARCHAR", "input_length"),
        "cached_input_tokens": f("CAST(_cached AS VARCHAR)", "VARCHAR", "hash_ids"),
        "output_tokens": f("output_length", "VARCHAR", "output_length"),
        "session_id": f("coalesce(session_id, chat_id)", "VARCHAR", "session_id"),
        "model": f("model", "VARCHAR", "model"),
    }
    tags = [("chat_id", "chat_id"), ("turn", "turn"),
            ("hash_blocks", "CAST(json_array_length(hash_ids) AS VARCHAR)")]
    tags = [(k, f"CASE WHEN _ok AND (hash_ids IS NULL OR json_valid(hash_ids)) THEN nullif(trim({v}), '') END")
            for k, v in tags]
    record = [(k, k) for k in ("timestamp", "input_length", "output_length", "session_id", "chat_id", "model")]
    record += [("hash_ids", "left(hash_ids, 200)"), ("_bytes", "_bytes"), ("_start", "_start")]
    not_json, why = rec.not_json_check()
    checks = [
        RowCheck(not_json, "record", why),
        RowCheck("timestamp IS NOT NULL AND TRY_CAST(timestamp AS DOUBLE) IS NULL", "ts",
                 "'expected milliseconds since the trace start, got ' || to_json(left(timestamp, 40))", "timestamp"),
        RowCheck("input_length IS NULL", "input_tokens", "'missing input_length'", "input_length"),
        RowCheck("hash_ids IS NOT NULL AND NOT CASE WHEN json_valid(hash_ids) THEN json_type(hash_ids) = 'ARRAY' "
                 "ELSE false END",
                 "cached_input_tokens", "'hash_ids is not a list: ' || to_json(left(hash_ids, 40))", "hash_ids"),
    ]
    # parse the trace once into a temp table; the cached prefix is computed from it by a fixed statement
    con.execute("DROP TABLE IF EXISTS _mooncake_src")
    con.execute(f"CREATE TEMP TABLE _mooncake_src AS SELECT * FROM {reader.relation}")
    con.execute(load_sql("stages/mooncake_cached_prefix"), {"block_tokens": block})
    relation = ("(SELECT s.*, c.cached_tokens AS _cached FROM _mooncake_src AS s "
                "LEFT JOIN _mooncake_cached AS c ON c._row = s._row)")
    return MappedSource(relation=f"{relation} AS src", fields=fields, tags=tags, record=record, checks=checks)


def load(con: duckdb.DuckDBPyConnection, file: SourceFile, options: IngestOptions) -> LoadResult:
    warnings: list[str] = []
    origin = options.ts_origin
    if not origin:
        origin = str(_assumption(options, "adapters.mooncake_ts_origin"))
        warnings.append(f"timestamps count milliseconds from the trace start; anchored at {origin} "
                        "(pass --ts-origin to place the trace in time)")
    trace_options = dataclasses.replace(options, ts_unit=options.ts_unit or "ms", ts_origin=origin)
    stage(con, source(con, file, trace_options), file.source_id, trace_options)
    counts = commit(con, file.source_id, file.label, options.run_id, options=options)
    # the stage is a view over these: they go once it has been committed
    con.execute("DROP TABLE IF EXISTS _mooncake_cached")
    con.execute("DROP TABLE IF EXISTS _mooncake_src")
    return LoadResult(rows_read=counts.rows_read, rows_loaded=counts.rows_loaded,
                      rows_rejected=counts.rows_rejected, rows_duplicate=counts.rows_duplicate,
                      first_error=counts.first_error, warnings=warnings)
