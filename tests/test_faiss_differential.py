"""FAISS search must agree with a NumPy brute force, including after removals."""

from __future__ import annotations

import numpy as np

from rag.store.faiss_store import EXACT_MAX, FaissFlatIndex, FaissIVFIndex, FaissStore, choose_kind, fit_index, load_index


def test_flat_index_matches_numpy_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(100, 2100, dtype=np.int64)
    index = FaissFlatIndex(64)
    index.add(ids, vectors)
    removed = ids[::7]
    index.remove(removed)
    keep = ~np.isin(ids, removed)
    queries = rng.normal(size=(20, 64)).astype(np.float32)
    scores, got = index.search(queries, 10)
    brute = queries @ vectors[keep].T
    expected = ids[keep][np.argsort(-brute, axis=1)[:, :10]]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(scores, np.sort(brute, axis=1)[:, ::-1][:, :10], rtol=1e-5)


def _clustered(rng, n: int, dim: int, centres: int = 300) -> np.ndarray:
    """Unit vectors around cluster centres: structure like text embeddings, unlike pure noise."""
    c = rng.normal(size=(centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _recall(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.mean([len(set(g) & set(e)) / len(e) for g, e in zip(got, expected)]))


def test_ivf_recall_against_numpy_brute_force_and_after_removals(tmp_path):
    rng = np.random.default_rng(1)
    vectors = _clustered(rng, 60_000, 32)
    ids = np.arange(60_000, dtype=np.int64) * 3 + 11  # sparse, not row numbers
    index = FaissIVFIndex.build(32, ids, vectors)
    queries = _clustered(rng, 200, 32)

    _, got = index.search(queries, 10)
    expected = ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :10]]
    assert _recall(got, expected) >= 0.95

    removed = ids[::4]
    index.remove(removed)
    keep = ~np.isin(ids, removed)
    assert len(index) == keep.sum()
    scores, got = index.search(queries, 10)
    assert not np.isin(got, removed).any()
    expected = ids[keep][np.argsort(-(queries @ vectors[keep].T), axis=1)[:, :10]]
    assert _recall(got, expected) >= 0.95
    # Scores of what is found are exact inner products (IVF-Flat stores the vectors as they are).
    row = {int(v): r for r, v in enumerate(ids)}
    exact = np.array([[queries[q] @ vectors[row[int(v)]] for v in got[q]] for q in range(len(queries))])
    np.testing.assert_allclose(scores, exact, rtol=1e-4, atol=1e-5)

    # Saved and loaded by the manifest's kind: same results, removals and nprobe kept.
    index.save(tmp_path / "index.faiss")
    loaded = load_index(tmp_path / "index.faiss", 32, FaissIVFIndex.kind)
    assert isinstance(loaded, FaissIVFIndex) and loaded.nprobe == index.nprobe and len(loaded) == len(index)
    np.testing.assert_array_equal(loaded.search(queries, 10)[1], got)


def test_fit_index_switches_kind_by_size():
    rng = np.random.default_rng(2)
    vectors = _clustered(rng, EXACT_MAX + 1000, 16)
    ids = np.arange(len(vectors), dtype=np.int64)
    small = FaissFlatIndex(16)
    small.add(ids[:1000], vectors[:1000])
    assert fit_index(small, ids[:1000], vectors[:1000]) is small
    assert choose_kind(len(ids)) == FaissIVFIndex.kind

    small.add(ids[1000:], vectors[1000:])
    grown = fit_index(small, ids, vectors)
    assert isinstance(grown, FaissIVFIndex) and len(grown) == len(ids)
    assert fit_index(grown, ids, vectors) is grown  # no re-training without growth

    # Shrinking to half the threshold goes back to exact search, with exactly the kept ids.
    keep = ids[: EXACT_MAX // 2 - 1]
    grown.remove(ids[len(keep):])
    shrunk = fit_index(grown, keep, vectors[: len(keep)])
    assert isinstance(shrunk, FaissFlatIndex) and len(shrunk) == len(keep)
    np.testing.assert_array_equal(shrunk.search(vectors[:5], 1)[1][:, 0], keep[:5])


def test_ivf_index_round_trips_through_the_index_folder(tmp_path):
    """The manifest names the index kind, and loading reads that kind back (rag/store/folder.py)."""
    from rag.text.chunking import ChunkingConfig
    from rag.store import IndexFolder, empty_manifest, make_snapshot
    from rag.types import Chunk, DocumentRecord, Sentence

    rng = np.random.default_rng(3)
    n, dim = 3000, 16
    vectors = _clustered(rng, n, dim)
    words = [f"w{i}" for i in range(200)]
    raw = " ".join(f"{words[i % 200]} {words[(i * 7) % 200]}." for i in range(n))
    chunks, pos = [], 0
    for i in range(n):
        text = f"{words[i % 200]} {words[(i * 7) % 200]}."
        chunks.append(Chunk(id=f"c{i}", doc_id="doc.txt", index=i, title="Doc", text=text, start=pos,
                            end=pos + len(text), sentences=(Sentence(text, pos, pos + len(text)),), n_tokens=3))
        pos += len(text) + 1
    doc = DocumentRecord(id="doc.txt", source=str(tmp_path / "doc.txt"), title="Doc", content_hash="x",
                         n_chars=len(raw), n_chunks=n, ingested_at="2026-01-01T00:00:00+00:00")
    vids = np.arange(n, dtype=np.int64) + 1000
    index = FaissIVFIndex.build(dim, vids, vectors, nlist=64, nprobe=16)
    manifest = empty_manifest("test-model", dim, ChunkingConfig().__dict__.copy())
    sentence_vectors = vectors.astype(np.float16)  # one sentence per chunk here
    snap = make_snapshot(manifest, {"doc.txt": doc}, {"doc.txt": raw}, chunks, vids, vectors, FaissStore(index),
                         sentence_vectors)

    folder = IndexFolder(tmp_path / "index")
    folder.write(snap)
    loaded = folder.load()
    assert loaded.manifest["vector_store"] == {"kind": "faiss", "index": FaissIVFIndex.kind, "nlist": 64, "nprobe": 16}
    assert isinstance(loaded.vector_store.index, FaissIVFIndex) and loaded.vector_store.index.nprobe == 16
    np.testing.assert_array_equal(loaded.vector_store.search(vectors[:20], 5)[1], index.search(vectors[:20], 5)[1])
