"""Chunk records read from chunks.jsonl on demand instead of held as Python objects.

At a million chunks the records (text, sentences, offsets) cost about 9 KB each as objects,
more than all the search structures together. A loaded index keeps only the byte offset of
every line (8 bytes a chunk) and a memory map of the file; a chunk is parsed when a query
needs it, and recently used ones stay in a small LRU cache. The map keeps the file readable
even after a writer has swapped in a new version and deleted this one, so a reader that
started on this version finishes on it.

Iterating the whole table parses every line; the write path does that, queries never do.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import CorruptIndexError
from rag.types import Chunk

CACHE_SIZE = 8192


def line_offsets(buffer) -> np.ndarray:
    """Start of every line plus the end of the last one (n + 1 entries)."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n")) + 1
    return np.concatenate([[0], ends]).astype(np.int64)


def parse_row(line: bytes) -> Chunk:
    row = json.loads(line)
    row.pop("vid", None)
    return Chunk.from_dict(row)


class ChunkTable(Sequence[Chunk]):
    def __init__(self, path: Path, offsets: np.ndarray | None = None) -> None:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if size:
            self._map.madvise(mmap.MADV_RANDOM)  # rows are read at random: no read-ahead
        self._offsets = offsets if offsets is not None else line_offsets(self._map)
        self._get = lru_cache(maxsize=CACHE_SIZE)(self._parse)

    def _parse(self, row: int) -> Chunk:
        try:
            return parse_row(self._map[self._offsets[row] : self._offsets[row + 1]])
        except (ValueError, KeyError, TypeError) as e:
            raise CorruptIndexError(f"chunks.jsonl line {row + 1} is unreadable ({e}); "
                                    "rebuild with `rag ingest --rebuild PATH`") from None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, row):  # int -> Chunk, slice -> list[Chunk]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"chunk row {row} out of range (0..{len(self) - 1})")
        return self._get(row)

    def __iter__(self) -> Iterator[Chunk]:
        for row in range(len(self)):
            yield self._parse(row)  # a full scan must not evict what queries use
