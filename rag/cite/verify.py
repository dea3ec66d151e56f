"""Checking that a citation points at a real span of its raw source.

The raw source is the file's text, or for PDF and Word files the reader's deterministic text
extraction (`rag.ingest.formats.raw_source`). `raw[start:end]` must be the quote, word for word,
with nothing in between but what the cleaner is allowed to remove: whitespace and line breaks,
whole lines that are noise (a URL, page furniture: `rag.ingest.noise`); for HTML files, tags and
character entities; for paged text (PDF), the page breaks, the lines that are page furniture
(`rag.ingest.pages.furniture_lines`, derived from the raw text alone) and line-end hyphens
where a word was cut ("extrac-" / "tion" matches "extraction", and "well-" / "known" matches
"well-known" or "wellknown").
The span must also be tight: it starts with the quote's first word and ends with its last.
This is deliberately independent of the cleaner's offset map, so a bug in the map shows up
here instead of being trusted.
"""

from __future__ import annotations

import re

from rag.errors import RagError
from rag.ingest.formats import raw_source, span_kind
from rag.ingest.html import visible_text
from rag.ingest.noise import is_noise_line
from rag.ingest.pages import HYPHENS, body_lines, is_hyphen_break
from rag.types import Citation


def citation_problem(raw: str, start: int, end: int, quote: str, html: bool = False,
                     pages: bool = False) -> str | None:
    """None when the span is good, else a sentence saying what is wrong.

    `html`: raw is an HTML file; `pages`: raw is paged text (a PDF's extraction).
    """
    if not (0 <= start < end <= len(raw)):
        return f"span [{start}, {end}) is outside the file (length {len(raw)})"
    want = " ".join(quote.split())
    if not want:
        return "empty quote"
    if html:
        # What a reader of the span sees, by the HTML reader's own rules (skipped elements,
        # comments, entities; a line break for a block tag). Its parser, not a second set of
        # patterns: two readings of malformed HTML ("<nav>" closed by "</script>") disagreed.
        # Noise is a property of a whole line, and the span's first and last lines are cut by
        # it: "https://example.com/report." ending a sentence on a line that goes on is no
        # URL-only line. They hold the quote's first and last words, so the reader kept them;
        # only the lines between, which lie whole inside the span, may be noise.
        lines = visible_text(raw[start:end]).replace("\f", "\n").split("\n")
        kept = [line for i, line in enumerate(lines) if i in (0, len(lines) - 1) or not is_noise_line(line)]
    else:
        kept = body_lines(raw, start, end, paged=pages)
    if pages:
        ok = _joined_pattern(kept).fullmatch(want) is not None
        got = " ".join(" ".join(kept).split())
    else:
        got = " ".join(" ".join(kept).split())
        ok = got == want
    if not ok:
        return f"span text {got[:80]!r}… differs from quote {want[:80]!r}…"
    head, tail = raw[start], raw[end - 1]
    if head.isspace() or tail.isspace():
        return "span is not tight: it starts or ends with whitespace"
    return None


def _joined_pattern(lines: list[str]) -> re.Pattern[str]:
    """A regex for the words of `lines` as one string: single spaces between words, and at a
    hyphen break the two halves joined with the hyphen optional."""
    lines = [line for line in lines if line.strip()]
    parts: list[str] = []
    for i, line in enumerate(lines):
        words = line.split()
        joined_to_next = i + 1 < len(lines) and is_hyphen_break(line, lines[i + 1])
        if joined_to_next:
            words[-1] = words[-1][:-1]
        parts.append(r"\ ".join(re.escape(w) for w in words if w))
        if i + 1 < len(lines):
            parts.append(f"[{re.escape(HYPHENS)}]?" if joined_to_next else r"\ ")
    return re.compile("".join(parts))


def verify_citation(citation: Citation, raw: str | None = None) -> bool:
    """True when `citation` matches its raw source (read from `citation.source` if `raw` is None)."""
    return citation_problem_for(citation, raw) is None


def citation_problem_for(citation: Citation, raw: str | None = None) -> str | None:
    """`citation_problem` for a citation, with the span rules of its source's format.

    `raw`: the source's raw text when the caller has it (an index stores it for every
    document); else it is read from `citation.source` (for a PDF or Word file: re-extracted).
    """
    if raw is None:
        try:
            raw = raw_source(citation.source)
        except RagError as e:
            return f"cannot read source {citation.source}: {e}"
    kind = span_kind(citation.source)
    return citation_problem(raw, citation.start, citation.end, citation.quote,
                            html=kind == "html", pages=kind == "pages")
