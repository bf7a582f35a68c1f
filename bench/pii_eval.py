"""Detection quality on a labeled corpus: per-type and record-level precision and recall.

    python bench/pii_eval.py                          # every fixtures/pii/*.jsonl
    python bench/pii_eval.py --corpus other.jsonl --label PHONE=PHONE_NUMBER --show-errors

A corpus is JSON lines with `text` and `spans` (`start`, `end`, `type`); types are Presidio entity
names (or mapped to them with --label). Detection runs in DuckDB exactly as ingest runs it
(`planner.sensitivity.pii_types_sql`). Scoring is by type per record (what `usage.pii_types`
stores): a type counts as found in a record when the detector reports it for that record.

Record level, high-sensitivity set (EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, IBAN_CODE,
IP_ADDRESS, US_DRIVER_LICENSE): a record is positive when it holds any of them. Targets: precision
and recall >= 0.95. `--show-errors` prints the ids of misclassified records (`--show-text` their
text too: only for synthetic corpora, since values must never reach logs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from planner.sensitivity import HIGH_SENSITIVITY, pii_types_sql  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.95


def load(paths: list[Path], labels: dict[str, str]) -> list[dict]:
    records = []
    for path in paths:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            types = sorted({labels.get(s["type"], s["type"]) for s in r.get("spans", [])})
            records.append({"id": str(r.get("id", f"{path.name}:{i}")), "text": r["text"], "types": types})
    return records


def detect(records: list[dict]) -> list[list[str]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE corpus (n INTEGER, text VARCHAR)")
    con.executemany("INSERT INTO corpus VALUES (?, ?)", [(i, r["text"]) for i, r in enumerate(records)])
    rows = con.execute(f"SELECT n, {pii_types_sql('text')} FROM corpus ORDER BY n").fetchall()
    return [list(r[1]) for r in rows]


def ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def evaluate(records: list[dict], found: list[list[str]]) -> dict:
    types = sorted({t for r in records for t in r["types"]} | {t for f in found for t in f})
    per_type = {}
    for t in types:
        tp = sum(1 for r, f in zip(records, found, strict=True) if t in r["types"] and t in f)
        fp = sum(1 for r, f in zip(records, found, strict=True) if t not in r["types"] and t in f)
        fn = sum(1 for r, f in zip(records, found, strict=True) if t in r["types"] and t not in f)
        per_type[t] = {"tp": tp, "fp": fp, "fn": fn, "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn)}
    hs = set(HIGH_SENSITIVITY)
    truth = [bool(hs & set(r["types"])) for r in records]
    pred = [bool(hs & set(f)) for f in found]
    tp = sum(1 for a, b in zip(truth, pred, strict=True) if a and b)
    fp = sum(1 for a, b in zip(truth, pred, strict=True) if b and not a)
    fn = sum(1 for a, b in zip(truth, pred, strict=True) if a and not b)
    exact = sum(1 for r, f in zip(records, found, strict=True) if hs & set(r["types"]) == hs & set(f))
    return {
        "records": len(records), "per_type": per_type,
        "record_level": {"tp": tp, "fp": fp, "fn": fn, "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
                         "types_exact": ratio(exact, len(records))},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, action="append", help="JSONL corpus (repeatable)")
    ap.add_argument("--label", action="append", default=[], help="LABEL=ENTITY mapping of corpus type names")
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--show-text", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    paths = args.corpus or sorted((ROOT / "fixtures" / "pii").glob("*.jsonl"))
    labels = dict(x.split("=", 1) for x in args.label)
    records = load(paths, labels)
    found = detect(records)
    res = evaluate(records, found)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"corpus: {', '.join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in paths)} "
              f"({res['records']} records)")
        print(f"{'type':<20} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>10} {'recall':>8}")
        for t, m in res["per_type"].items():
            print(f"{t:<20} {m['tp']:>5} {m['fp']:>5} {m['fn']:>5} {fmt(m['precision']):>10} {fmt(m['recall']):>8}")
        rl = res["record_level"]
        print(f"record level (high-sensitivity set): precision {fmt(rl['precision'])}  recall {fmt(rl['recall'])}  "
              f"(tp {rl['tp']}, fp {rl['fp']}, fn {rl['fn']}); exact type sets {fmt(rl['types_exact'])}")
        ok = (rl["precision"] or 0) >= TARGET and (rl["recall"] or 0) >= TARGET
        print(f"target precision and recall >= {TARGET}: {'met' if ok else 'NOT met'}")
    if args.show_errors:
        hs = set(HIGH_SENSITIVITY)
        for r, f in zip(records, found, strict=True):
            if hs & set(r["types"]) != hs & set(f):
                extra = f"  {r['text']!r}" if args.show_text else ""
                print(f"  {r['id']}: labeled {sorted(hs & set(r['types']))} found {sorted(hs & set(f))}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
