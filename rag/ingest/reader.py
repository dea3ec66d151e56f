"""Reading one article file: checks, the format's reader, metadata, title.

Bad files raise `InputError` with one line that names the file and the problem; the caller
skips them and counts them. Which reader reads which file is `formats.py`'s table; nothing here
knows about chunks, vectors or the index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.ingest.formats import SUPPORTED_SUFFIXES, reader_for
from rag.ingest.base import read_sidecar, sidecar_path
from rag.ingest.mapped import MappedText
from rag.inputs import size_text
from rag.text import VERSION as TEXT_VERSION

__all__ = ["Article", "SUPPORTED_SUFFIXES", "content_hash", "read_article", "read_bytes_checked"]


@dataclass(frozen=True)
class Article:
    """A cleaned article: `clean.text` is what gets chunked, `clean.offsets` map it to `raw`.

    `raw` is the file's text, or for binary formats (PDF, Word) the reader's deterministic
    extraction; `pages` is the page count when `raw` is paged ("\f" between pages), else None.
    """

    path: Path
    raw: str
    clean: MappedText
    title: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: int | None = None
    warnings: tuple[str, ...] = ()


def content_hash(path: Path, data: bytes) -> str:
    """sha256 of the file's bytes, its metadata sidecar, if any (a new title re-ingests), for
    extracted formats the extractor's version (a new pypdf re-extracts), and the version of
    sentence splitting and term analysis (rag/text: a new splitter re-chunks)."""
    h = hashlib.sha256(data)
    h.update(b"\x00text\x00" + TEXT_VERSION.encode())
    meta = sidecar_path(path)
    if meta.is_file():
        try:
            h.update(b"\x00meta\x00" + meta.read_bytes())
        except OSError as e:  # a skipped file, as read_sidecar says it, not a traceback
            raise InputError(f"{meta}: unreadable metadata sidecar: {e.strerror or e}") from None
    version = reader_for(path).version
    if version:
        h.update(b"\x00reader\x00" + version.encode())
    return h.hexdigest()


def read_bytes_checked(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or InputError for an unsupported type, a missing or too large file."""
    reader_for(path)  # unsupported suffix: refused before reading
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path}: file is {size_text(size)}, over the "
                             f"{size_text(max_bytes)} limit (RAG_MAX_FILE_MB)")
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read file: {e.strerror or e}") from None


def read_article(path: Path, max_bytes: int, data: bytes | None = None) -> Article:
    """`data`: the file's bytes when the caller already read them with read_bytes_checked."""
    data = read_bytes_checked(path, max_bytes) if data is None else data
    sidecar = read_sidecar(path)
    extracted = reader_for(path, sidecar).read(path, data)
    clean = extracted.clean
    if not clean.text.strip():
        raise InputError(f"{path}: no readable text after cleaning (only markup or links)")
    meta = {**extracted.metadata, **sidecar}
    meta.pop("reader", None)  # which reader read it is not the article's metadata
    # Whether citations carry pages is the reader's call, never a sidecar's.
    meta.pop("pages", None)
    if extracted.pages is not None:
        meta["pages"] = extracted.pages
    title = str(meta.pop("title", "") or "").strip() or _first_line(clean.text) or path.stem
    return Article(path=path, raw=extracted.raw, clean=clean, title=title,
                   content_hash=content_hash(path, data), metadata=meta, pages=extracted.pages,
                   warnings=extracted.warnings)


def _first_line(text: str, limit: int = 120) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"
