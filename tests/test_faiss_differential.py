"""FAISS search must agree with a NumPy brute force, including after removals."""

from __future__ import annotations

import numpy as np

from rag.vectors import FaissFlatIndex


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
