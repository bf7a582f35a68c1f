"""Fault injection for the crash tests: `PLANNER_FAULT=point[@n]` kills the process (SIGKILL, as a
power cut would) the n-th time execution reaches `point`. Unset in normal use: a no-op."""

from __future__ import annotations

import os
import signal
from collections import Counter

_seen: Counter[str] = Counter()


def maybe_crash(point: str) -> None:
    spec = os.environ.get("PLANNER_FAULT")
    if not spec:
        return
    name, _, nth = spec.partition("@")
    if name != point:
        return
    _seen[point] += 1
    if _seen[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
