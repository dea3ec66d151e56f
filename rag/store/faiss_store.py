"""The FAISS vector store (rag/store/vectors.py): exact or IVF, chosen by collection size.

    kind        used for                      search
    flat-ip     fewer than EXACT_MAX vectors  exact (`IndexIDMap2` over `IndexFlatIP`)
    ivf-flat    EXACT_MAX and more            inverted lists over k-means cells (`IndexIVFFlat`),
                                              `nprobe` cells scanned exactly; recall@10 >= 0.95

`fit_index` is the one place that decides: `FaissStore.updated` calls it after every change,
and it returns the same index, or a new one built from all vectors when the collection crossed
a threshold (flat -> IVF, IVF -> flat when it shrinks to half, IVF re-trained with more cells
when it grew 4x past its training size). IVF keeps a hash-table direct map, so removing ids
costs O(removed), not a scan. HNSW was not chosen because it cannot remove ids.
Each version is its own in-memory index (a writer updates a clone), saved as `index.faiss` in
the version folder.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import CorruptIndexError

# FAISS and torch each bring an OpenMP runtime whose idle threads spin after every parallel
# region. With both in one process on few cores, a query's FAISS search leaves threads spinning
# against the next query's torch encoder: measured 27 ms instead of 11 ms per question on 2
# cores. Sleeping idle threads cost nothing measurable in batch encoding. Set here because
# this module is imported before either library is loaded; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

EXACT_MAX = 50_000  # below this many vectors exact search is fast enough (< 5 ms on 2 cores)
TRAIN_PER_LIST = 64  # k-means sample per cell: FAISS needs >= 39, more adds build time, not recall


class _FaissIndex:
    """What both FAISS kinds share: a wrapped index, searched, cloned, saved and loaded the same way."""

    kind = ""

    def __init__(self, dim: int, index) -> None:
        self.dim = dim
        self._index = index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.ascontiguousarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, len(self)))
        if allowed is None:
            return self._index.search(queries, k)
        import faiss

        allowed = np.ascontiguousarray(allowed, dtype=np.int64)
        return self._index.search(queries, k, params=self._search_parameters(faiss.IDSelectorBatch(allowed)))

    def _search_parameters(self, selector):
        import faiss

        return faiss.SearchParameters(sel=selector)

    def copy(self):
        import faiss

        return type(self)(self.dim, faiss.clone_index(self._index))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int):
        import faiss

        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"index.faiss has dimension {index.d}, manifest says {dim}")
        cls._check_type(index)
        return cls(dim, index)

    @staticmethod
    def _check_type(index) -> None:
        pass


class FaissFlatIndex(_FaissIndex):
    """Exact search. At 2 cores it answers 100k x 384 in a few ms; see benchmarks/ for more."""

    kind = "flat-ip"

    def __init__(self, dim: int, index=None) -> None:
        import faiss

        super().__init__(dim, index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))


class FaissIVFIndex(_FaissIndex):
    """Approximate search: k-means cells, `nprobe` of them scanned exactly per query.

    Must be trained before vectors are added; `FaissIVFIndex.build` trains on (a sample of)
    the vectors it indexes. Use `fit_index` rather than choosing by hand.
    """

    kind = "ivf-flat"

    @staticmethod
    def params_for(n: int) -> tuple[int, int]:
        """(nlist, nprobe) for n vectors: ~sqrt(n) cells, a power of two; nprobe 1/16 of them, at
        least 32. On 20k real MiniLM vectors (SQuAD dev sentences + questions) recall@10 vs exact
        was 0.971 at 512 cells / nprobe 32 and 0.975 at 256 / 32; finer cells need a smaller
        share probed, so 1/16 holds at 1M (1024 cells, nprobe 64). benchmarks/query.py re-measures."""
        nlist = 2 ** max(6, min(14, round(math.log2(max(1, math.sqrt(n))))))
        return nlist, min(nlist, max(32, nlist // 16))

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, nlist: int | None = None,
              nprobe: int | None = None, seed: int = 0) -> FaissIVFIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        default_nlist, default_nprobe = cls.params_for(len(vectors))
        nlist = nlist or default_nlist
        if len(vectors) < 39 * nlist:
            raise ValueError(f"IVF with {nlist} cells needs at least {39 * nlist} training vectors, got {len(vectors)}")
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.cp.max_points_per_centroid = TRAIN_PER_LIST
        index.cp.niter = 10
        sample = vectors
        if len(vectors) > TRAIN_PER_LIST * nlist:
            rows = np.random.default_rng(seed).choice(len(vectors), TRAIN_PER_LIST * nlist, replace=False)
            sample = vectors[np.sort(rows)]
        index.train(sample)
        index.nprobe = nprobe or default_nprobe
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        out = cls(dim, index)
        out.add(ids, vectors)
        return out

    @property
    def nlist(self) -> int:
        return int(self._index.nlist)

    @property
    def nprobe(self) -> int:
        return int(self._index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._index.nprobe = int(value)

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            import faiss

            ids = np.ascontiguousarray(ids, dtype=np.int64)
            self._index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)))

    def _search_parameters(self, selector):
        import faiss

        return faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)

    @staticmethod
    def _check_type(index) -> None:
        import faiss

        if not isinstance(index, faiss.IndexIVFFlat):
            raise ValueError(f"index.faiss holds {type(index).__name__}, manifest says ivf-flat")


INDEX_KINDS = {FaissFlatIndex.kind: FaissFlatIndex, FaissIVFIndex.kind: FaissIVFIndex}


def choose_kind(n: int, exact_max: int = EXACT_MAX) -> str:
    """The index kind for a collection of n vectors."""
    return FaissIVFIndex.kind if n >= exact_max else FaissFlatIndex.kind


def load_index(path: Path, dim: int, kind: str) -> _FaissIndex:
    """Read index.faiss as the kind the manifest names."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"manifest names vector index kind {kind!r}; this program reads {', '.join(INDEX_KINDS)}")
    return INDEX_KINDS[kind].load(path, dim)


