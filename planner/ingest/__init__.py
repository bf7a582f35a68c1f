"""Ingest: find files, detect their format by content, load each in its own transaction.

Every adapter module (`planner/ingest/<format>.py`) exposes the same three names:
`FORMAT`, `sniff(path, head) -> bool` and `load(con, file, options) -> LoadResult`.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from planner.db import transaction
from planner.errors import InputError, PlannerError, UsageError
from planner.faults import maybe_crash
from planner.ingest._normalize import cleanup, normalize, sniff_encoding

if TYPE_CHECKING:
    import duckdb

    from planner.config import Config

# sniffed in this order; generic last (it needs a mapping and never claims a file by itself)
ADAPTERS: dict[str, str] = {
    "openai-usage": "openai",
    "openai-costs": "openai",
    "anthropic-usage": "anthropic",
    "anthropic-cost": "anthropic",
    "litellm": "litellm",
    "bedrock": "bedrock",
    "focus": "focus",
    "openrouter": "openrouter",
    "mooncake": "mooncake",
    "generic": "generic",
}

DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".parquet", ".pq"}
COMPRESSED_SUFFIXES = {".gz": "gzip", ".zst": "zstd"}
HEAD_BYTES = 64 * 1024


@dataclass
class IngestOptions:
    """Everything an adapter needs besides the file: mapping flags, limits, the run."""

    format: str = "auto"
    mapping: dict[str, str] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    ts_unit: str | None = None
    ts_origin: str | None = None
    tz: str | None = None
    allow_any_ts: bool = False
    no_text: bool = False
    text_only: bool = False      # read every CSV column as text (set on retry after a type error)
    lenient_csv: bool = False    # keep reading past malformed CSV rows, which become rejected rows
    normalize: bool = False      # re-encode the file as UTF-8 with LF line endings before reading
    run_id: str | None = None
    min_ts: str = "2015-01-01"
    future_hours: int = 24
    raw_max_bytes: int = 1024
    fingerprint_chars: int = 200
    samples_per_group: int = 200
    config: Config | None = None

    @classmethod
    def from_config(cls, config: Config, **kwargs: Any) -> IngestOptions:
        return cls(
            min_ts=str(config.value("ingest.min_ts")),
            future_hours=int(config.value("ingest.future_hours")) if "ingest.future_hours" in config.assumptions
            else int(config.value("ingest.future_tolerance_hours")),
            raw_max_bytes=int(config.value("ingest.raw_max_bytes")),
            fingerprint_chars=int(config.value("ingest.fingerprint_chars")),
            samples_per_group=int(config.value("ingest.samples_per_group")),
            config=config,
            **kwargs,
        )

    def recorded(self) -> dict[str, Any]:
        """The options that shaped the load, as stored in `sources.options`."""
        out = {k: v for k, v in asdict(self).items()
               if k in {"format", "mapping", "sets", "ts_unit", "ts_origin", "tz", "allow_any_ts", "no_text"}}
        return {k: v for k, v in out.items() if v not in (None, {}, False)}


class Retry(Exception):
    """Load the file again (in a fresh transaction) with these option changes.

    Raised by adapters when a fast path fails on a quirk of the file: a value that does not fit a
    typed column (`text_only`), rows with too many or too few fields (`lenient_csv`), or an encoding
    or line-ending mix DuckDB cannot read (`normalize`).
    """

    def __init__(self, **changes: bool) -> None:
        super().__init__(", ".join(changes))
        self.changes = changes


class RetryAsText(Retry):
    """A typed read met a value that does not fit its column: load the file again, all as text."""

    def __init__(self) -> None:
        super().__init__(text_only=True)


@dataclass(frozen=True)
class SourceFile:
    """A file about to be loaded, with what sniffing learned about it."""

    path: Path
    source_id: str
    size: int
    compression: str | None      # gzip | zstd | None, from magic bytes
    head: bytes                  # the first decompressed bytes (as UTF-8 when the file is not)
    container: str               # csv | json | jsonl | parquet
    encoding: str | None = None  # set when the text is not UTF-8 (utf-16, cp1252, latin-1)
    mtime_ns: int = 0            # when it was hashed: a change after that fails the load
    origin: Path | None = None   # the file as given, when `path` is a normalised copy of it

    @property
    def label(self) -> str:
        return str(self.origin or self.path)


@dataclass
class LoadResult:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    first_error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class FileResult:
    path: str
    format: str | None
    source_id: str | None
    status: str                 # loaded | skipped | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    error: str | None = None
    first_error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("path", "format", "source_id", "status", "rows_read", "rows_loaded",
                                              "rows_rejected", "rows_duplicate", "error")}


COUNTERS = ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate")


def summary_json(results: list[FileResult]) -> dict[str, Any]:
    """DESIGN §6.1: files and totals."""
    totals = {c: sum(getattr(r, c) for r in results) for c in COUNTERS}
    totals.update({s: sum(1 for r in results if r.status == s) for s in ("loaded", "skipped", "failed")})
    return {"files": [r.as_json() for r in results], "totals": totals}


# ---------------------------------------------------------------- adapters

def adapter(name: str) -> ModuleType:
    if name not in ADAPTERS:
        raise UsageError(f"unknown format {name!r}", hint=f"formats: auto, {', '.join(ADAPTERS)}")
    module = importlib.import_module(f"planner.ingest.{ADAPTERS[name]}")
    return module


def _adapter_for(module: ModuleType, name: str) -> Any:
    """Modules that serve several formats expose `ADAPTERS = {format: object with sniff/load}`."""
    sub = getattr(module, "ADAPTERS", None)
    return sub[name] if sub else module


def detect_format(file: SourceFile) -> str:
    tried = []
    for name, modname in ADAPTERS.items():
        if name == "generic":
            continue
        try:
            module = importlib.import_module(f"planner.ingest.{modname}")
        except ModuleNotFoundError:
            continue
        tried.append(name)
        if _adapter_for(module, name).sniff(file.path, file.head, file.container):
            return name
    raise InputError(
        file.label, f"format not recognised (tried {', '.join(tried)})",
        hint="pass --format NAME, or --format generic with --map FIELD=COLUMN for any other CSV/JSON/Parquet log",
    )


# ---------------------------------------------------------------- files

def _magic_compression(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def _decompressed_head(path: Path, compression: str | None) -> bytes:
    try:
        if compression == "gzip":
            with gzip.open(path, "rb") as f:
                return f.read(HEAD_BYTES)
        if compression == "zstd":
            import zstandard

            with path.open("rb") as raw:
                reader = zstandard.ZstdDecompressor().stream_reader(raw)
                return reader.read(HEAD_BYTES)
    except (OSError, EOFError, Exception) as exc:  # a truncated or corrupt archive
        raise InputError(str(path), f"cannot decompress ({compression}): {exc}") from None
    with path.open("rb") as f:
        return f.read(HEAD_BYTES)


def _container(path: Path, head: bytes) -> str:
    """csv | json | jsonl | parquet, by content (the extension only breaks ties)."""
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        # one JSON document (a page) or one object per line
        first_line = text.split(b"\n", 1)[0].strip()
        try:
            json.loads(first_line)
            rest = text[len(first_line):].strip()
            return "jsonl" if rest.startswith(b"{") or not rest else "json"
        except ValueError:
            return "json"
    return "csv"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def inspect(path: Path) -> SourceFile:
    try:
        st = path.stat()
        size = st.st_size
        with path.open("rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise InputError(str(path), "empty file")
    compression = _magic_compression(magic)
    head = _decompressed_head(path, compression)
    encoding = None if head[:4] == b"PAR1" else sniff_encoding(head)
    if head[:4] != b"PAR1" and encoding != "utf-16" and b"\x00" in head:
        raise InputError(str(path), "binary content, not a text export (and not Parquet, gzip or zstd)")
    if encoding:
        head = head.decode(encoding, errors="replace").encode("utf-8")
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise InputError(str(path), "empty file")
    return SourceFile(path=path, source_id=sha256_file(path), size=size, compression=compression, head=head,
                      container=_container(path, head), encoding=encoding, mtime_ns=st.st_mtime_ns)


def _normalized(file: SourceFile) -> SourceFile:
    """A copy of `file` re-encoded as UTF-8 with LF line endings (see _normalize)."""
    copy = normalize(file.path, open_text, file.encoding)
    return replace(file, path=copy, compression=None, origin=file.path)


def walk(paths: Iterable[Path], *, root: Path | None = None) -> tuple[list[Path], list[str]]:
    """Files to load, in a stable order, and warnings for what was passed over.

    Folders are walked recursively (following links, never twice into the same folder); inside a
    folder only data-looking files are taken (csv, tsv, txt, json, jsonl, ndjson, parquet, + .gz/.zst)
    and hidden files are skipped. With `root`, anything resolving outside it is refused.
    """
    files: list[Path] = []
    warnings: list[str] = []
    seen_dirs: set[str] = set()
    root_real = os.path.realpath(root) if root else None

    def outside(p: str) -> bool:
        return root_real is not None and os.path.commonpath([root_real, os.path.realpath(p)]) != root_real

    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
        if p.is_file():
            files.append(p)
            continue
        for dirpath, dirnames, filenames in os.walk(p, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen_dirs:
                warnings.append(f"{dirpath}: folder reached twice through links; not walked again")
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            if outside(dirpath):
                warnings.append(f"{dirpath}: links outside the export folder; skipped")
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = Path(dirpath) / name
                stem = name
                for suffix in COMPRESSED_SUFFIXES:
                    stem = stem.removesuffix(suffix)
                if Path(stem).suffix.lower() not in DATA_SUFFIXES:
                    continue
                if outside(str(full)):
                    warnings.append(f"{full}: links outside the export folder; skipped")
                    continue
                if not full.is_file():
                    warnings.append(f"{full}: not a regular file (broken link?); skipped")
                    continue
                files.append(full)
    unique = list(dict.fromkeys(files))
    return unique, warnings


# ---------------------------------------------------------------- loading

_DISK_FULL = ("No space left on device", "File too large", "Disk quota exceeded", "could not write all bytes")


def _unchanged_since_hashed(file: SourceFile) -> None:
    """A file that grew or was rewritten while we read it would not match its source id."""
    try:
        st = file.path.stat()
    except OSError as exc:
        raise InputError(file.label, f"vanished while being read: {exc.strerror or exc}") from None
    if (st.st_size, st.st_mtime_ns) != (file.size, file.mtime_ns):
        raise InputError(file.label, "changed while being read; loaded nothing from it (retry once it is complete)")


def _already_loaded(con: duckdb.DuckDBPyConnection, source_id: str) -> bool:
    row = con.execute("SELECT 1 FROM sources WHERE source_id = ? AND status = 'loaded'", [source_id]).fetchone()
    return row is not None


def _record_source(con: duckdb.DuckDBPyConnection, file: SourceFile, fmt: str | None, result: FileResult,
                   options: IngestOptions) -> None:
    con.execute(
        "INSERT OR REPLACE INTO sources (source_id, path, format, bytes, rows_read, rows_loaded, rows_rejected, "
        "rows_duplicate, options, ingested_at, run_id, status, error, mtime_ns) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
        [file.source_id, str(file.origin or file.path), fmt, file.size, result.rows_read, result.rows_loaded,
         result.rows_rejected, result.rows_duplicate, json.dumps(options.recorded(), sort_keys=True),
         options.run_id, result.status, result.error, file.mtime_ns],
    )


def load_file(con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions) -> FileResult:
    """Load one file in its own transaction. Parse failures roll back and are returned, not raised."""
    try:
        file = inspect(path)
    except InputError as exc:
        return FileResult(path=str(path), format=None, source_id=None, status="failed", error=str(exc))
    if _already_loaded(con, file.source_id):
        return FileResult(path=str(path), format=None, source_id=file.source_id, status="skipped")
    fmt = options.format
    try:
        if fmt == "auto":
            fmt = "generic" if options.mapping else detect_format(file)
        module = adapter(fmt)
        impl = _adapter_for(module, fmt)

        def load_once(opts: IngestOptions) -> FileResult:
            target = _normalized(file) if (opts.normalize or file.encoding) and file.container != "parquet" else file
            try:
                with transaction(con):  # the rows and the sources row commit together, or not at all
                    loaded: LoadResult = impl.load(con, target, opts)
                    if file.encoding:
                        loaded.warnings.append(f"not UTF-8: read as {file.encoding}")
                    elif opts.normalize:
                        loaded.warnings.append("mixed line endings or stray bytes: re-read as UTF-8 with LF endings")
                    if loaded.rows_read == 0:
                        loaded.warnings.append("no records (a header only?)")
                    result = FileResult(
                        path=str(path), format=fmt, source_id=file.source_id, status="loaded",
                        rows_read=loaded.rows_read, rows_loaded=loaded.rows_loaded,
                        rows_rejected=loaded.rows_rejected, rows_duplicate=loaded.rows_duplicate,
                        first_error=loaded.first_error, warnings=loaded.warnings,
                    )
                    _unchanged_since_hashed(file if file.origin is None else replace(file, path=file.origin))
                    _record_source(con, file, fmt, result, opts)
                    maybe_crash("ingest")  # crash tests: rows staged, transaction not committed
            finally:
                if target is not file:
                    cleanup(target.path)
            return result

        for _attempt in range(4):
            try:
                result = load_once(options)
                break
            except Retry as retry:
                options = replace(options, **retry.changes)
        else:
            raise InputError(str(path), "cannot be read even after re-encoding and lenient parsing")
        return result
    except UsageError as exc:
        if isinstance(exc, InputError):
            error = f"{exc}; {exc.hint}" if exc.hint else str(exc)
            return FileResult(path=str(path), format=fmt if fmt != "auto" else None, source_id=file.source_id,
                              status="failed", error=error)
        raise
    except PlannerError:
        raise
    except Exception as exc:  # a reader error from DuckDB: the file cannot be parsed at all
        import duckdb

        text = str(exc)
        if any(m in text for m in _DISK_FULL):
            raise UsageError(f"cannot write the database: {text.splitlines()[0][:200]}",
                             hint="free disk space (the database is as it was before this file), then run again") from None
        if isinstance(exc, duckdb.Error):
            message = " ".join(str(exc).split())[:300]
            return FileResult(path=str(path), format=fmt if fmt != "auto" else None, source_id=file.source_id,
                              status="failed", error=f"{path}: cannot parse: {message}")
        raise


def seen_files(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, str]]:
    """path → (bytes, mtime_ns, source_id) of every loaded file."""
    rows = con.execute("SELECT path, bytes, mtime_ns, source_id FROM sources WHERE status = 'loaded' "
                       "AND mtime_ns IS NOT NULL").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: list[Path], options: IngestOptions,
                 on_file: Callable[[int, int, FileResult], None] | None = None,
                 root: Path | None = None,
                 options_for: Callable[[Path], IngestOptions] | None = None,
                 quick_skip: bool = False) -> tuple[list[FileResult], list[str]]:
    """Load every file under `paths`. `options_for` picks per-file options (the nightly job's
    [[sources]] mappings); `quick_skip` passes over files already loaded with the same path, size
    and mtime without hashing them (cost grows with new files, not with history)."""
    files, warnings = walk(paths, root=root)
    seen = seen_files(con) if quick_skip else {}
    results: list[FileResult] = []
    for i, path in enumerate(files, 1):
        known = seen.get(str(path))
        if known is not None:
            try:
                st = path.stat()
                if (st.st_size, st.st_mtime_ns) == known[:2]:
                    result = FileResult(path=str(path), format=None, source_id=known[2], status="skipped")
                    results.append(result)
                    if on_file:
                        on_file(i, len(files), result)
                    continue
            except OSError:
                pass
        result = load_file(con, path, options_for(path) if options_for else options)
        results.append(result)
        if on_file:
            on_file(i, len(files), result)
    return results, warnings


def open_text(path: Path) -> io.BufferedReader:
    """A binary stream of the decompressed file (for adapters that must look at raw bytes)."""
    with path.open("rb") as f:
        magic = f.read(4)
    if _magic_compression(magic) == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if _magic_compression(magic) == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"))  # type: ignore[return-value]
    return path.open("rb")
