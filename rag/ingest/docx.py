"""Word (.docx) through python-docx: the body's paragraphs and tables, in document order.

The raw source (what citation offsets index into) is `docx_text`: every non-empty body
paragraph's text (headings included; runs, hyperlinks, fields, content controls and tracked
insertions, tabs, and line, page and column breaks as line breaks: `paragraph_text`) and every
table row (its cells' text joined by " | ", a nested table's text within its cell), in the order
they appear, separated by blank lines. Headings therefore stand as paragraphs of their own. Like a
PDF's extraction it is stored in the index with the document and re-derived from the file by
`rag.ingest.formats.raw_source`; a .docx has no pages (page layout is Word's, at print time),
so its citations carry none.

Not read: page headers and footers (furniture), footnotes, comments, text boxes and tracked
deletions. Title, author and creation date come from the document's core properties, else
the first heading.

The file is a zip archive. Before python-docx opens it, its directory is checked: a file that
is not a zip, a zip without `word/document.xml`, and a zip that would unpack to far more than
a Word file can hold (a zip bomb) each raise one InputError, and nothing is unpacked.
"""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.ingest.base import Extracted
from rag.ingest.clean import clean_paragraphs
from rag.ingest.mapped import MappedText

MAX_UNPACKED_BYTES = 256_000_000  # all parts together, as the zip directory declares them
MAX_RATIO = 200  # unpacked / packed size of one part; XML packs ~10-30x, bombs ~1000x
MAX_PARTS = 10_000
CELL_SEPARATOR = " | "


class DocxReader:
    """The `Reader` for .docx files."""

    name = "docx"
    binary = True
    span_kind = "text"

    @property
    def version(self) -> str:
        return _version()

    def raw_text(self, path: Path, data: bytes) -> str:
        return docx_text(path, data)[0]

    def read(self, path: Path, data: bytes) -> Extracted:
        raw, meta = docx_text(path, data)
        return Extracted(raw, clean_paragraphs(MappedText.identity(raw)), meta)


def check_zip(path: Path, data: bytes) -> None:
    """InputError unless `data` is a zip with a Word body that unpacks to a sane size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        hint = " (an old binary .doc? save it as .docx)" if data[:4] == b"\xd0\xcf\x11\xe0" else ""
        raise InputError(f"{path}: not a Word .docx file: not a zip archive ({e}){hint}") from None
    if len(infos) > MAX_PARTS:
        raise InputError(f"{path}: refused: the archive holds {len(infos)} parts (limit {MAX_PARTS}); "
                         "not a Word file")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES:
        raise InputError(f"{path}: refused: it would unpack to {total / 1e6:.0f} MB "
                         f"(limit {MAX_UNPACKED_BYTES / 1e6:.0f} MB); a zip bomb or not a Word file")
    for i in infos:
        if i.file_size > 1_000_000 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise InputError(f"{path}: refused: part {i.filename!r} unpacks from {i.compress_size:,} to "
                             f"{i.file_size:,} bytes (over {MAX_RATIO}x); looks like a zip bomb")
    if "word/document.xml" not in {i.filename for i in infos}:
        raise InputError(f"{path}: not a Word .docx file: the archive has no word/document.xml "
                         "(another Office format renamed?)")


def docx_text(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    """(raw text, metadata) of a .docx file; see the module docstring."""
    check_zip(path, data)
    import docx
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        first_heading = ""
        for element in _children(document.element.body, (_W + "p", _W + "tbl")):
            if element.tag == _W + "tbl":
                blocks.extend(_table_rows(element))
                continue
            text = paragraph_text(element)
            if not text.strip():
                continue
            style = Paragraph(element, document).style
            if not first_heading and (style.name if style is not None else "").lower().startswith(("title", "heading")):
                first_heading = " ".join(text.split())
            blocks.append(text)
        meta = _core_metadata(document)
    except InputError:
        raise
    except Exception as e:  # python-docx and lxml raise many types on damaged files; one message for all
        raise InputError(f"{path}: not a readable Word .docx file ({type(e).__name__}: {e})") from None
    raw = "\n\n".join(blocks)
    if not raw.strip():
        raise InputError(f"{path}: the Word document has no text in its body")
    if first_heading and "title" not in meta:
        meta["title"] = first_heading
    return raw, meta


# Read from the XML, not through python-docx's .text, which leaves out what real documents hold:
# content controls (w:sdt), tracked insertions (w:ins), simple fields, smart tags, custom XML,
# nested tables; and gives "" for a page or column break, gluing the words on either side
# ("First line" + break + "after" read "First lineafter"). A review found answers quoting
# sentences with those holes ("The bridge was restored in at a cost of ...").
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CONTAINERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "smartTag"}  # hold blocks
_SKIPPED = {_W + "txbxContent", _W + "del", _W + "moveFrom", _W + "pPr", _W + "rPr"}  # text boxes, deletions


def _children(parent, tags: tuple[str, ...]):
    """The elements of `parent` tagged one of `tags` (paragraphs and tables of a body, rows of a
    table, cells of a row), in document order, looking inside content controls and the like that
    wrap them, never inside the elements found (a nested table's rows are its own)."""
    for child in parent:
        if child.tag in tags:
            yield child
        elif child.tag in _CONTAINERS:
            yield from _children(child, tags)


def paragraph_text(p) -> str:
    """The text of paragraph element `p` as Word shows it: every w:t inside it (runs, hyperlinks,
    fields, content controls, insertions), a tab for w:tab, a line break for w:br and w:cr.
    Deleted text (w:delText) and text boxes are not read."""
    parts: list[str] = []

    def walk(el) -> None:
        for child in el:
            tag = child.tag
            if tag in _SKIPPED:
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag in (_W + "tab", _W + "ptab"):
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _table_rows(table) -> list[str]:
    """One line per row of table element `table`: its cells' text joined by " | ". A cell that
    spans columns is one w:tc; a nested table's text is part of its cell."""
    rows = []
    for tr in _children(table, (_W + "tr",)):
        cells = []
        for tc in _children(tr, (_W + "tc",)):
            text = " ".join(" ".join(paragraph_text(p) for p in _cell_paragraphs(tc)).split())
            if text:
                cells.append(text)
        if cells:
            rows.append(CELL_SEPARATOR.join(cells))
    return rows


def _cell_paragraphs(element):
    """Every paragraph under a table cell, nested tables' included, in document order, but none
    inside what paragraph_text skips: a text box in a cell is left out as one in the body is (a
    review found cells reading theirs)."""
    for child in element:
        if child.tag in _SKIPPED:
            continue
        if child.tag == _W + "p":
            yield child
        else:
            yield from _cell_paragraphs(child)


def _core_metadata(document) -> dict[str, Any]:
    props = document.core_properties
    meta: dict[str, Any] = {}
    if (props.title or "").strip():
        meta["title"] = props.title.strip()
    if (props.author or "").strip():
        meta["author"] = props.author.strip()
    if props.created is not None:
        meta["created"] = props.created.date().isoformat()
    return meta


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import version

    # rag-docx-3: text boxes in table cells are skipped, as in the body (unchanged files re-read).
    return f"python-docx-{version('python-docx')}/rag-docx-3"
