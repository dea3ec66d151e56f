"""Paged text (a PDF's extraction): the page map, page furniture and line-end hyphenation.

The one definition shared by the PDF cleaner (`rag.ingest.pdf`) and the citation checker
(`rag.cite.verify`), as `noise.py` is for text files: the checker recomputes from the raw
text alone which lines are furniture and which line ends are hyphen breaks, so the cleaner
cannot silently widen what a citation may skip, and a bug in the cleaner's offset map shows.

Paged raw text is the pages' text joined by form feeds ("\\f"), so the page map needs no
extra data: the page of raw offset i is 1 + the number of form feeds before i.

Furniture is a line near the top or bottom of a page (within `EDGE_LINES`) whose shape, with
digits and roman numerals folded ("Page 3 of 12" ~ "Page 7 of 12", "iv" ~ "12"), recurs at
the edge of at least `FURNITURE_SHARE` of the pages with text (and of two pages at least):
running headers, footers and page numbers. It is decided per document, never by a list of
phrases, and a one-page document has none. What it misses: a header that changes with every
chapter stays in the text (it is then just a short line).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from rag.ingest.noise import is_noise_line

PAGE_BREAK = "\f"
EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be furniture
FURNITURE_SHARE = 0.4  # alternating odd/even headers each cover about half of the pages
HYPHENS = "-\u00ad\u2010"  # hyphen-minus, soft hyphen, hyphen

_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"(?<![a-z])[ivxlcdm]+(?![a-z])")
_LINE = re.compile(r"[^\n\f]*")
# The lines `body_lines` judges: a lone "\r" ends one too, as for the cleaner (rag/ingest/clean.py).
_BODY_LINE = re.compile(r"[^\r\n\f]*")


def page_at(raw: str, offset: int) -> int:
    """1-based page of raw offset `offset` in paged text."""
    return raw.count(PAGE_BREAK, 0, offset) + 1


def page_lines(raw: str) -> list[list[tuple[int, int]]]:
    """For each page, the raw [start, end) of each of its lines (newline excluded)."""
    pages: list[list[tuple[int, int]]] = [[]]
    pos = 0
    n = len(raw)
    while pos <= n:
        m = _LINE.match(raw, pos)
        end = m.end()
        pages[-1].append((pos, end))
        if end >= n:
            break
        if raw[end] == PAGE_BREAK:
            pages.append([])
        pos = end + 1
    return pages


def _shape(line: str) -> str:
    s = " ".join(line.split()).lower()
    s = _DIGITS.sub("#", s)
    # Roman page numbers ("iv") alone, or in "page iv", fold like digits; words stay words.
    return _ROMAN.sub("#", s) if len(s) <= 12 else s


def _edges(lines: list[tuple[int, int]], raw: str) -> list[tuple[int, int]]:
    text_lines = [span for span in lines if raw[span[0]:span[1]].strip()]
    if len(text_lines) <= 2 * EDGE_LINES:
        return text_lines
    return text_lines[:EDGE_LINES] + text_lines[-EDGE_LINES:]


@lru_cache(maxsize=64)
def furniture_lines(raw: str) -> frozenset[int]:
    """Raw start offsets of the lines that are page furniture (see the module docstring)."""
    pages = page_lines(raw)
    with_text = [p for p in pages if any(raw[a:b].strip() for a, b in p)]
    if len(with_text) < 2:
        return frozenset()
    counts: Counter[str] = Counter()
    for page in with_text:
        counts.update({_shape(raw[a:b]) for a, b in _edges(page, raw)})
    needed = max(2, math.ceil(FURNITURE_SHARE * len(with_text)))
    repeated = {shape for shape, n in counts.items() if n >= needed}
    if not repeated:
        return frozenset()
    return frozenset(a for page in with_text for a, b in _edges(page, raw) if _shape(raw[a:b]) in repeated)


def body_lines(raw: str, start: int, end: int, paged: bool = True) -> list[str]:
    """The pieces of the lines of raw[start:end], without the lines that are page furniture
    (`paged`) or noise (`rag.ingest.noise`). Each line is judged whole, as the cleaner judged it,
    not the piece of it inside the span: "https://example.com/report." ending a sentence on a
    line that goes on is no URL-only line."""
    furniture = furniture_lines(raw) if paged else frozenset()
    pos = max(raw.rfind(c, 0, start) for c in ("\n", "\r", PAGE_BREAK)) + 1  # start of the first line
    out = []
    while pos < end:
        line_end = _BODY_LINE.match(raw, pos).end()
        if pos not in furniture and not is_noise_line(raw[pos:line_end]):
            out.append(raw[max(pos, start):min(line_end, end)])
        pos = line_end + 1
    return out


_WORD = re.compile(r"[^\W\d_]+(?:[-\u00ad\u2010][^\W\d_]+)*")


@lru_cache(maxsize=64)
def _vocabulary(raw: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(raw))


def keeps_hyphen(raw: str, line: str, next_line: str) -> bool:
    """At a hyphen break, whether the joined word keeps its hyphen: only when the document spells
    it with one elsewhere and never without ("well-known"); a line-end hyphen is far more often a
    syllable break ("extrac-tion")."""
    words = line.split()
    tail = re.match(r"[^\W\d_]+", next_line.lstrip())
    if not words or not tail:
        return False
    head = words[-1].rstrip(HYPHENS)
    vocabulary = _vocabulary(raw)
    return (head + tail.group()).lower() not in vocabulary and f"{head}-{tail.group()}".lower() in vocabulary


def is_hyphen_break(line: str, next_line: str) -> bool:
    """True when `line` ends in a word cut by a hyphen that `next_line` continues in lower case.

    "extrac-" + "tion": the cleaner joins the halves; "well-" + "known" is the same shape, so the
    checker accepts the joined word with or without the hyphen (`rag.cite.verify`).
    """
    s, n = line.rstrip(), next_line.lstrip()
    return len(s) >= 2 and s[-1] in HYPHENS and s[-2].isalpha() and n[:1].islower()