def build_index(kind: str, dim: int, ids: np.ndarray, vectors: np.ndarray) -> _FaissIndex:
    if kind == FaissIVFIndex.kind:
        return FaissIVFIndex.build(dim, ids, vectors)
    index = FaissFlatIndex(dim)
    index.add(ids, vectors)
    return index


def fit_index(index: _FaissIndex, ids: np.ndarray, vectors: np.ndarray, exact_max: int = EXACT_MAX) -> _FaissIndex:
    """`index` if it still suits its size, else a new index of the right kind over (ids, vectors).

    `index` must already hold exactly `ids`; `vectors` are their rows, used only to rebuild.
    Hysteresis (IVF until the collection shrinks to half the threshold, re-training only after
    4x growth) keeps an index that hovers around a threshold from being rebuilt on every ingest.
    """
    n = len(ids)
    dim = vectors.shape[1] if vectors.ndim == 2 else index.dim
    kind = choose_kind(n, exact_max)
    if isinstance(index, FaissIVFIndex):
        if n < exact_max // 2:
            return build_index(FaissFlatIndex.kind, dim, ids, vectors)
        if FaissIVFIndex.params_for(n)[0] >= 2 * index.nlist:  # nlist ~ sqrt(n): n grew ~4x
            return build_index(FaissIVFIndex.kind, dim, ids, vectors)
        return index
    if kind != index.kind:
        return build_index(kind, dim, ids, vectors)
    return index


class FaissStore:
    """The VectorStore over one FAISS index (exact or IVF), one object per version.

    `exact_max`: from this many vectors on, the next version is IVF (tests lower it to run the
    IVF kind on small collections)."""

    kind = "faiss"

    def __init__(self, index: _FaissIndex, exact_max: int = EXACT_MAX) -> None:
        self.index = index
        self.exact_max = exact_max

    @classmethod
    def empty(cls, dim: int, exact_max: int = EXACT_MAX) -> FaissStore:
        return cls(FaissFlatIndex(dim), exact_max)

    @classmethod
    def open(cls, folder: Path, entry: dict[str, Any], dim: int) -> FaissStore:
        try:
            return cls(load_index(folder / "index.faiss", dim, entry.get("index", FaissFlatIndex.kind)))
        except (OSError, RuntimeError, ValueError) as e:
            raise CorruptIndexError(f"{folder}: cannot read index.faiss ({e}); rebuild with `rag ingest --rebuild PATH`") from None

    def __len__(self) -> int:
        return len(self.index)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.index):
            n = len(np.atleast_2d(queries))
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        return self.index.search(queries, k, allowed)

    def updated(self, remove: np.ndarray, add_ids: np.ndarray, add_vectors: np.ndarray,
                all_ids: np.ndarray, all_vectors: np.ndarray) -> FaissStore:
        index = self.index.copy()  # readers keep searching the original
        index.remove(np.asarray(remove, dtype=np.int64))
        index.add(np.asarray(add_ids, dtype=np.int64), add_vectors)
        return FaissStore(fit_index(index, all_ids, all_vectors, self.exact_max), self.exact_max)

    def save(self, folder: Path) -> dict[str, Any]:
        self.index.save(folder / "index.faiss")
        entry: dict[str, Any] = {"kind": self.kind, "index": self.index.kind}
        if isinstance(self.index, FaissIVFIndex):
            entry.update(nlist=self.index.nlist, nprobe=self.index.nprobe)
        return entry

    def discard(self) -> None:
        pass  # everything lives in the version folder
