"""The vector store seam: nearest neighbours among the chunk vectors of one index version.

Vectors are addressed by the stable int64 ids the index gives its chunks (`vid`: one per chunk,
never reused), so a changed document removes its old ids and adds new ones without renumbering
the rest. All vectors are unit length: inner product is cosine similarity.

A store object IS one version. `updated` returns the next version and leaves the one it was
called on as it was, so a reader keeps searching the version it started with while a writer
builds and commits the next (rag/store/folder.py swaps CURRENT). `save` writes into the new
version folder whatever a reader needs to open that version again; the manifest's
`vector_store` entry (what `save` returns) names the kind and its parameters.

What stays local whatever the store: the chunk vectors themselves (`vectors.npy`, the exact
cosine of every candidate and the cache that makes re-ingesting unchanged text free), sentence
vectors, chunk records and the lexical index. A store only has to find neighbours fast.
A remote store's `save` writes a pointer (where its rows are, which version) instead of an index.

Implementations register an opener in STORES (one module per backend: faiss_store.py,
milvus_store.py); `make_vector_store` builds an empty one from Settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

from rag.errors import CorruptIndexError, InputError

if TYPE_CHECKING:
    from rag.settings import Settings


class VectorStore(Protocol):
    kind: str  # the implementation's name in the manifest

    def __len__(self) -> int:
        """Number of vectors in this version."""
        ...

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, k), best first; slots without a result have id -1.
        `allowed`, when given, holds the only ids that may be returned (a document filter).
        k larger than the store returns every vector. Raises nothing for an empty store."""
        ...

    def updated(self, remove: np.ndarray, add_ids: np.ndarray, add_vectors: np.ndarray,
                all_ids: np.ndarray, all_vectors: np.ndarray) -> VectorStore:
        """The next version: this one without the ids `remove`, plus `add_ids` with their vectors.
        `all_ids`/`all_vectors` are the whole next version (ids ascending), for a store that
        rebuilds itself (a new index kind past a size). This store is not changed."""
        ...

    def save(self, folder: Path) -> dict[str, Any]:
        """Write what a reader needs into the version folder `folder` (it exists); returns the
        manifest entry for `open_vector_store` (at least {"kind": self.kind})."""
        ...

    def discard(self) -> None:
        """Throw away this version, which `updated` made and whose commit failed (its version
        folder never became current): delete what it wrote outside the version folder (a remote
        collection's rows). The version it was made from stays as it was. A committed version is
        not discarded one by one: a store that keeps old rows frees them when a later version is
        written. Local stores have nothing to free. Raises what the backend raises."""
        ...


# kind -> opener(folder, manifest entry, dim) -> VectorStore
STORES: dict[str, Callable[[Path, dict[str, Any], int], VectorStore]] = {}


def open_vector_store(folder: Path, entry: dict[str, Any], dim: int) -> VectorStore:
    """The store a version folder's manifest names."""
    _register_builtin()
    kind = entry.get("kind") if isinstance(entry, dict) else None
    if kind not in STORES:
        raise CorruptIndexError(f"{folder}: manifest names vector store {kind!r}; this program reads "
                                f"{', '.join(sorted(STORES))}; rebuild with `rag ingest --rebuild PATH`")
    return STORES[kind](folder, entry, dim)


def make_vector_store(settings: Settings, dim: int) -> VectorStore:
    """An empty store of the kind Settings name (RAG_VECTOR_STORE: faiss, the default, or milvus)."""
    kind = settings.vector_store
    if kind == "faiss":
        from rag.store.faiss_store import FaissStore

        return FaissStore.empty(dim)
    if kind == "milvus":
        from rag.store.milvus_store import MilvusStore

        return MilvusStore.empty(settings, dim)
    raise InputError(f"unknown vector store {kind!r}; use faiss or milvus (RAG_VECTOR_STORE)")


def _register_builtin() -> None:
    if "faiss" not in STORES:
        from rag.store.faiss_store import FaissStore

        STORES["faiss"] = FaissStore.open
    if "milvus" not in STORES:
        try:
            from rag.store.milvus_store import MilvusStore
        except ImportError:  # an optional backend: its kind stays unknown until installed
            return
        STORES["milvus"] = MilvusStore.open
