"""What every file format reader shares: the `Reader` protocol, its result, UTF-8 text files.

`rag.ingest.formats` holds the table of which reader reads which suffix; one module per
binary format (`pdf.py`, `docx.py`, and `url.py` for fetched web pages) implements the protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from rag.errors import InputError
from rag.ingest.clean import clean_paragraphs
from rag.ingest.mapped import MappedText


@dataclass(frozen=True)
class Extracted:
    """What a reader made of one file (before metadata sidecars and titles are applied)."""

    raw: str  # the raw source: `raw[start:end]` is a cited span
    clean: MappedText  # cleaned text, `clean.offsets` into `raw`
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: int | None = None  # page count when `raw` is paged (pages separated by "\f"); None: no pages
    warnings: tuple[str, ...] = ()  # things the user should know that did not stop the read


class Reader(Protocol):
    """One file format. Constructing a reader is free; libraries are imported on first use."""

    name: str
    binary: bool  # False: the file is UTF-8 text and is its own raw source
    span_kind: str  # "text", "html" or "pages": how rag.cite checks spans of `raw`
    version: str  # the extractor's version, part of the content hash ("" for text files)

    def raw_text(self, path: Path, data: bytes) -> str:
        """The raw source of the file alone (what the citation checker reads); InputError if unreadable."""
        ...

    def read(self, path: Path, data: bytes) -> Extracted:
        """Raw source, cleaned text, metadata; InputError naming `path` and the problem."""
        ...


def decode_utf8(path: Path, data: bytes) -> str:
    """The text of a text file, or InputError for binary, non-UTF-8 or empty files."""
    if b"\x00" in data[:65536]:
        raise InputError(f"{path}: binary file (contains NUL bytes), not a text article")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r}); "
                         "convert it to UTF-8 first") from None
    if not text.strip():
        raise InputError(f"{path}: empty file, nothing to index")
    return text


class TextReader:
    """A UTF-8 text format: the file is the raw source; `extract` maps markup away."""

    binary = False
    version = ""

    def __init__(self, name: str, extract: Callable[[str], tuple[MappedText, dict[str, Any]]],
                 span_kind: str = "text") -> None:
        self.name = name
        self.span_kind = span_kind
        self._extract = extract

    def raw_text(self, path: Path, data: bytes) -> str:
        return decode_utf8(path, data)

    def read(self, path: Path, data: bytes) -> Extracted:
        raw = decode_utf8(path, data)
        extracted, meta = self._extract(raw)
        return Extracted(raw, clean_paragraphs(extracted), meta)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


def read_sidecar(path: Path) -> dict[str, Any]:
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
