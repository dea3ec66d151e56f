"""The VectorStore contract (rag/store/vectors.py), run on every implementation.

Each implementation is a `StoreCase`: how to make an empty store, and how close to exact its
search must be. The cases: search agrees with a NumPy brute force; removed ids never come
back; `updated` leaves the version it was called on as it was (a reader keeps its version
while a writer commits); a saved version opens again with the same answers; a filtered search
returns only allowed ids; small and empty stores behave.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from rag.settings import Settings
from rag.store.vectors import VectorStore, open_vector_store

DIM = 32


@dataclass
class StoreCase:
    name: str
    empty: Callable[[Path], VectorStore]  # an empty store whose index lives in this folder
    min_recall: float  # recall@10 against exact search that the kind promises
    # The same version answers the same query the same way at any later time. An engine that
    # builds its ANN indexes in the background (Milvus) may answer one version's query from a
    # brute-force scan now and from a fresh IVF index a moment later; the rows it may return
    # never change, but the approximate order may.
    stable: bool = True


def _faiss_flat(folder: Path) -> VectorStore:
    from rag.store.faiss_store import FaissStore

    return FaissStore.empty(DIM)


def _faiss_ivf(folder: Path) -> VectorStore:
    from rag.store.faiss_store import FaissStore

    return FaissStore.empty(DIM, exact_max=1000)  # IVF from 1,000 vectors on


def _milvus(exact_max: int | None = None) -> Callable[[Path], VectorStore]:
    """Milvus Lite, in this process: one database for the whole suite, one index folder per test
    (so one collection family per test, as two indexes sharing a Milvus server have)."""

    def empty(folder: Path) -> VectorStore:
        from rag.store.milvus_store import MilvusStore

        settings = Settings(index_dir=folder / "index", vector_store="milvus", milvus_uri=str(_milvus_db()))
        return MilvusStore.empty(settings, DIM, exact_max=exact_max)  # None: the engine's choice (FLAT)

    return empty


_MILVUS_DB: list[Path] = []


def _milvus_db() -> Path:
    if not _MILVUS_DB:
        import tempfile

        _MILVUS_DB.append(Path(tempfile.mkdtemp(prefix="rag-contract-")) / "milvus.db")
    return _MILVUS_DB[0]


CASES = [StoreCase("faiss-flat", _faiss_flat, 1.0), StoreCase("faiss-ivf", _faiss_ivf, 0.95),
         StoreCase("milvus-flat", _milvus(), 1.0),
         StoreCase("milvus-ivf", _milvus(exact_max=1000), 0.95, stable=False)]  # IVF_FLAT from 1,000 on


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request) -> StoreCase:
    if request.param.name.startswith("milvus"):
        pytest.importorskip("pymilvus", reason="the milvus extra is not installed")
    return request.param


@pytest.fixture
def empty(case, tmp_path) -> Callable[[], VectorStore]:
    return lambda: case.empty(tmp_path)


def _clustered(rng, n: int, centres: int = 100) -> np.ndarray:
    c = rng.normal(size=(centres, DIM)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _exact(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :k]]


def _recall(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.mean([len(set(g.tolist()) & set(e.tolist())) / len(e) for g, e in zip(got, expected)]))


def _filled(empty: Callable[[], VectorStore], n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    vectors = _clustered(rng, n)
    ids = np.arange(n, dtype=np.int64) * 3 + 7  # sparse ids, not row numbers
    store = empty().updated(np.zeros(0, np.int64), ids, vectors, ids, vectors)
    return store, ids, vectors, _clustered(rng, 100)


def test_search_agrees_with_brute_force(case, empty):
    store, ids, vectors, queries = _filled(empty)
    assert len(store) == len(ids)
    scores, got = store.search(queries, 10)
    assert got.shape == scores.shape == (len(queries), 10)
    assert _recall(got, _exact(ids, vectors, queries, 10)) >= case.min_recall
    # Scores are the inner products of what was found, best first.
    row = {int(v): r for r, v in enumerate(ids)}
    exact = np.array([[queries[q] @ vectors[row[int(v)]] for v in got[q]] for q in range(len(queries))])
    np.testing.assert_allclose(scores, exact, rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_removed_ids_never_come_back_and_the_old_version_is_untouched(case, empty):
    store, ids, vectors, queries = _filled(empty)
    before = store.search(queries, 10)[1]
    removed = ids[::3]
    keep = ~np.isin(ids, removed)
    rng = np.random.default_rng(9)
    new_ids = np.arange(500, dtype=np.int64) + 100_000
    new_vectors = _clustered(rng, 500)
    all_ids = np.concatenate([ids[keep], new_ids])
    all_vectors = np.concatenate([vectors[keep], new_vectors])
    nxt = store.updated(removed, new_ids, new_vectors, all_ids, all_vectors)
    assert len(nxt) == len(all_ids)
    got = nxt.search(queries, 10)[1]
    assert not np.isin(got, removed).any()
    assert _recall(got, _exact(all_ids, all_vectors, queries, 10)) >= case.min_recall
    # A reader of the previous version still sees exactly what it saw.
    assert len(store) == len(ids)
    after = store.search(queries, 10)[1]
    if case.stable:
        np.testing.assert_array_equal(after, before)
    else:  # the same rows, none of the next version's, found as well as before
        assert np.isin(after, ids).all()
        assert _recall(after, _exact(ids, vectors, queries, 10)) >= case.min_recall


def test_a_saved_version_opens_with_the_same_answers(case, empty, tmp_path):
    store, ids, vectors, queries = _filled(empty)
    folder = tmp_path / "v000001"
    folder.mkdir()
    entry = store.save(folder)
    assert entry["kind"] == store.kind
    reopened = open_vector_store(folder, entry, DIM)
    assert len(reopened) == len(store)
    got, expected = reopened.search(queries, 10)[1], store.search(queries, 10)[1]
    if case.stable:
        np.testing.assert_array_equal(got, expected)
    else:
        assert _recall(got, expected) >= case.min_recall


def test_a_filtered_search_returns_only_allowed_ids(case, empty):
    store, ids, vectors, queries = _filled(empty)
    allowed = ids[100:160]
    scores, got = store.search(queries[:10], 5, allowed=allowed)
    found = got[got >= 0]
    assert len(found) and np.isin(found, allowed).all()
    sel = np.isin(ids, allowed)
    assert _recall(got, _exact(ids[sel], vectors[sel], queries[:10], 5)) >= min(case.min_recall, 0.9)


def test_small_and_empty_stores(case, empty):
    nothing = empty()
    assert len(nothing) == 0
    _, got = nothing.search(_clustered(np.random.default_rng(3), 2), 5)
    assert got.size == 0 or (got == -1).all()
    ids = np.array([5, 9], dtype=np.int64)
    vectors = _clustered(np.random.default_rng(4), 2)
    two = nothing.updated(np.zeros(0, np.int64), ids, vectors, ids, vectors)
    _, got = two.search(vectors[:1], 10)  # k larger than the store: everything, nothing invented
    assert set(got[0][got[0] >= 0].tolist()) == {5, 9}


def test_an_uncommitted_version_leaves_no_trace(case, empty):
    """A writer that fails (and discards its version) or dies (and does not) leaves nothing the
    next writer's version would show. The next writer reuses the dead one's new ids, as the
    indexer does (new ids come from the committed manifest's counter)."""
    store, ids, vectors, queries = _filled(empty)
    before = store.search(queries, 10)[1]
    rng = np.random.default_rng(11)
    new_ids = np.arange(300, dtype=np.int64) + 100_000
    dead_ids = np.arange(400, dtype=np.int64) + 100_000  # the dead writers added more than the next one will
    for abandon in ("discard", "die"):
        dead_vectors = _clustered(rng, 400)
        dead = store.updated(ids[:50], dead_ids, dead_vectors, np.concatenate([ids[50:], dead_ids]),
                             np.concatenate([vectors[50:], dead_vectors]))
        if abandon == "discard":
            dead.discard()
            if case.stable:
                np.testing.assert_array_equal(store.search(queries, 10)[1], before)
    fresh = _clustered(rng, 300)
    removed = ids[100:150]
    keep = ~np.isin(ids, removed)
    all_ids, all_vectors = np.concatenate([ids[keep], new_ids]), np.concatenate([vectors[keep], fresh])
    nxt = store.updated(removed, new_ids, fresh, all_ids, all_vectors)
    assert len(nxt) == len(all_ids)
    scores, got = nxt.search(np.concatenate([queries, fresh[:20], dead_vectors[300:320]]), 10)
    assert np.isin(got, all_ids).all()  # ids[:50], which only the dead versions removed, may come back
    assert np.isin(ids[:50], nxt.search(vectors[:50], 1)[1]).mean() >= case.min_recall
    row = {int(v): r for r, v in enumerate(all_ids)}
    q = np.concatenate([queries, fresh[:20], dead_vectors[300:320]])
    exact = np.array([[q[i] @ all_vectors[row[int(v)]] for v in got[i]] for i in range(len(q))])
    np.testing.assert_allclose(scores, exact, rtol=1e-4, atol=1e-4)  # no dead writer's vector under a reused id
    assert _recall(got, _exact(all_ids, all_vectors, q, 10)) >= case.min_recall
