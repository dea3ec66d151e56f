"""Text that remembers where each of its characters came from in the raw file.

Cleaning drops and rewrites characters (tags, URL lines, wrapped newlines); every character
that survives, or is inserted in place of removed ones, keeps the raw offset it stands for.
A span of cleaned text maps back to the raw span from its first to its last character.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MappedText:
    text: str
    offsets: list[int]  # offsets[i] = raw offset of text[i]; same length as text

    @staticmethod
    def identity(raw: str) -> MappedText:
        return MappedText(raw, list(range(len(raw))))

    def slice(self, start: int, end: int) -> MappedText:
        """Cleaned characters [start, end) with their raw offsets."""
        return MappedText(self.text[start:end], self.offsets[start:end])

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw [start, end) covering cleaned characters [start, end); end > start."""
        return self.offsets[start], self.offsets[end - 1] + 1


class MappedBuilder:
    """Appends pieces of text together with their raw offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._offsets: list[int] = []

    def add(self, text: str, raw_start: int) -> None:
        """Text copied verbatim from raw[raw_start : raw_start + len(text)]."""
        self._parts.append(text)
        self._offsets.extend(range(raw_start, raw_start + len(text)))

    def add_mapped(self, text: str, offsets: list[int]) -> None:
        self._parts.append(text)
        self._offsets.extend(offsets)

    def add_synthetic(self, text: str, raw_at: int) -> None:
        """Inserted text (a joining space, a paragraph break) that stands for raw position raw_at."""
        self._parts.append(text)
        self._offsets.extend([raw_at] * len(text))

    def __len__(self) -> int:
        return len(self._offsets)

    def build(self) -> MappedText:
        return MappedText("".join(self._parts), self._offsets)
