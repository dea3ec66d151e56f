"""HTML to mapped plain text with Python's own HTML parser (html.parser), not regexes.

The parser reports where each piece of character data starts in the raw file, so every
character of the extracted text keeps its raw offset; an entity's character (&amp;) maps to
the whole entity. Block elements become line breaks, so the paragraph cleaner sees the same
shape as a text file. A table row is one line, its cells apart by a space: an infobox row reads
"Length 2,140 km", which answers "How long is the river?", where a cell per paragraph left
"2,140 km" a sentence of its own that does not say what it measures. Scripts, styles and page
chrome (nav, header, footer, aside, form) are dropped whole. Metadata comes from <title>, <h1>
and the usual <meta> tags.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from rag.ingest.mapped import MappedBuilder, MappedText

SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
         "svg", "iframe", "button", "select"}
# "&#" that starts no character reference. Fed as it is, html.parser stops at it and, when no ";"
# follows anywhere, hands the rest of the file over as text, tags and all. Its "&" is fed as
# another character of the same length (positions stay the file's), and text is taken from the file.
_BARE_CHARREF = re.compile(r"&(?=#(?![0-9]|[xX][0-9a-fA-F]))")
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "tr",
          "table", "blockquote", "pre", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5",
          "h6", "br", "hr", "body", "td", "th"}
CELL_TAGS = {"td", "th"}  # separate words (they are in BLOCK_TAGS for that), not paragraphs
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source",
         "track", "wbr"}
_META_KEYS = {
    "author": "author",
    "article:author": "author",
    "article:published_time": "published",
    "date": "published",
    "og:title": "title",
    "og:url": "source_url",
}


class _Extractor(HTMLParser):
    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=False)
        self.raw = raw
        self.line_starts = [0]
        for i, ch in enumerate(raw):
            if ch == "\n":
                self.line_starts.append(i + 1)
        self.out = MappedBuilder()
        self.skip_depth = 0
        self.in_title = False
        self.in_h1 = False
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self.meta: dict[str, str] = {}

    def _here(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _break(self) -> None:
        self.out.add_synthetic("\n\n", self._here())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            a = dict(attrs)
            key = (a.get("name") or a.get("property") or "").lower()
            if key in _META_KEYS and a.get("content"):
                self.meta.setdefault(_META_KEYS[key], a["content"].strip())
            return
        if tag in SKIP_TAGS and tag not in _VOID:
            self.skip_depth += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "h1":
            self.in_h1 = True
        self._separate(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self.skip_depth:
            self.skip_depth -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        self._separate(tag)

    def _separate(self, tag: str) -> None:
        """What a tag adds between the words around it: a space for a table cell, a paragraph
        break for another block element, nothing for an inline one."""
        if self.skip_depth:
            return
        if tag in CELL_TAGS:
            self.out.add_synthetic(" ", self._here())
        elif tag in BLOCK_TAGS:
            self._break()
            if tag in HEADING_TAGS:  # a heading is joined to neither neighbour (MappedText.breaks)
                self.out.add_break()

    def _text(self, text: str, raw_at: int, verbatim: bool, raw_end: int | None = None) -> None:
        if self.in_title:
            self.title_parts.append(text)
            return
        if self.skip_depth:
            return
        if self.in_h1:
            self.h1_parts.append(text)
        if verbatim:
            self.out.add(text, raw_at)
        else:
            self.out.add_synthetic(text, raw_at, raw_end)

    def handle_data(self, data: str) -> None:
        at = self._here()
        self._text(self.raw[at : at + len(data)], at, verbatim=True)  # the file's text (see _BARE_CHARREF)

    def handle_entityref(self, name: str) -> None:
        self._entity(f"&{name}")

    def handle_charref(self, name: str) -> None:
        self._entity(f"&#{name}")

    def _entity(self, body: str) -> None:
        # The character stands for the whole entity, so a quote ending in it ends after the ";".
        # The file's own text is unescaped, as the citation checker does: the parser also reports
        # "&Kursk" without a ";", and an unknown entity stays as written, with no ";" added.
        start = self._here()
        end = start + len(body)
        end += self.raw.startswith(";", end)
        self._text(unescape(self.raw[start:end]), start, verbatim=False, raw_end=end)


def extract_html(raw: str) -> tuple[MappedText, dict[str, str]]:
    """Return the visible text (mapped to `raw`) and metadata found in the head."""
    parser = _Extractor(raw)
    # The space ends what html.parser would otherwise hold back at the end of its input ("&A" is
    # an entity once something follows it); text is taken from `raw`, so the space adds nothing.
    parser.feed(_BARE_CHARREF.sub("\x00", raw) + " ")
    parser.close()
    meta = dict(parser.meta)
    title = " ".join("".join(parser.h1_parts).split()) or " ".join("".join(parser.title_parts).split())
    if title and "title" not in meta:
        meta["title"] = title
    return parser.out.build(), meta


def visible_text(fragment: str) -> str:
    """The text of a piece of HTML that `extract_html` keeps, a paragraph break for each block
    tag. The citation checker reads a cited span of an HTML file with it (rag/cite/verify.py): a
    span starts and ends in visible text, so read alone it is read as it was in its file."""
    return extract_html(fragment)[0].text
