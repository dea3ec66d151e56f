"""The int8 ONNX encoder: a real local export of the packaged MiniLM, compared with fp32."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embed import Embedder, make_embedder
from rag.embed.onnx_int8 import OnnxInt8Embedder

SENTENCES = [
    "North Korea launched an intercontinental ballistic missile that flew for 86 minutes.",
    "Thousands of North Korean troops were sent to the Kursk region.",
    "The Alpha river floods every spring; farmers plant rice after the floods.",
    "Beta mountain is 3,200 metres high.",
    "Snow covers it from October.",
]


@pytest.fixture(scope="session")
def int8() -> OnnxInt8Embedder:
    """The export `make install` made, from the machine's cache, never downloaded. Not exported
    again into a temporary folder: that took 40 to 57 s on a 2-core Xeon, and the export is run
    anyway: by `make install` on every fresh machine (CI's included), and by the first load
    after EXPORT_VERSION is bumped (as it must be when the exported graph changes), since the
    cache's folder is named by `model_fingerprint`, which includes it."""
    e = OnnxInt8Embedder()
    e.warm_up()
    return e


def test_int8_export_agrees_with_fp32(int8, fp32):
    assert isinstance(int8, Embedder)
    assert int8.onnx_path.is_file() and int8.onnx_path.stat().st_size < 40_000_000  # int8: ~23 MB, fp32 ~90 MB
    assert int8.model_id == fp32.model_id  # an index built with either is queried by either
    assert int8.dim == fp32.dim == 384

    got = int8.embed_documents(SENTENCES)
    want = fp32.embed_documents(SENTENCES)
    assert got.dtype == np.float32 and got.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = np.sum(got * want, axis=1)
    assert cosine.min() > 0.98, cosine

    # Dynamic quantization scales activations per batch (padding included), so a vector moves a
    # little with its batch: a query is a batch of one. It stays as close to fp32 as ever.
    alone = np.stack([int8.embed_query(s) for s in SENTENCES])
    other = OnnxInt8Embedder(batch_size=2, cache_dir=int8.onnx_path.parent.parent.parent).embed_documents(SENTENCES)
    for vectors in (alone, other):
        assert np.sum(vectors * got, axis=1).min() > 0.98 and np.sum(vectors * want, axis=1).min() > 0.98
    np.testing.assert_array_equal(int8.embed_documents(SENTENCES), got)  # deterministic
    # Each sentence has the same nearest neighbour as with fp32.
    for i in range(len(SENTENCES)):
        assert np.argsort(-(got @ got[i]))[1] == np.argsort(-(want @ want[i]))[1]
    assert int8.embed_documents([]).shape == (0, 384)
    odd = int8.embed_documents(["?", "x " * 400])  # one token; longer than the 256-token window
    np.testing.assert_allclose(np.linalg.norm(odd, axis=1), 1.0, atol=1e-5)


def test_encoder_is_selected_by_name(int8):
    e = make_embedder("all-MiniLM-L6-v2", "onnx-int8")
    assert isinstance(e, OnnxInt8Embedder) and e.model_id == "all-MiniLM-L6-v2"


def test_int8_sentence_vectors_agree_with_fp32(int8, fp32):
    """Sentence vectors are the same texts embedded alone (title + sentence): either encoder
    gives nearly the same vector, so an index built by one is searched by the other."""
    from rag.embed import passage_text

    texts = [passage_text("Seed", s) for s in SENTENCES]
    cosine = np.sum(int8.embed_documents(texts) * fp32.embed_documents(texts), axis=1)
    assert cosine.min() > 0.97, cosine
