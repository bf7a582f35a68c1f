"""Re-encode a text export to UTF-8 with `\\n` line endings, streaming, into a temporary file.

DuckDB's readers want UTF-8 and one kind of line ending. Exports that come as UTF-16 (Excel's
"Unicode text"), Latin-1 / Windows-1252, or with mixed CRLF/LF line endings (files concatenated from
several systems) are rewritten once into a temp file; the original stays the source of record (its
sha256 is the source id, its name is in every message).
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from pathlib import Path

from planner.errors import InputError

CHUNK = 1 << 20


def sniff_encoding(head: bytes) -> str | None:
    """The encoding a text head is in, when it is not plain UTF-8; None for UTF-8 (BOM or not)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        # a multi-byte sequence may be cut at the end of the head: ignore the last 3 bytes
        head[:-3].decode("utf-8")
        return None
    except UnicodeDecodeError:
        return _single_byte(head)


def _single_byte(head: bytes) -> str:
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def mixed_newlines(head: bytes) -> bool:
    """CRLF and bare LF (or bare CR) in the same file."""
    crlf = head.count(b"\r\n")
    lf = head.count(b"\n") - crlf
    cr = head.count(b"\r") - crlf
    return bool(crlf and (lf or cr)) or bool(cr and lf)


def normalize(path: Path, stream_opener, encoding: str | None, workdir: Path | None = None) -> Path:
    """Write `path` (opened through `stream_opener`, which undoes gzip/zstd) as UTF-8 with LF endings.

    `encoding` None means UTF-8 (a BOM is dropped). Undecodable bytes in a file taken for UTF-8
    fall back to Windows-1252 for the rest of the file, never to silent loss.
    """
    out_dir = Path(tempfile.mkdtemp(prefix="planner-norm-", dir=workdir))
    out = out_dir / (path.name.removesuffix(".gz").removesuffix(".zst"))
    enc = encoding or "utf-8-sig"
    try:
        with stream_opener(path) as raw, out.open("w", encoding="utf-8", newline="\n") as dst:
            decoder = codecs.getincrementaldecoder(enc)(errors="strict")
            pending_cr = False
            while True:
                chunk = raw.read(CHUNK)
                final = not chunk
                try:
                    text = decoder.decode(chunk, final=final)
                except UnicodeDecodeError:
                    if enc.startswith("utf-8"):
                        # decode this chunk and the rest as Windows-1252 (never fails for text files)
                        enc = "cp1252"
                        decoder = codecs.getincrementaldecoder("latin-1")(errors="strict")
                        text = decoder.decode(chunk, final=final)
                    else:
                        raise
                if pending_cr:
                    text = "\r" + text
                    pending_cr = False
                if text.endswith("\r") and not final:
                    text, pending_cr = text[:-1], True
                dst.write(text.replace("\r\n", "\n").replace("\r", "\n"))
                if final:
                    break
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise InputError(str(path), f"cannot re-encode as UTF-8 ({encoding or 'utf-8'}): {exc}") from None
    return out


def cleanup(normalized: Path) -> None:
    if normalized.parent.name.startswith("planner-norm-"):
        shutil.rmtree(normalized.parent, ignore_errors=True)
