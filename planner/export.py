"""`planner export KIND`: the files an engineer uses the morning after the budget meeting.

- `eval-set`: redacted prompt samples per segment (JSONL) for the side-by-side model evaluation;
- `router`: a LiteLLM proxy config routing migrated segments to their self-hosted deployment (falling
  back to today's API) and everything else to today's API;
- `serve`: one `vllm serve` command per deployment with its parallelism and context length;
- `trace`: one segment's traffic as a Mooncake-format replay trace (timestamps and lengths only).

Every user string written into YAML is a JSON string (valid YAML, no injection); shell words are
quoted with `shlex.quote`; JSONL lines come from DuckDB's `to_json`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import plan as planmod
from planner.db import fetch_dicts, load_sql
from planner.errors import UsageError

if TYPE_CHECKING:
    import duckdb

KINDS = ("eval-set", "router", "serve", "trace")
NO_LIMIT = 2**62


@dataclass
class Export:
    """Lines to write (streamed for traces) and warnings for stderr."""

    lines: Iterator[str]
    warnings: list[str] = field(default_factory=list)


@cache
def serve_data() -> dict[str, Any]:
    text = (resources.files("planner") / "data" / "serve.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data["by_id"] = {m["id"]: m for m in data["models"].values()}
    return data


def _params(name: str, **params: Any) -> dict[str, Any]:
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", load_sql(name)))
    return {k: v for k, v in params.items() if k in used}


def _q(value: Any) -> str:
    """A YAML scalar that is always a plain string: JSON quoting is valid YAML and escapes everything."""
    return json.dumps("" if value is None else str(value), ensure_ascii=False)


def _env_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts if p)


def export(con: duckdb.DuckDBPyConnection, kind: str, *, run_id: str | None = None, segments: list[str] | None = None,
           all_segments: bool = False, limit: int | None = None, max_per_segment: int = 200,
           min_per_segment: int = 50) -> Export:
    if kind not in KINDS:
        raise UsageError(f"export {kind!r}: unknown kind", hint=f"kinds: {', '.join(KINDS)}")
    run = planmod.resolve_run(con, run_id)
    if segments:
        known = {r[0] for r in con.execute("SELECT segment_id FROM plan_segments WHERE run_id = ?", [run]).fetchall()}
        unknown = [s for s in segments if s not in known]
        if unknown:
            raise UsageError(f"--segment {unknown[0]!r}: no such segment in run {run}",
                             hint="list them with: planner sql 'select segment_id, workload from v_plan'")
    if kind == "eval-set":
        return eval_set(con, run, segments or [], all_segments, max_per_segment, min_per_segment)
    if kind == "router":
        return router(con, run)
    if kind == "serve":
        return serve(con, run)
    if not segments or len(segments) != 1:
        raise UsageError("export trace: name exactly one --segment", hint="the trace of one segment replays one workload")
    return trace(con, segments[0], limit)


def eval_set(con: duckdb.DuckDBPyConnection, run_id: str, segments: list[str], all_segments: bool,
             max_per_segment: int, min_per_segment: int) -> Export:
    args = {"run_id": run_id, "segments": segments, "all": all_segments, "max_per_segment": max_per_segment}
    counts = con.execute(load_sql("stages/export_eval_counts"), _params("stages/export_eval_counts", **args)).fetchall()
    warnings = [f"segment {seg}: {n} redacted prompt sample(s), fewer than {min_per_segment}; "
                "ingest prompt text (without --no-samples) for a fuller evaluation set"
                for seg, n in counts if n < min_per_segment]
    if not counts:
        warnings.append("no segment to export: the plan moves none (pass --all or --segment ID)")
    rows = con.execute(load_sql("stages/export_eval_set"), _params("stages/export_eval_set", **args)).fetchall()
    return Export(lines=iter([r[0] for r in rows]), warnings=warnings)


def router(con: duckdb.DuckDBPyConnection, run_id: str) -> Export:
    """LiteLLM tag-based routing: one route per workload; a request tagged with its segment id goes to the
    segment's target, untagged requests (tag `default`) to today's API; self-hosted and open-model
    targets fall back to today's API; hybrid targets carry their fleet's capacity as `rpm`, so the
    overflow above it falls back to today's API."""
    rows = fetch_dicts(con, load_sql("stages/export_router"), _params("stages/export_router", run_id=run_id))
    prefixes = serve_data()["litellm"]
    by_id = serve_data()["by_id"]
    warnings: list[str] = []
    workloads: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        workloads.setdefault(r["workload"] or r["segment_id"], []).append(r)
    out = [f"# LiteLLM proxy config from planner run {run_id} (planner export router).",
           "# One route per workload. Clients send the segment id as a tag (\"tags\": [\"<segment_id>\"]) so each",
           "# segment reaches its target; untagged requests go to today's API. Self-hosted and open-model targets",
           "# fall back to today's API. Secrets stay in the environment; set each *_API_BASE to the deployment's URL.",
           "model_list:"]
    fallbacks: list[tuple[str, str]] = []
    for workload, segs in sorted(workloads.items()):
        current = {(s["current_provider"], s["current_model"]) for s in segs if s["current_provider"] and s["current_model"]}
        if len(current) > 1:
            warnings.append(f"workload {workload}: its segments use {len(current)} different API models today; "
                            "the default route uses the busiest one")
        today = next((s for s in segs if (s["current_provider"], s["current_model"]) in current), None)
        api = _api_params(today["current_provider"], today["current_model"], prefixes) if today else []
        targets: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for s in segs:
            key = (s["action"], s["deployment_id"], s["open_provider"], s["open_model"]) \
                if s["action"] in ("self_host", "hybrid", "open_model_api") else ("api",)
            targets.setdefault(key, []).append(s)
        out.append(f"  # workload {_comment(workload)}: " + "; ".join(
            f"{s['segment_id']} {s['action']}" + (f" (wave {s['wave']})" if s["wave"] else "") for s in segs))
        moved = False
        for key, members in sorted(targets.items(), key=lambda kv: str(kv[0])):
            tags = [m["segment_id"] for m in members]
            s = members[0]
            if key[0] in ("self_host", "hybrid"):
                model = by_id.get(s["self_host_model"], {}).get("repo", s["self_host_model"])
                params = [f"      model: {_q('hosted_vllm/' + str(model))}",
                          f"      api_base: {_q('os.environ/' + _env_name('PLANNER', s['deployment_id'] or '', 'API_BASE'))}"]
                if key[0] == "hybrid":
                    # the base fleet takes up to its capacity; above it the router finds no deployment under
                    # its rpm and the request falls back to today's API (the overflow the plan priced)
                    cap = min((m["capacity_per_minute"] for m in members if m["capacity_per_minute"]), default=None)
                    if cap:
                        share = max((m["overflow_share"] or 0.0) for m in members)
                        params.append(f"      rpm: {int(cap)}  # hybrid: above this, overflow to today's API "
                                      f"(~{share:.1%} of requests)")
                    if not api:
                        warnings.append(f"workload {workload}: hybrid segments but today's provider and model are "
                                        "unknown; no overflow route")
                moved = True
            elif key[0] == "open_model_api":
                prefix = prefixes.get(s["open_provider"] or "", s["open_provider"] or "openai")
                model = by_id.get(s["open_model"], {}).get("repo", s["open_model"])
                params = [f"      model: {_q(prefix + '/' + str(model))}  # check the provider's model id",
                          f"      api_key: {_q('os.environ/' + _env_name(s['open_provider'] or 'provider', 'API_KEY'))}"]
                moved = True
            else:
                if not api:
                    warnings.append(f"workload {workload}: today's provider and model are unknown; no default route")
                    continue
                params = api
                tags = ["default", *tags]
            out += [f"  - model_name: {_q(workload)}", "    litellm_params:", *params,
                    f"      tags: [{', '.join(_q(t) for t in tags)}]"]
        if ("api",) not in targets and api:
            out += [f"  - model_name: {_q(workload)}", "    litellm_params:", *api, f"      tags: [{_q('default')}]"]
        if moved and api:
            out += [f"  - model_name: {_q(workload + '-api')}", "    litellm_params:", *api]
            fallbacks.append((workload, workload + "-api"))
    out += ["router_settings:", "  enable_tag_filtering: true"]
    if fallbacks:
        out.append("  fallbacks:")
        out += [f"    - {{{_q(a)}: [{_q(b)}]}}" for a, b in fallbacks]
    return Export(lines=iter(out), warnings=list(dict.fromkeys(warnings)))


