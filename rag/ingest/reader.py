"""Reading one article file: checks, decoding, extraction, cleaning, metadata.

Bad files raise `InputError` with one line that names the file and the problem; the caller
skips them and counts them. Nothing here knows about chunks, vectors or the index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.ingest.clean import clean_paragraphs
from rag.ingest.html import extract_html
from rag.ingest.mapped import MappedText
from rag.ingest.markdown import extract_markdown

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


@dataclass(frozen=True)
class Article:
    """A cleaned article: `text` is what gets chunked, `offsets` maps it to `raw`."""

    path: Path
    raw: str
    clean: MappedText
    title: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)


def content_hash(path: Path, data: bytes) -> str:
    """sha256 of the file's bytes and of its metadata sidecar, if any: a new title re-ingests."""
    h = hashlib.sha256(data)
    meta = sidecar_path(path)
    if meta.is_file():
        h.update(b"\x00meta\x00" + meta.read_bytes())
    return h.hexdigest()


def read_bytes_checked(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or InputError for anything that is not a usable text article."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                         f"use one of {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path}: file is {size / 1e6:.1f} MB, over the "
                             f"{max_bytes / 1e6:.1f} MB limit (RAG_MAX_FILE_MB)")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read file: {e.strerror or e}") from None
    if b"\x00" in data[:65536]:
        raise InputError(f"{path}: binary file (contains NUL bytes), not a text article")
    return data


def decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r}); "
                         "convert it to UTF-8 first") from None
    if not text.strip():
        raise InputError(f"{path}: empty file, nothing to index")
    return text


def read_article(path: Path, max_bytes: int, data: bytes | None = None) -> Article:
    """`data`: the file's bytes when the caller already read them with read_bytes_checked."""
    data = read_bytes_checked(path, max_bytes) if data is None else data
    raw = decode(path, data)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        extracted, meta = extract_html(raw)
    elif suffix in (".md", ".markdown"):
        extracted, meta = extract_markdown(raw)
    else:
        extracted, meta = MappedText.identity(raw), {}
    clean = clean_paragraphs(extracted)
    if not clean.text.strip():
        raise InputError(f"{path}: no readable text after cleaning (only markup or links)")
    meta.update(_sidecar(path))
    title = str(meta.pop("title", "") or "").strip() or _first_line(clean.text) or path.stem
    return Article(path=path, raw=raw, clean=clean, title=title,
                   content_hash=content_hash(path, data), metadata=meta)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


def _sidecar(path: Path) -> dict[str, Any]:
    """Metadata from NAME.meta.json beside the file, when there is one."""
    meta_path = sidecar_path(path)
    if not meta_path.is_file():
        return {}
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{meta_path}: unreadable metadata sidecar: {e}") from None
    if not isinstance(data, dict):
        raise InputError(f"{meta_path}: metadata sidecar must hold a JSON object")
    return {k: v for k, v in data.items() if v is not None}


def _first_line(text: str, limit: int = 120) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"



