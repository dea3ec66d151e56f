"""Sentence boundaries in cleaned text, by rule.

A boundary is sentence-final punctuation (. ! ? …), optionally followed by closing quotes or
brackets and by reference marks ("[1]", "[citation needed]": rag/text/references.py), then
whitespace, then something that can start a sentence: a capital of any script ("Über" as
well as "Uber") or a digit, after an opening quote, bracket, "¿" or "¡" if there is one.
Paragraph breaks are always boundaries, so headings and captions without a full stop are
sentences of their own. A period after a known abbreviation or a
single capital (an initial, "U.S.") is not a boundary when a capitalised word follows that
is likely part of a name; that is the common failure of naive splitters on news text.

Rule-based on purpose: it is fast (ingest speed matters), deterministic, and needs no model
or data download. It will sometimes split after an abbreviation it does not know; that
only makes a cited span shorter, never wrong.
"""

from __future__ import annotations

import re

from rag.text.references import MARK

# Reference marks may follow the punctuation (".[1] It rises", ".[citation needed] Many").
# `next` is the first letter or digit after the space; `split_sentences` keeps the boundary
# only when it is a capital or a digit (re has no class for the capitals of every script).
# It starts only where a run of punctuation starts: tried from every dot of a long run ("....x", a
# PDF's dot leaders), the match took time growing with the square of the run (20,000 dots: 27 s).
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?i:%s)*(?=\s+[\"'“‘(\[¿¡]?(?P<next>[^\W_]))" % MARK)
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt",
    "gov", "sen", "rep", "rev", "hon", "pres", "vs", "etc", "no", "nos", "vol", "fig", "inc",
    "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "approx", "dept", "est", "e.g", "i.e", "cf", "al",
}
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"'”’)\]]*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence in `text`, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]*)*", text):
        p_start = para.start()
        seg_start = p_start
        body = para.group()
        for m in _BOUNDARY.finditer(body):
            first = m.group("next")
            if not (first.isupper() or first.isdigit()) or _is_abbreviation(body, m.end()):
                continue
            _add(spans, text, seg_start, p_start + m.end())
            seg_start = p_start + m.end()
        _add(spans, text, seg_start, para.end())
    return spans


def _is_abbreviation(body: str, end: int) -> bool:
    """True when the full stop that ends body[:end] ends an abbreviation ("U.S.", "Dr.")."""
    if not body.endswith(".", 0, end):
        return False
    m = _word_before(body, end)
    if not m:
        return False
    word = m.group(1).rstrip(".").lower()
    # "U.S." / "J." / "a.m." — letters separated by dots, or a lone initial.
    if re.fullmatch(r"(?:[a-z]\.)*[a-z]", word):
        return True
    return word in _ABBREVIATIONS


def _word_before(body: str, end: int) -> re.Match[str] | None:
    """`_WORD_BEFORE` searched in body[:end], reading only as much of its end as the match needs.
    Searching the whole paragraph at each sentence end made splitting quadratic in a paragraph's
    length (a review timed 40 s for one of 2,000 sentences; a 1,000-page PDF read as one
    paragraph did not finish). A match that starts after the window's first character is the
    whole string's match too: the character before it can neither start nor continue one."""
    window = 64
    while True:
        start = max(0, end - window)
        m = _WORD_BEFORE.search(body[start:end])
        if m is None or m.start() > 0 or start == 0:
            return m
        window *= 4


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):  # a byte order mark is no text
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


_NOT_A_HEADING = re.compile(r"[.!?…,;\d]|^\s*[-*•–·+|]|:\s*$")


_SECTION_NUMBER = re.compile(r"\d+(?:\.\d+)*\.?")


def is_heading(sentence: str) -> bool:
    """True for a heading such as "Ukraine outrage" or "Advance on missile technology": fewer
    than 8 words with no sentence-final punctuation, comma or number, not a list. It names a
    topic and states nothing, so it is never an answer, though the reranker scores it high for
    any question on that topic. Kept as sentences: a short line with a number ("Height: 7,000
    km"), which may be the one place a fact is; a list ("- Antony Blinken - Lloyd Austin",
    "Blinken, Austin"), which may be the answer to "Who attended?"; a sentence that ends in a
    colon, which leads into what follows ("The action and the reaction are simultaneous:"); and
    a table row ("| Source | Parima mountains |", "| 1969 | 384,400 |"). A line with no letter
    or digit at all (a table's "|---|---|") states nothing either, nor does a section number
    ("1.2.", cited as a sentence of a PDF before)."""
    if not any(ch.isalnum() for ch in sentence) or _SECTION_NUMBER.fullmatch(sentence.strip()):
        return True
    return len(sentence.split()) < 8 and not _NOT_A_HEADING.search(sentence)
