"""Markdown: front matter becomes metadata; heading markers are dropped from the text.

Only what changes meaning for retrieval or quoting is handled: `---` front matter with
`key: value` lines, and `#` heading markers (the first heading is the title). Emphasis and
link syntax stay in the text as written, so a quote is always a verbatim run of the file.
"""

from __future__ import annotations

import re

from rag.ingest.mapped import MappedBuilder, MappedText

# A UTF-8 byte order mark may come first (Windows editors write one); a line may end in "\r\n".
_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*\r?$", re.MULTILINE)


def _unquoted(value: str) -> str:
    """A front-matter value without the one pair of quotes around it, if it has one: 'A "quoted"
    word' keeps its inner quotes (stripping every quote at the ends lost the closing one)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def extract_markdown(raw: str) -> tuple[MappedText, dict[str, str]]:
    meta: dict[str, str] = {}
    body_start = 0
    m = _FRONT.match(raw)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                meta[key.strip().lower()] = _unquoted(value.strip())
        body_start = m.end()

    out = MappedBuilder()
    pos = body_start
    for h in _HEADING.finditer(raw, body_start):
        out.add(raw[pos : h.start()], pos)
        # A heading is a paragraph of its own, even when the file has no blank line around it,
        # and the cleaner joins it to neither neighbour: "... to the sea" + "## lower course"
        # would make one sentence whose raw span holds the "##".
        out.add_synthetic("\n\n", h.start())
        out.add_break()
        out.add(h.group(2), h.start(2))
        out.add_synthetic("\n\n", h.end())
        out.add_break()
        if "title" not in meta and h.group(2).strip():
            meta["title"] = h.group(2).strip()
        pos = h.end()
    out.add(raw[pos:], pos)
    return out.build(), meta