def _comment(text: str) -> str:
    """A user string inside a YAML comment: one line, no control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in " ".join(str(text).split()))


def _api_params(provider: str | None, model: str | None, prefixes: dict[str, str]) -> list[str]:
    if not provider or not model:
        return []
    prefix = prefixes.get(provider, provider)
    return [f"      model: {_q(prefix + '/' + model)}",
            f"      api_key: {_q('os.environ/' + _env_name(provider, 'API_KEY'))}"]


def serve(con: duckdb.DuckDBPyConnection, run_id: str) -> Export:
    rows = fetch_dicts(con, load_sql("stages/export_serve"), _params("stages/export_serve", run_id=run_id))
    data = serve_data()
    out = ["#!/bin/sh", f"# vLLM deployments of planner run {run_id} (planner export serve).",
           "# One command per replica and deployment; put the replicas behind one load balancer per deployment."]
    warnings = []
    if not rows:
        out.append("# the plan self-hosts nothing")
    for d in rows:
        model = data["by_id"].get(d["model"])
        if model is None:
            warnings.append(f"deployment {d['deployment_id']}: model {d['model']!r} has no repository in "
                            "planner/data/serve.toml; using the id as the model path")
        repo = model["repo"] if model else d["model"]
        args = ["vllm", "serve", repo,
                "--served-model-name", d["model"],
                "--tensor-parallel-size", str(d["gpus_per_replica"]),
                "--gpu-memory-utilization", "0.90",
                "--enable-prefix-caching",
                "--port", "8000"]
        if d["max_model_len"]:
            args[5:5] = ["--max-model-len", str(d["max_model_len"])]
        if model and model.get("fp8") and d["gpu"] in data["gpus"]["fp8"]:
            args += ["--quantization", "fp8", "--kv-cache-dtype", "fp8"]
        out += ["",
                f"# {d['deployment_id']}: {d['replicas']} replica(s) ({d['spare_replicas']} spare) of "
                f"{d['gpus_per_replica']}x {d['gpu']}; wave {d['first_wave']}; segments {', '.join(d['segment_ids'])}",
                " ".join(shlex.quote(a) for a in args)]
    return Export(lines=iter(out), warnings=warnings)


def trace(con: duckdb.DuckDBPyConnection, segment_id: str, limit: int | None) -> Export:
    params = _params("stages/export_trace", segment_id=segment_id, limit=limit or NO_LIMIT)
    text = load_sql("stages/export_trace").strip().rstrip(";")
    count = con.execute(f"SELECT count(*) FROM ({text})", params).fetchone()
    warnings = [] if count and count[0] else [
        f"segment {segment_id}: no request-level rows with token counts (bucketed or failed only): nothing to replay"]
    cur = con.execute(text, params)

    def lines() -> Iterator[str]:
        while True:
            batch = cur.fetchmany(10_000)
            if not batch:
                return
            for row in batch:
                yield row[0]

    return Export(lines=lines(), warnings=warnings)


def write_lines(lines: Iterator[str], out: Path | None) -> int:
    """Stream lines to stdout, or to a temp file beside `out` renamed into place when complete."""
    n = 0
    if out is None:
        for line in lines:
            sys.stdout.write(line + "\n")
            n += 1
        sys.stdout.flush()
        return n
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return n
