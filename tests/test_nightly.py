"""`planner run`: the nightly job. Idempotent, incremental, one at a time, and crash-safe: a SIGKILL at
any point leaves the database and `latest` as before or as after, and the next run finishes normally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from planner import generate

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = ("run_id", "generated_at", "diff")


def write_exports(folder: Path, days: int = 4, seed: int = 11, scale: float = 0.03, split: bool = True) -> list[Path]:
    """Synthetic gateway logs, one CSV per day (the way exports pile up in a folder)."""
    import pyarrow.compute as pc

    table = generate.traffic(days=days, seed=seed, scale=scale)
    folder.mkdir(parents=True, exist_ok=True)
    if not split:
        return [generate.write_generic_csv(table, folder / "all.csv")]
    day = pc.strftime(table.column("ts"), format="%Y-%m-%d")
    paths = []
    for d in sorted(set(day.to_pylist())):
        part = table.filter(pc.equal(day, d))
        paths.append(generate.write_generic_csv(part, folder / f"gateway-{d}.csv"))
    return paths


def config_file(path: Path) -> Path:
    lines = ['[[sources]]', 'glob = "gateway-*.csv"', 'format = "generic"', "map = {"]
    lines.append(", ".join(f'"{k}" = "{v}"' for k, v in generate.GENERIC_MAPPING.items()))
    lines[-1] = lines[-1]
    text = "\n".join(lines[:3]) + "\nmap = { " + ", ".join(
        f'{k} = "{v}"' for k, v in generate.GENERIC_MAPPING.items()) + " }\n"
    path.write_text(text)
    return path


def run(db: Path, exports: Path, out: Path, cfg: Path, *extra: str, env: dict[str, str] | None = None,
        wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
    argv = [sys.executable, "-m", "planner", "run", str(exports), "--out", str(out), "--db", str(db),
            "--config", str(cfg), "--quiet", *extra]
    full_env = {**os.environ, **(env or {})}
    if wait:
        return subprocess.run(argv, capture_output=True, text=True, env=full_env, cwd=ROOT)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=ROOT)


def stable_plan(out: Path) -> dict:
    plan = json.loads((out / "latest" / "plan.json").read_text())
    for key in VOLATILE:
        plan.pop(key, None)
    return plan


def table_state(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "usage": con.execute("select event_id, ts, input_tokens, output_tokens, sensitivity from usage "
                                 "order by event_id").fetchall(),
            "sources": con.execute("select source_id, rows_loaded, rows_duplicate from sources order by 1").fetchall(),
            "samples": con.execute("select sample_key, sample_hash from prompt_samples order by 1, 2").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture
def setup(tmp_path):
    exports = tmp_path / "exports"
    write_exports(exports)
    return tmp_path / "p.duckdb", exports, tmp_path / "reports", config_file(tmp_path / "planner.toml")


@pytest.mark.slow
def test_running_twice_changes_nothing_but_the_run_log(setup):
    db, exports, out, cfg = setup
    first = run(db, exports, out, cfg)
    assert first.returncode in (0, 1), first.stderr
    state, plan = table_state(db), stable_plan(out)
    second = run(db, exports, out, cfg)
    assert second.returncode in (0, 1), second.stderr
    assert table_state(db) == state
    assert stable_plan(out) == plan
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("select command, status from runs order by started_at").fetchall()
    con.close()
    assert [r[0] for r in runs] == ["run", "run"]
    assert os.readlink(out / "latest") == sorted(p.name for p in out.iterdir() if p.name != "latest")[-1]


@pytest.mark.slow
def test_adding_a_file_changes_only_what_it_brings(setup, tmp_path):
    db, exports, out, cfg = setup
    files = sorted(exports.iterdir())
    last = files[-1]
    held = tmp_path / last.name
    last.rename(held)
    assert run(db, exports, out, cfg).returncode in (0, 1)
    before = table_state(db)
    held.rename(last)
    assert run(db, exports, out, cfg).returncode in (0, 1)
    after = table_state(db)
    new_rows = set(after["usage"]) - set(before["usage"])
    assert set(before["usage"]) <= set(after["usage"])
    con = duckdb.connect(str(db), read_only=True)
    added = con.execute("select count(*) from usage where source_id = (select source_id from sources where path = ?)",
                        [str(last)]).fetchone()[0]
    con.close()
    assert len(new_rows) == added > 0


def test_a_second_run_gets_exit_4_while_the_first_holds_the_lock(setup):
    db, exports, out, cfg = setup
    subprocess.run([sys.executable, "-m", "planner", "sql", "--db", str(db), "select 1"], capture_output=True)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from planner import db
        con = db.connect({str(db)!r})
        print('held', flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        r = run(db, exports, out, cfg)
        assert r.returncode == 4, r.stderr
        assert "locked" in r.stderr and f"PID {holder.pid}" in r.stderr
        assert time.monotonic() - started < 15
        r = run(db, exports, out, cfg, "--wait", "1")
        assert r.returncode == 4
    finally:
        holder.kill()
        holder.wait()
    assert run(db, exports, out, cfg).returncode in (0, 1)


@pytest.mark.slow
def test_two_runs_at_once_one_wins_nothing_doubles(tmp_path):
    exports = tmp_path / "exports"
    write_exports(exports, days=6, scale=0.3)
    db, out, cfg = tmp_path / "p.duckdb", tmp_path / "reports", config_file(tmp_path / "planner.toml")
    a = run(db, exports, out, cfg, wait=False)
    time.sleep(0.2)
    b = run(db, exports, out, cfg, wait=False)
    codes = sorted([a.wait(), b.wait()])
    if codes[1] != 4:  # the first finished before the second started: both ran, one after the other
        assert codes == [0, 0] or set(codes) <= {0, 1}
    else:
        assert codes[0] in (0, 1)
    con = duckdb.connect(str(db), read_only=True)
    dup = con.execute("select count(*) - count(distinct event_id) from usage").fetchone()[0]
    loaded = con.execute("select count(*) from sources where status = 'loaded'").fetchone()[0]
    con.close()
    assert dup == 0 and loaded == len(list(exports.iterdir()))


CRASH_POINTS = ["ingest@2", "stage:price", "stage:segment", "stage:plan", "report@2", "publish"]


@pytest.mark.slow
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_sigkill_leaves_a_consistent_state_and_the_next_run_recovers(tmp_path, point):
    exports = tmp_path / "exports"
    write_exports(exports)
    cfg = config_file(tmp_path / "planner.toml")
    # the reference: an uninterrupted run
    ref_db, ref_out = tmp_path / "ref.duckdb", tmp_path / "ref"
    assert run(ref_db, exports, ref_out, cfg).returncode in (0, 1)
    # the same, killed at `point`, then run again
    db, out = tmp_path / "p.duckdb", tmp_path / "reports"
    killed = run(db, exports, out, cfg, env={"PLANNER_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    # consistent: no half-loaded file, no duplicate event, latest absent or complete
    con = duckdb.connect(str(db))
    loaded = con.execute("select source_id, rows_loaded, rows_duplicate from sources").fetchall()
    for source_id, rows_loaded, _dup in loaded:
        assert con.execute("select count(*) from usage where source_id = ?", [source_id]).fetchone()[0] == rows_loaded
    assert con.execute("select count(*) - count(distinct event_id) from usage").fetchone()[0] == 0
    assert con.execute("select count(*) from usage where source_id not in (select source_id from sources)"
                       ).fetchone()[0] == 0
    con.close()
    latest = out / "latest"
    if latest.exists():
        assert {p.name for p in latest.iterdir()} >= {"plan.json", "plan.md", "plan.html"}
    # the next run completes and gives the plan an uninterrupted run gives
    again = run(db, exports, out, cfg)
    assert again.returncode in (0, 1), again.stderr
    assert stable_plan(out) == stable_plan(ref_out)
