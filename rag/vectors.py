"""The VectorIndex seam and its FAISS implementation.

Ids are stable 64-bit integers chosen by the store (one per chunk, never reused), so a
changed document removes its old ids and adds new ones without renumbering the rest.
Default: exact inner-product search (`IndexIDMap2` over `IndexFlatIP`) on unit vectors,
i.e. exact cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    kind: str

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, k); missing results have id -1."""
        ...

    def copy(self) -> VectorIndex: ...

    def save(self, path: Path) -> None: ...


class FaissFlatIndex:
    """Exact search. At 2 cores it answers 100k x 384 in a few ms; see benchmarks/ for more."""

    kind = "flat-ip"

    def __init__(self, dim: int, index=None) -> None:
        import faiss

        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim), k)
        return scores, ids

    def copy(self) -> FaissFlatIndex:
        import faiss

        return FaissFlatIndex(self.dim, faiss.clone_index(self._index))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @staticmethod
    def load(path: Path, dim: int) -> FaissFlatIndex:
        import faiss

        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"index.faiss has dimension {index.d}, manifest says {dim}")
        return FaissFlatIndex(dim, index)
