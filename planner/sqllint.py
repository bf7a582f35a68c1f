"""`python -m planner.sqllint`: every raw-row file of `sql/` (planner.portable.RAW_ROW_FILES) must stay in
the portable subset, i.e. run with the same meaning on DuckDB and, transpiled, on Spark. No JVM, no
database file: sqlglot only, tens of milliseconds. Exit 0 when clean, 1 with one line per problem.

`--golden DIR` also compares the Spark SQL of each file with `DIR/<file>.spark.sql` (a sqlglot bump then
shows up as a reviewable diff); `--write-golden DIR` (re)writes them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner import portable


def spark_text(name: str, macros: portable.Macros) -> str:
    """The Spark SQL of every statement of `sql/<name>.sql`, pretty-printed, one per block."""
    from planner.db import load_sql

    text = load_sql(name)
    if all(_is_macro(t) for t in portable.parse(text)):
        return "-- macros: inlined into the statements that call them\n"
    parts = [f"-- {st.action}{' ' + st.target if st.target else ''}\n{spark};"
             for st, spark in portable.to_spark(text, macros, flags=portable.flags_of(text), pretty=True)]
    return "\n\n".join(parts) + "\n"


def _is_macro(tree: object) -> bool:
    from sqlglot import exp

    return isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO"


def lint_files(names: tuple[str, ...] = portable.RAW_ROW_FILES,
               macros: portable.Macros | None = None) -> list[str]:
    """`sql/<name>.sql: problem` for every raw-row file outside the portable subset."""
    from planner.db import load_sql

    macros = macros if macros is not None else portable.default_macros()
    out = []
    for name in names:
        text = load_sql(name)
        out += [f"sql/{name}.sql: {p}" for p in portable.lint(text, macros, flags=portable.flags_of(text))]
    return out


def golden_diffs(folder: Path, macros: portable.Macros, *, write: bool = False) -> list[str]:
    out = []
    for name in portable.RAW_ROW_FILES:
        path = folder / (name.replace("/", "__") + ".spark.sql")
        text = spark_text(name, macros)
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(f"sql/{name}.sql: its Spark SQL differs from {path} (review, then --write-golden)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m planner.sqllint", description=__doc__.split("\n\n")[0])
    ap.add_argument("--golden", type=Path, help="compare the Spark SQL with the goldens in this folder")
    ap.add_argument("--write-golden", type=Path, help="write the goldens into this folder")
    ap.add_argument("--show", metavar="FILE", help="print the Spark SQL of one file (e.g. stages/segment_grid)")
    args = ap.parse_args(argv)
    macros = portable.default_macros()
    if args.show:
        print(spark_text(args.show, macros), end="")
        return 0
    problems = lint_files(macros=macros)
    if args.golden or args.write_golden:
        problems += golden_diffs(args.write_golden or args.golden, macros, write=bool(args.write_golden))
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"planner.sqllint: {len(portable.RAW_ROW_FILES)} raw-row files in the portable subset", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
