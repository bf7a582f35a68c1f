"""The portable subset of `sql/`: the statements that scan raw request rows, written once in DuckDB's
dialect and transpiled to Spark SQL with sqlglot (pinned) for `planner run --engine spark`.

Three pieces (design and evidence: docs/spark.md):

- `PlannerSpark`: sqlglot's Spark dialect plus the overrides our SQL needs, each keeping DuckDB's
  meaning: exact `quantile_cont` (PERCENTILE), boundary-counting `date_diff`, fractional `epoch`,
  `CAST(ts AS TIME)` as microseconds of the day, and `hash(...)` as a null-safe `xxhash64` (Spark's
  hash functions skip NULL arguments, so `hash(NULL, 'x')` would equal `hash('x', NULL)`).
- `Macros` + `to_spark(sql, macros)`: DuckDB macros (`planner_workload`, `planner_segment_id`, ...) do
  not exist on Spark; their bodies are inlined into the statement before it is generated.
- `lint(sql)`: an AST walk that rejects the constructs which fail on Spark or change meaning there
  (`python -m planner.sqllint` runs it over every raw-row file; tens of milliseconds, no JVM).

Statements may be wrapped in `CREATE [TEMP] TABLE x AS`, `CREATE VIEW x AS` or `INSERT INTO t [BY NAME]`:
the runner performs that part (a DuckDB temp table, a cached Spark view, an Arrow append), so the files
stay exactly what the DuckDB path executes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp

SQLGLOT_VERSION = "30.30.0"   # pinned: review the goldens in tests/spark_golden/ on every bump

# Every sql/ file whose statements read per-request rows (directly or through usage_enriched).
# (stages/price_keys is not one: it reads the usage_keys ledger kept at ingest; on Spark the keys come
# from stages/spark_day_keys.) They run
# on Spark under `--engine spark` and must stay inside the portable subset (`python -m planner.sqllint`).
RAW_ROW_FILES: tuple[str, ...] = (
    "views/20_intermediate/usage_enriched",
    "stages/segment_macros",
    "stages/segment_fingerprints",
    "stages/segment_rows",
    "stages/segment_hours",
    "stages/segment_grid",
    "stages/segment_sessions",
    "stages/segment_keys",
    "stages/segment_days_insert",
    "stages/segment_hist_insert",
    "stages/sensitivity_summary",
    "stages/spark_days",
    "stages/spark_day_keys",
    "stages/spark_promoted",
    "stages/spark_template_days",
    "stages/spark_usage_rollup",
    "checks/check_usage__unique_event",
    "checks/check_usage__token_subsets",
)

# Tables that exist only in the DuckDB file. A UNION branch reading nothing else is dropped on Spark:
# `usage_rollup` holds the rollups Spark itself sends back, so the scan never reads it.
LOCAL_ONLY_TABLES = frozenset({"usage_rollup"})

# functions sqlglot passes through by name that Spark has with the same meaning
SPARK_SAME_NAME = frozenset({"HASH", "CARDINALITY", "MAP_ENTRIES"})
# DuckDB list functions sqlglot does not map -> their Spark names (the planner dialect renames them)
_LIST_FUNCTIONS = {"LIST_INTERSECT": "ARRAY_INTERSECT"}


class PortabilityError(Exception):
    """A statement is outside the portable subset (the message says which construct and why)."""


# ---------------------------------------------------------------- the planner dialect

def _dialect() -> Any:
    return _planner_spark()


@cache
def _planner_spark() -> Any:
    import sqlglot
    from sqlglot import exp
    from sqlglot.dialects.spark import Spark

    if sqlglot.__version__ != SQLGLOT_VERSION:
        import warnings

        warnings.warn(f"sqlglot {sqlglot.__version__} is installed, planner is tested with {SQLGLOT_VERSION}; "
                      "review the Spark SQL it generates (python -m planner.sqllint)", stacklevel=2)

    def percentile_cont(self: Any, e: exp.PercentileCont) -> str:
        # DuckDB quantile_cont(x, p) is exact and interpolating, as Spark's PERCENTILE(x, p); sqlglot emits
        # PERCENTILE_CONT(x, p), which Spark rejects ("requires 1 parameters")
        if isinstance(e.parent, exp.WithinGroup):
            self.unsupported("percentile_cont WITHIN GROUP: use quantile_cont(x, p)")
        return self.func("PERCENTILE", e.this, e.expression)

    def date_diff(self: Any, e: exp.DateDiff) -> str:
        # DuckDB counts unit boundaries crossed, Spark whole units elapsed: truncate both sides first
        unit = e.text("unit").upper() or "DAY"
        start, end = e.expression, e.this
        if e.args.get("date_part_boundary"):
            start = exp.TimestampTrunc(this=start.copy(), unit=exp.var(unit))
            end = exp.TimestampTrunc(this=end.copy(), unit=exp.var(unit))
        return f"TIMESTAMPDIFF({unit}, {self.sql(start)}, {self.sql(end)})"

    def epoch(self: Any, e: exp.TimeToUnix) -> str:
        # DuckDB epoch(ts) keeps fractional seconds; UNIX_TIMESTAMP drops them
        return f"(UNIX_MICROS({self.sql(e.this)}) / 1000000.0)"

    def anonymous(self: Any, e: exp.Anonymous) -> str:
        if e.name.upper() in _LIST_FUNCTIONS:
            return self.func(_LIST_FUNCTIONS[e.name.upper()], *e.expressions)
        if e.name.upper() == "HASH":
            # Spark's hashes skip NULL arguments; the null mask after the values makes the key null-safe
            args = [self.sql(a) for a in e.expressions]
            mask = [f"ISNULL({a})" for a in args]
            return f"XXHASH64({', '.join(args + mask)})"
        return self.anonymous_sql(e)

    def cast(self: Any, e: exp.Cast) -> str:
        to = e.to
        if to.this == exp.DataType.Type.TIME:
            # Spark has no TIME before 4.1: a time of day is its microseconds since midnight (BIGINT);
            # the runner binds TIME columns (prices.daily_from/daily_to) the same way
            v = self.sql(e.this)
            return f"(UNIX_MICROS(CAST({v} AS TIMESTAMP)) - UNIX_MICROS(DATE_TRUNC('DAY', CAST({v} AS TIMESTAMP))))"
        raise AssertionError("time casts only")

    def length(self: Any, e: exp.Length) -> str:
        # DuckDB len() of a list is its size; sqlglot emits LENGTH, which Spark reads as a string length
        arg = e.this
        if isinstance(arg, exp.Anonymous) and arg.name.upper() in _LIST_FUNCTIONS:
            return self.func("SIZE", arg)
        return self.func("LENGTH", arg)

    def div(self: Any, e: exp.Div) -> str:
        # DuckDB's `/` is always floating division (DOUBLE, also for DECIMAL operands); Spark divides
        # DECIMALs as DECIMAL, rounded to 6 places: make the numerator DOUBLE, as DuckDB does
        num = e.this
        if not (isinstance(num, exp.Cast) and num.to.this == exp.DataType.Type.DOUBLE):
            num = exp.Cast(this=num.copy(), to=exp.DataType.build("DOUBLE"))
        return f"{self.sql(num)} / {self.sql(e.expression)}"

    class PlannerSpark(Spark):
        class Generator(Spark.Generator):
            TRANSFORMS = {
                **Spark.Generator.TRANSFORMS,
                exp.PercentileCont: percentile_cont,
                exp.DateDiff: date_diff,
                exp.TimeToUnix: epoch,
                exp.Anonymous: anonymous,
                exp.Div: div,
                exp.Length: length,
            }

            def cast_sql(self, expression: exp.Cast, safe_prefix: str | None = None) -> str:
                if safe_prefix is None and expression.to.this == exp.DataType.Type.TIME:
                    return cast(self, expression)
                return super().cast_sql(expression, safe_prefix)

    return PlannerSpark


# ---------------------------------------------------------------- macros

@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: Any  # sqlglot expression


@dataclass
class Macros:
    """DuckDB macro definitions, by lower-case name, to inline into Spark statements."""

    defs: dict[str, Macro] = field(default_factory=dict)

    def add_sql(self, text: str) -> Macros:
        """Every `CREATE [OR REPLACE] [TEMP] MACRO name(params) AS expr` in `text` (other statements ignored).
        The body is parsed as an expression (sqlglot reads `AS 'text' || ...` as a string-bodied function)."""
        import sqlglot

        for chunk in _split_sql(text):
            m = _MACRO_RE.match(_strip_comments(chunk))
            if not m:
                continue
            name = m.group("name").lower()
            params = tuple(p.strip().lower() for p in m.group("params").split(",") if p.strip())
            body = sqlglot.parse_one("SELECT " + m.group("body"), read="duckdb").expressions[0]
            self.defs[name] = Macro(name, params, body)
        return self

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.defs


_MACRO_RE = re.compile(
    r"\s*create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?macro\s+(?P<name>\w+)\s*"
    r"\((?P<params>[^)]*)\)\s+as\s+(?P<body>.*)$", re.I | re.S)


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def _simple(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Column | exp.Literal | exp.Func | exp.Paren | exp.Null | exp.Boolean | exp.Dot
                      | exp.Cast)


def inline_macros(tree: Any, macros: Macros, *, depth: int = 0) -> Any:
    """Replace every call of a known macro by its body, arguments substituted (recursively)."""
    from sqlglot import exp

    if depth > 20:
        raise PortabilityError("macro expansion does not terminate (a macro calls itself?)")
    changed = False

    def expand(node: Any) -> Any:
        nonlocal changed
        if not isinstance(node, exp.Anonymous) or node.name.lower() not in macros.defs:
            return node
        macro = macros.defs[node.name.lower()]
        args = list(node.expressions)
        if len(args) != len(macro.params):
            raise PortabilityError(f"macro {macro.name} takes {len(macro.params)} arguments, got {len(args)}")
        bound = {p: (a if _simple(a) else exp.Paren(this=a)) for p, a in zip(macro.params, args, strict=True)}
        lambda_vars = {i.name.lower() for lam in macro.body.find_all(exp.Lambda) for i in lam.expressions}

        def subst(n: Any) -> Any:
            if (isinstance(n, exp.Column) and not n.table and n.name.lower() in bound
                    and n.name.lower() not in lambda_vars):
                return bound[n.name.lower()].copy()
            return n

        changed = True
        body = macro.body.copy().transform(subst)
        return body if _simple(body) else exp.Paren(this=body)

    out = tree.transform(expand)
    return inline_macros(out, macros, depth=depth + 1) if changed else out


# ---------------------------------------------------------------- statements

@dataclass(frozen=True)
class Statement:
    """One portable statement: the SELECT to run, and what the runner does with its result."""

    action: str            # select | create_table | create_view | insert
    target: str | None     # the table or view written (None for a bare SELECT)
    query: Any             # sqlglot expression of the SELECT
    by_name: bool = False  # INSERT ... BY NAME

    def duckdb(self) -> str:
        return self.query.sql(dialect="duckdb")


def split_statement(tree: Any) -> Statement:
    """The SELECT inside a statement and the DDL/DML wrapped around it."""
    from sqlglot import exp

    if isinstance(tree, exp.Query):
        return Statement("select", None, tree)
    if isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Query):
        kind = str(tree.args.get("kind", "")).upper()
        name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.sql()
        if kind == "TABLE":
            return Statement("create_table", name, tree.expression)
        if kind == "VIEW":
            return Statement("create_view", name, tree.expression)
    if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Query) and not tree.args.get("overwrite"):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        by_name = bool(tree.args.get("by_name")) or "BY NAME" in tree.sql("duckdb").upper().split("SELECT")[0]
        return Statement("insert", target.name, tree.expression, by_name)
    raise PortabilityError(f"only SELECT (optionally inside CREATE TABLE/VIEW ... AS or INSERT INTO ... SELECT) is "
                           f"portable, got {type(tree).__name__}")


def parse(sql: str, flags: Mapping[str, bool] | None = None) -> list[Any]:
    """DuckDB-dialect statements of a file; `$flag` booleans spliced in first (as planner.segment does)."""
    import sqlglot

    for name, value in (flags or {}).items():
        sql = sql.replace(f"${name}", "TRUE" if value else "FALSE")
    return [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]


def _drop_local_branches(query: Any) -> Any:
    from sqlglot import exp

    def reads_only_local(q: Any) -> bool:
        names = {t.name.lower() for t in q.find_all(exp.Table)}
        return bool(names) and names <= LOCAL_ONLY_TABLES

    def prune(node: Any) -> Any:
        if isinstance(node, exp.Union):
            left, right = node.this, node.expression
            kept = left if reads_only_local(right) else right if reads_only_local(left) else None
            if kept is not None:
                kept = kept.copy()
                for key in ("with_", "with"):  # the CTEs of `with ... select ... union ...` (key per sqlglot)
                    if node.args.get(key) is not None:
                        kept.set(key, node.args[key].copy())
                return kept
        return node

    return query.transform(prune)


def to_spark_query(query: Any, macros: Macros | None = None, *, pretty: bool = False) -> str:
    """Spark SQL for one SELECT (sqlglot expression): macros inlined, local-only branches dropped."""
    from sqlglot.errors import ErrorLevel

    q = _drop_local_branches(query.copy())
    if macros is not None:
        q = inline_macros(q, macros)
    return str(q.sql(dialect=_dialect(), unsupported_level=ErrorLevel.RAISE, pretty=pretty))


def to_spark(sql: str, macros: Macros | None = None, *, flags: Mapping[str, bool] | None = None,
             pretty: bool = False) -> list[tuple[Statement, str]]:
    """Each statement of `sql` with the Spark SQL of its SELECT."""
    out = []
    for tree in parse(sql, flags):
        st = split_statement(tree)
        out.append((st, to_spark_query(st.query, macros, pretty=pretty)))
    return out


# ---------------------------------------------------------------- lint

def _banned_nodes() -> dict[type, str]:
    from sqlglot import exp

    return {
        exp.WithinGroup: "ordered-set aggregate (percentile_cont WITHIN GROUP) becomes PERCENTILE_APPROX on Spark; "
                         "use quantile_cont(x, p)",
        exp.PercentileDisc: "quantile_disc has no working Spark mapping",
        exp.Quantile: "DuckDB quantile() is discrete but maps to Spark PERCENTILE (continuous); use quantile_cont",
        exp.ApproxQuantile: "approximate quantiles differ by engine (t-digest vs GK); use a log-bucket histogram",
        exp.DayOfWeek: "dayofweek is 0 = Sunday in DuckDB, 1 = Sunday in Spark; use isodow",
        exp.DateBin: "time_bucket has no Spark equivalent; use date_trunc",
        exp.Bracket: "list/string/map indexing differs (ANSI out-of-bounds errors, 0- vs 1-based); use "
                     "element_at-free forms: array_length, list_filter, map_entries",
        exp.Pivot: "PIVOT syntax is DuckDB-specific",
        exp.Hll: "engine-specific sketch",
        exp.UnixToTime: "epoch_ms()/to_timestamp(n) map to the wrong Spark function; use epoch(ts)",
        exp.RegexpFullMatch: "regexp_full_match has no Spark mapping; anchor with ^...$ in regexp_matches",
        exp.GenerateSeries: "range()/generate_series() do not transpile; let the runner provide a calendar table",
        exp.JSONExtract: "JSON is parsed by the loader: malformed JSON raises in DuckDB, gives NULL in Spark",
        exp.JSONExtractScalar: "JSON is parsed by the loader: malformed JSON raises in DuckDB, gives NULL in Spark",
        exp.TableSample: "USING SAMPLE / TABLESAMPLE is not deterministic",
        exp.GroupConcat: "string_agg: order and size semantics differ, and it cannot spill in DuckDB",
        exp.ArrayAgg: "list()/array_agg: element order is not defined on Spark and lists cannot spill; aggregate to "
                      "counts",
        exp.CurrentTimestamp: "now()/current_timestamp: pass the time as a $parameter",
        exp.CurrentDate: "current_date: pass the date as a $parameter",
        exp.Rand: "random() is not deterministic",
    }


# anonymous functions (sqlglot does not know them: passed through by name) that are known not to exist or
# to mean something else on Spark
_BANNED_ANONYMOUS = {
    "HISTOGRAM": "histogram() is DuckDB-only; GROUP BY the bucket",
    "REGEXP_FULL_MATCH": "anchor the pattern with ^...$ in regexp_matches",
    "STRUCT_PACK": "use a struct literal {'k': v}",
    "READ_PARQUET": "read files through the runner's logical tables, never by path",
    "READ_CSV": "read files through the runner's logical tables, never by path",
    "READ_JSON": "read files through the runner's logical tables, never by path",
    "EPOCH_MS": "epoch_ms maps to the wrong Spark overload; use epoch(ts)",
    "NOW": "now(): pass the time as a $parameter",
    "UUID": "not deterministic",
    "GEN_RANDOM_UUID": "not deterministic",
}


def _is_guarded_denominator(den: Any) -> bool:
    from sqlglot import exp

    while isinstance(den, exp.Paren):
        den = den.this
    if isinstance(den, exp.Nullif):
        return True
    if isinstance(den, exp.Literal) and not den.is_string:
        return float(den.this) != 0
    if isinstance(den, exp.Greatest):
        # greatest(x, c) with a positive literal c is never 0 (NULL only when every argument is NULL)
        return any(isinstance(a, exp.Literal) and not a.is_string and float(a.this) > 0
                   for a in [den.this, *den.expressions])
    return False


def lint_tree(tree: Any, macros: Macros | None = None) -> list[str]:
    """Problems of one parsed statement (empty: portable)."""
    from sqlglot import exp

    problems: list[str] = []
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO":
        body = tree.expression
        return [f"macro {tree.this.this.name}: {p}" for p in lint_tree(exp.select(body), macros)]
    try:
        st = split_statement(tree)
    except PortabilityError as exc:
        return [str(exc)]
    banned = _banned_nodes()
    for node in st.query.walk():
        why = banned.get(type(node))
        if why:
            problems.append(f"{type(node).__name__}: {why}")
        if isinstance(node, exp.Anonymous):
            name = node.name.upper()
            if name in _BANNED_ANONYMOUS:
                problems.append(f"{node.name}(): {_BANNED_ANONYMOUS[name]}")
            elif macros is None or node.name.lower() not in macros:
                if name not in SPARK_SAME_NAME and name not in _LIST_FUNCTIONS:
                    problems.append(f"{node.name}(): unknown to sqlglot, passed to Spark by name unchecked "
                                    "(use a function sqlglot maps, or a macro)")
        if isinstance(node, exp.RegexpReplace):
            mods = node.args.get("modifiers")
            if "g" not in (mods.name if mods else ""):
                problems.append("regexp_replace without 'g' replaces the first match in DuckDB, every match in Spark: "
                                "pass 'g'")
        if isinstance(node, exp.RegexpLike) and node.args.get("flag"):
            problems.append("regexp flags argument is dropped for Spark: use an inline flag such as (?i)")
        if isinstance(node, exp.Div) and not _is_guarded_denominator(node.expression):
            problems.append(f"division without a guard: '{node.sql('duckdb')[:70]}' (x / nullif(d, 0): DuckDB gives "
                            "inf or NULL, Spark in ANSI mode raises)")
        if isinstance(node, exp.IntDiv) and not _is_guarded_denominator(node.expression):
            problems.append(f"integer division without a guard: '{node.sql('duckdb')[:70]}'")
        if isinstance(node, exp.Join) and "ASOF" in (node.text("method") + " " + node.text("kind")).upper():
            problems.append("ASOF JOIN is DuckDB-specific")
        if isinstance(node, exp.Union) and node.args.get("by_name"):
            local = {t.name.lower() for t in node.expression.find_all(exp.Table)}
            if not (local and local <= LOCAL_ONLY_TABLES):
                problems.append("UNION BY NAME is DuckDB-specific (allowed only for a branch reading local-only "
                                "tables, which Spark drops)")
        if isinstance(node, exp.Columns if hasattr(exp, "Columns") else ()):
            problems.append("COLUMNS(...) is DuckDB-specific")
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func | exp.Anonymous):
            problems.append(f"table function {node.this.sql('duckdb')[:40]}: use a logical table")
        if isinstance(node, exp.Literal) and node.is_string and re.search(r"\.(parquet|csv|json)l?\b", node.this):
            problems.append(f"file path literal {node.this!r}: read through the runner's logical tables")
    try:
        to_spark_query(st.query, macros)
    except Exception as exc:  # sqlglot's own UnsupportedError and ours
        problems.append(f"transpile to Spark: {str(exc).splitlines()[0][:200]}")
    return problems


def lint(sql: str, macros: Macros | None = None, *, flags: Mapping[str, bool] | None = None) -> list[str]:
    """Portability problems of every statement in `sql` (empty list: portable)."""
    import sqlglot

    try:
        trees = parse(sql, flags)
    except sqlglot.errors.ParseError as exc:
        return [f"sqlglot cannot parse it: {str(exc).splitlines()[0][:200]}"]
    out: list[str] = []
    for tree in trees:
        out.extend(lint_tree(tree, macros))
    return out


def flags_of(sql: str) -> dict[str, bool]:
    """`$name` booleans the stage splices in (planner.segment._flag): TRUE for linting and goldens."""
    return dict.fromkeys(re.findall(r"\$(full)\b", sql), True)


def default_macros(extra: Iterable[str] = ()) -> Macros:
    """The macros of migrations and stage files, plus generated ones (e.g. the workload macro)."""
    from planner.db import load_sql, migration_files

    macros = Macros()
    for _name, text in migration_files():
        if "macro" in text.lower():
            macros.add_sql(text)
    macros.add_sql(load_sql("stages/segment_macros"))
    for text in extra:
        macros.add_sql(text)
    return macros


def _split_sql(text: str) -> list[str]:
    """Statements of a SQL file, split on semicolons outside quotes and comments."""
    out, buf, quote, i = [], [], None, 0
    while i < len(text):
        c = text[i]
        if quote:
            buf.append(c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            buf.append(c)
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = len(text) if j < 0 else j
            buf.append(text[i:j])
            i = j
            continue
        elif c == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    if "".join(buf).strip():
        out.append("".join(buf))
    return [s for s in out if s.strip()]
