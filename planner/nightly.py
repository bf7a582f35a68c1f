"""The whole job as functions: `demo` (generate, then load and summarise)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner import db as dbmod
from planner import generate, ingest
from planner.config import Config
from planner.errors import ExitCode
from planner.runs import finish_run, record_assumptions, start_run


@dataclass
class DemoResult:
    headers: list[str]
    rows: list[list[Any]]
    closing: list[str] = field(default_factory=list)
    exit_code: int = 0


def demo(out: Path, days: int, seed: int, db_path: Path | None, config: Config,
         progress: Callable[[str], None] | None = None) -> DemoResult:
    say = progress or (lambda _m: None)
    exports = out / "exports"
    say(f"planner demo: generating {days} days of synthetic traffic into {exports}")
    table = generate.traffic(days=days, seed=seed)
    csv_path = generate.write_generic_csv(table, exports / "gateway-requests.csv")
    db_file = db_path or out / "planner.duckdb"
    con = dbmod.connect(db_file)
    try:
        run_id = start_run(con, "demo", config)
        record_assumptions(con, run_id, config)
        options = ingest.IngestOptions.from_config(config, format="generic", mapping=generate.GENERIC_MAPPING,
                                                   run_id=run_id)
        say(f"planner demo: loading {csv_path}")
        results, _ = ingest.ingest_paths(con, [csv_path], options)
        failed = [r for r in results if r.status == "failed"]
        code = ExitCode.USAGE if failed else (ExitCode.FINDINGS if any(r.rows_rejected for r in results) else ExitCode.OK)
        headers, rows = _summary(con)
        finish_run(con, run_id, int(code))
    finally:
        con.close()
    closing = [f"planner demo: {sum(r.rows_loaded for r in results)} rows loaded into {db_file}",
               f"planner demo: explore with: planner sql --db {db_file} 'select * from v_daily_spend limit 20'"]
    return DemoResult(headers=headers, rows=rows, closing=closing, exit_code=int(code))


def _summary(con: Any) -> tuple[list[str], list[list[Any]]]:
    cur = con.execute(dbmod.load_sql("stages/demo_summary"))
    headers = [d[0] for d in cur.description]
    return headers, [list(r) for r in cur.fetchall()]
