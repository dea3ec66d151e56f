"""PDF: pypdf's text of each page is the raw source; cleaning rejoins what the layout broke.

The raw source (what citation offsets index into) is `pdf_text`: pypdf's plain extraction of
every page, in page order, joined by form feeds ("\\f"), with three deterministic touches:
form feeds and carriage returns inside a page become newlines, typographic ligatures (ﬁ, ﬂ)
become their letters, and other control characters are dropped. It is stored in the index
with the document; `rag.ingest.formats.raw_source` re-derives it from the file for the
checker. The page of an offset is 1 + the form feeds before it (`pages.page_at`).

Cleaning, on top of the shared paragraph cleaner (`clean.py`):
- drops page furniture: running headers, footers and page numbers that recur at the edges of
  the pages (`pages.furniture_lines`, the same definition the checker uses);
- rejoins a word hyphenated across lines ("extrac-" / "tion"); the hyphen is kept only when the
  document itself spells the word with a hyphen elsewhere ("well-known"), since a line-end hyphen
  is far more often a syllable break;
- starts a new paragraph after a line that is clearly shorter than the page's full lines and
  ends a sentence, and around short title-like lines (headings), because pypdf marks neither;
- lets sentences run across page breaks.

Reading order is pypdf's: the content stream's order. That is column by column for two-column
pages from LaTeX, Word, LibreOffice or reportlab; a PDF that draws its columns line by line
across the page comes out interleaved, and no layout analysis here undoes that.

Pages without a text layer (scans, pictures, blank pages) are counted and named in the
document's metadata and in a warning; a PDF without text on any page is refused. Encrypted PDFs
are read only when they open with an empty password; malformed ones raise one InputError.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from rag.errors import InputError
from rag.ingest.base import Extracted
from rag.ingest.clean import CLOSING, clean_paragraphs
from rag.ingest.mapped import MappedBuilder, MappedText
from rag.ingest.noise import is_noise_line
from rag.ingest.pages import PAGE_BREAK, furniture_lines, is_hyphen_break, keeps_hyphen, page_lines

LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
             "\ufb05": "st", "\ufb06": "st"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
PARAGRAPH_END_WIDTH = 0.75  # a line shorter than this share of the page's full lines may end a paragraph
HEADING_WIDTH = 0.6
HEADING_MAX_WORDS = 12


@lru_cache(maxsize=1)
def _pdf_version() -> str:
    from importlib.metadata import version

    return f"pypdf-{version('pypdf')}/rag-pdf-1"


class PdfReader:
    """The `Reader` for .pdf files."""

    name = "pdf"
    binary = True
    span_kind = "pages"

    @property
    def version(self) -> str:
        return _pdf_version()

    def raw_text(self, path: Path, data: bytes) -> str:
        return PAGE_BREAK.join(page_texts(path, data)[0])

    def read(self, path: Path, data: bytes) -> Extracted:
        pages, meta = page_texts(path, data)
        raw = PAGE_BREAK.join(pages)
        empty = [i + 1 for i, t in enumerate(pages) if not any(ch.isalpha() for ch in t)]
        if len(empty) == len(pages):
            raise InputError(f"{path}: none of its {len(pages)} pages has a text layer (scanned images or "
                             "blank pages); run OCR on it first, e.g. with ocrmypdf")
        if "title" not in meta:
            first = next((line.strip() for line in raw.splitlines() if line.strip()), "")
            if 0 < len(first) <= 120:
                meta["title"] = first
        meta["pages"] = len(pages)
        warnings: tuple[str, ...] = ()
        if empty:
            meta["pages_without_text"] = empty
            warnings = (f"{path}: {len(empty)} of {len(pages)} pages have no text layer and were not read "
                        f"(pages {_ranges(empty)}; scanned images or blank pages)",)
        return Extracted(raw, clean_pdf(raw), meta, pages=len(pages), warnings=warnings)


def _open(path: Path, data: bytes):
    """A pypdf reader for `data`, decrypted when an empty password opens it."""
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (PyPdfError, NotImplementedError) as e:
                raise InputError(f"{path}: encrypted PDF that this reader cannot open ({e}); "
                                 "save an unencrypted copy") from None
            if not opened:
                raise InputError(f"{path}: encrypted PDF (needs a password); save an unencrypted copy")
        return reader
    except InputError:
        raise
    except Exception as e:  # pypdf raises many types on malformed input; all mean the same to a user
        raise InputError(f"{path}: not a readable PDF ({type(e).__name__}: {e})") from None


def page_texts(path: Path, data: bytes) -> tuple[list[str], dict[str, str]]:
    """(each page's normalised text, title and author); InputError for unreadable PDFs."""
    with _quiet_pypdf():
        reader = _open(path, data)
        try:
            if len(reader.pages) == 0:
                raise InputError(f"{path}: PDF has no pages")
            return [normalise(page.extract_text() or "") for page in reader.pages], pdf_metadata(reader)
        except InputError:
            raise
        except Exception as e:  # a broken page tree or content stream surfaces here, not at open
            raise InputError(f"{path}: not a readable PDF ({type(e).__name__}: {e})") from None


@contextmanager
def _quiet_pypdf():
    """pypdf logs what it repairs ("EOF marker not found") as warnings; without a handler of the
    application's, Python would print them to stderr, and a bad file must be one line there.
    A handler on pypdf's logger for the duration keeps them out of stderr; records still reach
    handlers the application configured itself."""
    logger = logging.getLogger("pypdf")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(PAGE_BREAK, "\n")
    for lig, letters in LIGATURES.items():
        text = text.replace(lig, letters)
    return _CONTROL.sub("", text)


def pdf_metadata(reader) -> dict[str, str]:
    """Title and author from the PDF's document information, when it has sensible ones."""
    try:
        info = reader.metadata or {}
        title, author = str(info.get("/Title") or "").strip(), str(info.get("/Author") or "").strip()
    except Exception:  # metadata is optional: a broken info dictionary must not refuse the file
        return {}
    meta = {}
    # "Microsoft Word - report.docx", file names and "untitled" (reportlab's default) are what
    # converters put there, not titles.
    if title and not re.search(r"\.\w{2,4}$|^microsoft word|^(?:untitled|anonymous)(?: document)?$", title,
                               re.IGNORECASE):
        meta["title"] = unicodedata.normalize("NFC", title)
    if author:
        meta["author"] = author
    return meta


def _ranges(pages: list[int]) -> str:
    out, i = [], 0
    while i < len(pages):
        j = i
        while j + 1 < len(pages) and pages[j + 1] == pages[j] + 1:
            j += 1
        out.append(str(pages[i]) if i == j else f"{pages[i]}-{pages[j]}")
        i = j + 1
    return ", ".join(out)


def _width(lengths: list[int]) -> int:
    """The length of a full line: the 90th percentile, robust to a few long outliers."""
    ordered = sorted(lengths)
    return ordered[int(0.9 * (len(ordered) - 1))] if ordered else 0


def clean_pdf(raw: str) -> MappedText:
    """Cleaned paragraphs of paged `raw`, mapped into it (see the module docstring)."""
    furniture = furniture_lines(raw)
    lines: list[tuple[int, str, int, bool]] = []  # (raw start, text, page width, blank line before)
    all_lengths = [len(raw[a:b].strip()) for page in page_lines(raw) for a, b in page if raw[a:b].strip()]
    doc_width = _width(all_lengths)
    for page in page_lines(raw):
        kept = [(a, raw[a:b]) for a, b in page if a not in furniture]
        lengths = [len(t.strip()) for _, t in kept if t.strip()]
        width = _width(lengths) if len(lengths) >= 8 else doc_width
        blank = False
        for a, text in kept:
            if not text.strip():
                blank = bool(lines)
                continue
            if is_noise_line(text):  # dropped before joining, as the checker does
                continue
            lines.append((a, text, width, blank))
            blank = False

    out = MappedBuilder()
    skip_head = 0  # characters of the current line already emitted (hyphen joins start mid-line)
    for i, (a, text, width, _) in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        body = text[skip_head:]
        start = a + skip_head
        skip_head = 0
        if nxt is not None and is_hyphen_break(text, nxt[1]):
            stripped = body.rstrip()
            out.add(stripped[:-1], start)
            if keeps_hyphen(raw, text, nxt[1]):
                out.add(stripped[-1], start + len(stripped) - 1)
            # The next line continues the word: emit it from its first non-blank character.
            skip_head = len(nxt[1]) - len(nxt[1].lstrip())
            continue
        out.add(body, start)
        if nxt is None:
            break
        out.add_synthetic(_separator(text, nxt[1], width, nxt[3]), a + len(text))
    return clean_paragraphs(out.build())


def _separator(line: str, nxt: str, width: int, blank_between: bool) -> str:
    """"\\n\\n" where a paragraph ends after `line`, else "\\n" (the cleaner joins lines)."""
    if blank_between:
        return "\n\n"
    s, n = line.strip(), nxt.strip()
    if not width or not n:
        return "\n"
    if len(s) < PARAGRAPH_END_WIDTH * width and s.endswith(CLOSING):
        return "\n\n"
    starts_like_title = s[:1].isupper() or s[:1].isdigit()
    next_starts_like_sentence = n[:1].isupper() or n[:1].isdigit()
    if (len(s) < HEADING_WIDTH * width and not s.endswith(CLOSING) and len(s.split()) <= HEADING_MAX_WORDS
            and starts_like_title and next_starts_like_sentence):
        return "\n\n"
    return "\n"
