"""Text that remembers where each of its characters came from in the raw file.

Cleaning drops and rewrites characters (tags, URL lines, wrapped newlines); every character
that survives, or is inserted in place of removed ones, keeps the raw offset it stands for.
A span of cleaned text maps back to the raw span from its first to its last character.

Offsets are kept in `array("q")`s, 8 bytes a character, not lists of ints (36 bytes a
character, each a pointer and an int object): three such maps of a 17 MB text file held about
2 GB (found by review, an ingest at 3.7 GB resident and growing).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Iterable, Sequence


def offsets_array(values: Iterable[int] = ()) -> array:
    """A compact sequence of raw offsets."""
    return array("q", values)


@dataclass
class MappedText:
    text: str
    offsets: Sequence[int]  # offsets[i] = raw offset of text[i]; same length as text
    # ends[i] = raw offset just past what text[i] stands for. It differs from offsets[i] + 1 only
    # where one character replaces several raw ones (an HTML entity: "”" for "&#8221;"), so a
    # span ending in such a character ends after the whole entity. None: offsets[i] + 1 for all.
    ends: Sequence[int] | None = None
    # Positions in `text` where a paragraph starts that the cleaner must never join to the one
    # before (rag/ingest/clean.py): a Markdown or HTML heading and what follows it. Before a
    # Markdown heading the raw file holds "## ", which a quote joined across them would contain.
    breaks: tuple[int, ...] = ()

    @staticmethod
    def identity(raw: str) -> MappedText:
        return MappedText(raw, offsets_array(range(len(raw))))

    def slice(self, start: int, end: int) -> MappedText:
        """Cleaned characters [start, end) with their raw offsets (and breaks)."""
        return MappedText(self.text[start:end], self.offsets[start:end],
                          breaks=tuple(b - start for b in self.breaks if start <= b < end))

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw [start, end) covering cleaned characters [start, end); end > start."""
        return self.offsets[start], self.raw_ends(end - 1, end)[0]

    def raw_ends(self, start: int, end: int) -> Sequence[int]:
        """ends[start:end] (see `ends`)."""
        if self.ends is None:
            return offsets_array(o + 1 for o in self.offsets[start:end])
        return self.ends[start:end]


class MappedBuilder:
    """Appends pieces of text together with their raw offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._offsets = offsets_array()
        self._ends = offsets_array()
        self._breaks: list[int] = []

    def add_break(self) -> None:
        """What is added next starts a paragraph of its own (`MappedText.breaks`)."""
        self._breaks.append(len(self._offsets))

    def add(self, text: str, raw_start: int) -> None:
        """Text copied verbatim from raw[raw_start : raw_start + len(text)]."""
        self._parts.append(text)
        self._offsets.extend(range(raw_start, raw_start + len(text)))
        self._ends.extend(range(raw_start + 1, raw_start + len(text) + 1))

    def add_mapped(self, text: str, offsets: Sequence[int], ends: Sequence[int] | None = None) -> None:
        self._parts.append(text)
        self._offsets.extend(offsets)
        self._ends.extend(ends if ends is not None else (o + 1 for o in offsets))

    def add_synthetic(self, text: str, raw_at: int, raw_end: int | None = None) -> None:
        """Inserted text (a joining space, a paragraph break, an entity's character) that stands
        for raw position raw_at, or for raw[raw_at:raw_end] when given."""
        self._parts.append(text)
        self._offsets.extend([raw_at] * len(text))
        self._ends.extend([raw_end if raw_end is not None else raw_at + 1] * len(text))

    def __len__(self) -> int:
        return len(self._offsets)

    def build(self) -> MappedText:
        return MappedText("".join(self._parts), self._offsets, self._ends, tuple(self._breaks))
