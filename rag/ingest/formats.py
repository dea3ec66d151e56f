"""The reader seam: one `Reader` per file format, and the one table of suffix -> reader.

A reader turns a file's bytes into two things:
- `raw`, the text that citations point into. For text formats (.txt, .md, .html) it is the
  file itself decoded as UTF-8. For binary formats it is a deterministic text extraction
  (PDF: the pages' text joined by form feeds; Word: the body's paragraphs), stored in the
  index with the document and re-derivable from the file by `raw_source`.
- `clean`, the cleaned text that gets chunked, with its map back into `raw`.
`span_kind` tells the citation checker what may lie between the words of a quote in `raw`
("text": whitespace and noise lines; "html": also tags and entities; "pages": also page
furniture and line-end hyphens, see `pages.py`).

Which reader reads a file: its suffix, except that a page fetched from the web (an .html file
whose metadata sidecar says `"reader": "web"`, written by `rag.ingest.url`) is read for its
main article text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.ingest.base import Reader, TextReader, read_sidecar
from rag.ingest.docx import DocxReader
from rag.ingest.html import extract_html
from rag.ingest.mapped import MappedText
from rag.ingest.markdown import extract_markdown
from rag.ingest.pdf import PdfReader
from rag.ingest.url import WebPageReader


def _plain(raw: str) -> tuple[MappedText, dict[str, Any]]:
    return MappedText.identity(raw), {}


def _readers() -> dict[str, Reader]:
    plain, markdown = TextReader("text", _plain), TextReader("markdown", extract_markdown)
    html = TextReader("html", extract_html, span_kind="html")
    pdf, docx = PdfReader(), DocxReader()
    return {".txt": plain, ".md": markdown, ".markdown": markdown, ".html": html, ".htm": html,
            ".pdf": pdf, ".docx": docx}


READERS: dict[str, Reader] = _readers()
SUPPORTED_SUFFIXES = tuple(READERS)
WEB_READER: Reader = WebPageReader()  # for .html files fetched by URL (see the module docstring)


def reader_for(path: Path, sidecar: dict[str, Any] | None = None) -> Reader:
    """The reader of `path` (see the module docstring); InputError for an unsupported suffix."""
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                         f"use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if reader.span_kind == "html":
        meta = read_sidecar(path) if sidecar is None else sidecar
        if meta.get("reader") == WEB_READER.name:
            return WEB_READER
    return reader


def raw_source(path: str | Path) -> str:
    """The raw source text of a file as its reader defines it: what citation offsets index into."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read file: {e.strerror or e}") from None
    return reader_for(path).raw_text(path, data)


def span_kind(source: str | Path) -> str:
    """How spans of `source`'s raw text are checked; by suffix alone, so it never reads the file."""
    reader = READERS.get(Path(source).suffix.lower())
    return reader.span_kind if reader is not None else "text"
