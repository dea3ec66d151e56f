"""Turns extracted text into clean paragraphs, keeping the map back to the raw file.

What it does:
- drops lines that are only a URL or page furniture (see `noise.py`);
- rejoins hard-wrapped lines into one paragraph with single spaces;
- rejoins a sentence that a page break or dropped noise cut in two: a paragraph that ends
  without closing punctuation, followed by one that starts in lower case, is one paragraph
  (unless the extractor marked where a paragraph must start: a Markdown or HTML heading);
- strips stray leading/trailing spaces and collapses runs of blanks inside a line;
- ends a paragraph at a Markdown code fence ("```bash"), as at a blank line;
- keeps each row of a pipe table ("| Length | 2,140 km |", Markdown's and many text files')
  a paragraph of its own: rows end in no full stop, so a table ran into one sentence.
What it does not do: fix hyphenation, spelling or encoding errors. Those would need guesses,
and a guess would make quotes that the original file does not contain. (A PDF's line-end
hyphens are the exception, rejoined by `pdf.py` before this cleaner runs: there the page layout
says where a line ended, and the checker knows that rule, `pages.py`.)

Paragraphs are separated by "\n\n" in the cleaned text.
"""

from __future__ import annotations

import bisect
import re

from rag.ingest.mapped import MappedBuilder, MappedText
from rag.ingest.noise import is_noise_line

# A line ends at "\n", "\r\n" or a lone "\r" (old Mac files: their paragraphs ran together).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_WORD_RUN = re.compile(r"\S+")
BOM = "\ufeff"
_TABLE_ROW = re.compile(r"\s*\|.*\|\s*")
# A code fence ("```", "```bash", "~~~") ends a paragraph, and the next is never joined to it (as
# two paragraphs are when the sentence seems to go on): the fence was glued into the sentences
# around it ("Run this command: ```bash pip install zorblat ``` Should it be cited?").
_FENCE = re.compile(r"\s*(?:```|~~~)[\w+.-]*\s*")
# Characters that can end a paragraph; anything else means the sentence goes on.
CLOSING = tuple(".!?:;\"'”’)]…—–")


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line without its newline) for every line; form feeds count as line breaks."""
    out = []
    for m in _LINE.finditer(text):
        line = m.group().rstrip("\r\n")
        if not line and m.start() == len(text):
            break
        pos = m.start()
        for part in line.split("\f"):
            out.append((pos, part))
            pos += len(part) + 1
    return out


def clean_paragraphs(src: MappedText) -> MappedText:
    """Clean `src` (already mapped to the raw file) into paragraphs of words."""
    paragraphs: list[list[tuple[int, str]]] = []  # each: list of (offset in src, word)
    current: list[tuple[int, str]] = []
    after_fence: set[int] = set()  # paragraphs that a code fence separates from the one before
    for pos, line in _lines(src.text):
        fence = bool(_FENCE.fullmatch(line))
        if not line.strip() or fence:
            if current:
                paragraphs.append(current)
                current = []
            if fence:
                after_fence.add(len(paragraphs))
            continue
        if is_noise_line(line):
            # Noise ends nothing by itself: the words around it may be one sentence.
            continue
        words = [(pos + m.start(), m.group()) for m in _WORD_RUN.finditer(line)]
        if words and words[0][0] == 0 and words[0][1].startswith(BOM):
            # A byte-order mark at the start of the file is no part of the first word (it was
            # the title's first character). Elsewhere it is text, as the citation checker reads it.
            words[0] = (1, words[0][1][1:])
            words = [w for w in words if w[1]]
        if _TABLE_ROW.fullmatch(line):
            paragraphs.extend(p for p in (current, words) if p)
            current = []
            continue
        current.extend(words)
    if current:
        paragraphs.append(current)

    merged: list[list[tuple[int, str]]] = []
    for i, para in enumerate(paragraphs):
        if (merged and i not in after_fence and _continues(merged[-1], para)
                and not _break_between(src.breaks, merged[-1], para)):
            merged[-1].extend(para)
        else:
            merged.append(para)

    out = MappedBuilder()
    for i, para in enumerate(merged):
        if i:
            out.add_synthetic("\n\n", src.offsets[para[0][0]])
        for j, (pos, word) in enumerate(para):
            if j:
                out.add_synthetic(" ", src.offsets[pos - 1] if pos else src.offsets[pos])
            out.add_mapped(word, src.offsets[pos : pos + len(word)], src.raw_ends(pos, pos + len(word)))
    return out.build()


def _break_between(breaks: tuple[int, ...], previous: list[tuple[int, str]], nxt: list[tuple[int, str]]) -> bool:
    """True when the extractor marked a paragraph start (a heading's, `MappedText.breaks`)
    after the last word of `previous` and at or before the first word of `nxt`."""
    i = bisect.bisect_right(breaks, previous[-1][0])
    return i < len(breaks) and breaks[i] <= nxt[0][0]


def _continues(previous: list[tuple[int, str]], nxt: list[tuple[int, str]]) -> bool:
    last_word = previous[-1][1]
    first_word = nxt[0][1]
    # A table row ("... |") ends where it ends.
    return not last_word.endswith(CLOSING + ("|",)) and first_word[:1].islower()
