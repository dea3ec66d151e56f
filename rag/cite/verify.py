"""Checking that a citation points at a real span of the original file.

`raw[start:end]` must be the quote, word for word, with nothing in between but what the
cleaner is allowed to remove: whitespace and line breaks, whole lines that are noise (a URL,
page furniture: `rag.ingest.noise`), and for HTML files, tags and character entities.
The span must also be tight: it starts with the quote's first word and ends with its last.
This is deliberately independent of the cleaner's offset map, so a bug in the map shows up
here instead of being trusted.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from rag.ingest.html import BLOCK_TAGS, SKIP_TAGS
from rag.ingest.noise import is_noise_line
from rag.types import Citation

_SKIPPED_ELEMENT = re.compile(r"<(%s)\b.*?</\1\s*>|<!--.*?-->" % "|".join(sorted(SKIP_TAGS)),
                              re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?([a-zA-Z][\w-]*)[^>]*>")
_HTML_SUFFIXES = (".html", ".htm")


def citation_problem(raw: str, start: int, end: int, quote: str, html: bool = False) -> str | None:
    """None when the span is good, else a sentence saying what is wrong."""
    if not (0 <= start < end <= len(raw)):
        return f"span [{start}, {end}) is outside the file (length {len(raw)})"
    span = raw[start:end]
    if html:
        span = _SKIPPED_ELEMENT.sub("", span)
        # Block tags separate words, inline tags (<b>, <a>) do not.
        span = unescape(_TAG.sub(lambda m: " " if m.group(1).lower() in BLOCK_TAGS else "", span))
    kept = [line for line in span.replace("\f", "\n").split("\n") if not is_noise_line(line)]
    got = " ".join(" ".join(kept).split())
    want = " ".join(quote.split())
    if not want:
        return "empty quote"
    if got != want:
        return f"span text {got[:80]!r}… differs from quote {want[:80]!r}…"
    head, tail = raw[start], raw[end - 1]
    if head.isspace() or tail.isspace():
        return "span is not tight: it starts or ends with whitespace"
    return None


def verify_citation(citation: Citation, raw: str | None = None) -> bool:
    """True when `citation` matches its source file (read from `citation.source` if `raw` is None)."""
    return citation_problem_for(citation, raw) is None


def citation_problem_for(citation: Citation, raw: str | None = None) -> str | None:
    if raw is None:
        try:
            raw = Path(citation.source).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            return f"cannot read source {citation.source}: {e}"
    html = citation.source.lower().endswith(_HTML_SUFFIXES)
    return citation_problem(raw, citation.start, citation.end, citation.quote, html=html)
