"""Reliability counts: every malformed fixture and N fuzzed files through `planner ingest`, counting
cases tried, answers given, tracebacks (must be 0) and rows lost (must be 0: every record read is
loaded, rejected with a reason, or counted as a repeat).

    python bench/reliability.py            # the corpus + 500 fuzzed files
    python bench/reliability.py --fuzz 2000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.cli import app  # noqa: E402

FIXTURES = ROOT / "fixtures"


def corpus() -> list[Path]:
    """Every fixture file (the well-formed ones too: they must load cleanly) except READMEs."""
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".md" and "pii" not in p.parts)


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            break
        i = rng.randrange(len(b))
        op = rng.choice(["flip", "truncate", "insert", "delete", "dup_line"])
        if op == "flip":
            b[i] = rng.randrange(256)
        elif op == "truncate":
            del b[i:]
        elif op == "insert":
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == "delete":
            del b[i:i + rng.randint(1, 16)]
        else:
            start, nl = b.rfind(b"\n", 0, i) + 1, b.find(b"\n", i)
            if nl > start:
                b[nl:nl] = b"\n" + b[start:nl]
    return bytes(b)


def ingest(runner: CliRunner, path: Path, db: Path) -> tuple[int, str, list[dict]]:
    r = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--json"], catch_exceptions=True)
    files = json.loads(r.stdout)["files"] if r.stdout.startswith("{") else []
    return r.exit_code, r.stderr + (repr(r.exception) if r.exception and r.exit_code not in (0, 1, 2) else ""), files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fuzz", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    runner = CliRunner()
    counts: Counter[str] = Counter()
    lost = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [(p, p.read_bytes()) for p in corpus()]
        fuzzed = []
        for i in range(args.fuzz):
            src, data = rng.choice(cases)
            fuzzed.append((work / f"fuzz{i}{''.join(src.suffixes[-2:])}", mutate(data, rng)))
        for kind, items in (("corpus", [(p, None) for p, _ in cases]), ("fuzz", fuzzed)):
            for path, data in items:
                if data is not None:
                    path.write_bytes(data)
                db = work / f"{kind}.duckdb"
                code, err, files = ingest(runner, path, db)
                counts[f"{kind} files"] += 1
                counts[f"{kind} exit {code}"] += 1
                if code not in (0, 1, 2) or "Traceback" in err or "internal error" in err:
                    counts[f"{kind} crashes"] += 1
                    print(f"crash: {path}: {err[:300]}", file=sys.stderr)
                for f in files:
                    counts[f"{kind} rows read"] += f["rows_read"]
                    counts[f"{kind} rows loaded"] += f["rows_loaded"]
                    counts[f"{kind} rows rejected"] += f["rows_rejected"]
                    counts[f"{kind} rows repeated"] += f["rows_duplicate"]
                    lost += f["rows_read"] - f["rows_loaded"] - f["rows_rejected"] - f["rows_duplicate"]
                db.unlink(missing_ok=True)
    for key in sorted(counts):
        print(f"{key:<24} {counts[key]:>10,}")
    print(f"{'crashes (tracebacks)':<24} {counts['corpus crashes'] + counts['fuzz crashes']:>10,}")
    print(f"{'rows lost':<24} {lost:>10,}")
    if lost or counts["corpus crashes"] or counts["fuzz crashes"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
