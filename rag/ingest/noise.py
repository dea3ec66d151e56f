"""What counts as extraction noise: the one definition shared by the cleaner and the checker.

A line is noise when it is only a URL (author pages, share links dropped into the text by a
PDF or web extractor) or a known piece of page furniture ("Related article: ...", "Advertisement").
`rag.cite.verify.verify_citation` accepts exactly these between the words of a quote, so the
cleaner cannot silently widen what a citation is allowed to skip.
"""

from __future__ import annotations

import re

URL_LINE = re.compile(r"^\s*(?:<?(?:https?://|www\.)\S+>?\s*)+$")

# Page furniture that web pages put between paragraphs of a story. Deliberately short and
# anchored at the line start: a sentence that merely mentions "advertisement" is kept.
BOILERPLATE_LINE = re.compile(
    r"^\s*(?:"
    r"related(?:\s+articles?|\s+stories|\s+content)?\s*:.*"
    r"|read\s+(?:more|also)\s*:.*"
    r"|see\s+also\s*:.*"
    r"|advertisement"
    r"|sponsored(?:\s+content)?"
    r"|share\s+this(?:\s+article)?"
    r"|subscribe\s+(?:now|to\s+our\s+newsletter).*"
    r"|click\s+here\s+to\s+.*"
    r")\s*$",
    re.IGNORECASE,
)


def is_noise_line(line: str) -> bool:
    return bool(URL_LINE.match(line) or BOILERPLATE_LINE.match(line))
