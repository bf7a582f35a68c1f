"""Shared benchmark plumbing: run a command in a child process, return wall seconds and peak RSS.

Each measurement is its own process so peak RSS belongs to that command alone (os.wait4 gives the
child's own rusage). The machine is noisy: compare ratios measured in the same run, not seconds.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measurement:
    label: str
    seconds: float
    peak_rss_mb: float
    returncode: int
    cpu_seconds: float = 0.0


def run(label: str, argv: list[str], env: dict[str, str] | None = None, quiet: bool = True) -> Measurement:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL if quiet else None,
                            stderr=subprocess.PIPE if quiet else None, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1) and quiet and proc.stderr is not None:
        sys.stderr.write(proc.stderr.read().decode(errors="replace"))
    return Measurement(label, seconds, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def planner(*args: str) -> list[str]:
    return [sys.executable, "-m", "planner", *args]


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    return f"{platform.machine()}, {cpus} cores, {mem}, Python {platform.python_version()}"


def report(rows: list[tuple[str, Measurement, Measurement]]) -> None:
    """rows: (case, planner measurement, bare baseline measurement)."""
    print(f"machine: {machine()}")
    print("ratio = planner / bare, wall clock; cpu ratio = the same in CPU seconds (steadier on a busy machine)")
    print(f"{'case':<34} {'planner s':>10} {'bare s':>8} {'ratio':>6} {'cpu ratio':>9} {'planner RSS MB':>15} "
          f"{'bare RSS MB':>12}")
    for case, mine, bare in rows:
        print(f"{case:<34} {mine.seconds:>10.2f} {bare.seconds:>8.2f} {mine.seconds / bare.seconds:>6.2f} "
              f"{mine.cpu_seconds / max(bare.cpu_seconds, 1e-9):>9.2f} {mine.peak_rss_mb:>15.0f} "
              f"{bare.peak_rss_mb:>12.0f}")
