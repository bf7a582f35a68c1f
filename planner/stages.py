"""What every analysis stage returns. Stages are functions `run(con, config, run_id) -> StageResult`;
the caller (planner.analyze) wraps each one in a single transaction, so a stage never commits itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StageResult:
    name: str
    warnings: list[str] = field(default_factory=list)   # one line each, printed on stderr as warnings
    findings: bool = False                               # True makes `planner analyze` exit 1
    data: dict[str, Any] = field(default_factory=dict)  # anything later stages or the report need
