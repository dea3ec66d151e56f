"""The int8 models compute exact products on every CPU (rag/int8.py).

The first test builds a one-node model whose u8 x s8 products saturate where ONNX Runtime
adds them in 16 bits (x86 without VNNI, such as this project's AVX2 machines) and checks that
the rewritten model gives numpy's exact result whatever the CPU.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from rag import int8
from rag.rerank.cross_encoder import MODEL_SHA256, OnnxCrossEncoder, model_dir


def matmul_model(weights: np.ndarray) -> bytes:
    """Y = A x B with A uint8 (zero point 0), B the int8 `weights` (zero point 0): the shape of
    every matrix product in a dynamically quantized transformer."""
    node = helper.make_node("MatMulInteger", ["A", "B", "a_zero", "b_zero"], ["Y"])
    graph = helper.make_graph(
        [node], "product",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [None, weights.shape[1]])],
        [numpy_helper.from_array(weights, "B"), numpy_helper.from_array(np.array(0, np.uint8), "a_zero"),
         numpy_helper.from_array(np.array(0, np.int8), "b_zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def run(model: bytes, a: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"A": a})[0]


def test_unsigned_weights_give_the_exact_products():
    rng = np.random.default_rng(0)
    # 255 x 127 + 255 x 127 = 64,770: more than 16 bits hold, at every pair of the row.
    cases = [(np.full((4, 64), 255, np.uint8), np.full((64, 8), 127, np.int8)),
             (rng.integers(0, 256, (32, 64), dtype=np.uint8), rng.integers(-128, 128, (64, 16), dtype=np.int8))]
    for a, w in cases:
        exact = a.astype(np.int64) @ w.astype(np.int64)
        rewritten = int8.unsigned_weights(matmul_model(w))
        np.testing.assert_array_equal(run(rewritten, a), exact)
        types = {t.data_type for t in onnx.load_from_string(rewritten).graph.initializer}
        assert types == {TensorProto.UINT8}  # the signed weights are gone, not kept beside
        shipped = run(matmul_model(w), a)
        if not int8.signed_weights_saturate():
            np.testing.assert_array_equal(shipped, exact)  # VNNI (or ARM): exact as shipped
    # What the rewrite repairs, on the CPUs it is made for: the all-255 row loses half its sum.
    if int8.signed_weights_saturate():
        a, w = cases[0]
        assert run(matmul_model(w), a)[0, 0] < (a.astype(np.int64) @ w.astype(np.int64))[0, 0]


def test_weights_that_cannot_saturate_stay_signed():
    small = np.array([[64, -64], [-3, 0]] * 4, np.int8)  # 255 x 64 x 2 = 32,640 fits in 16 bits
    kept = onnx.load_from_string(int8.unsigned_weights(matmul_model(small)))
    assert {t.name: t.data_type for t in kept.graph.initializer}["B"] == TensorProto.INT8
    a = np.full((2, 8), 255, np.uint8)
    np.testing.assert_array_equal(run(kept.SerializeToString(), a), a.astype(np.int64) @ small.astype(np.int64))


def test_the_rewrite_is_made_once_and_keyed_by_the_source(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(matmul_model(np.full((8, 2), -3, np.int8)))
    assert int8.exact_model(source, rewrite=False, cache_dir=tmp_path / "cache") == source
    made = int8.exact_model(source, rewrite=True, cache_dir=tmp_path / "cache")
    assert made != source and made.parent == tmp_path / "cache"
    stamp = made.stat().st_mtime_ns
    assert int8.exact_model(source, rewrite=True, cache_dir=tmp_path / "cache") == made
    assert made.stat().st_mtime_ns == stamp  # reused, not rewritten
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [made.name]  # no temporary left
    a = np.full((1, 8), 200, np.uint8)
    np.testing.assert_array_equal(run(made.read_bytes(), a), [[-4800, -4800]])
    # Another source never gets the first one's copy.
    source.write_bytes(matmul_model(np.full((8, 2), 5, np.int8)))
    other = int8.exact_model(source, rewrite=True, cache_dir=tmp_path / "cache")
    assert other != made
    np.testing.assert_array_equal(run(other.read_bytes(), a), [[8000, 8000]])


def test_a_cache_that_cannot_be_written_still_gives_the_exact_model(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(matmul_model(np.full((64, 2), 127, np.int8)))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    made = int8.exact_model(source, rewrite=True, cache_dir=blocked / "cache")
    assert isinstance(made, bytes)
    a = np.full((1, 64), 255, np.uint8)
    got = int8.session(source, rewrite=True, cache_dir=blocked / "cache").run(None, {"A": a})[0]
    np.testing.assert_array_equal(got, [[255 * 127 * 64] * 2])


def test_the_cross_encoder_rewritten_scores_like_the_shipped_model_where_that_is_exact(tmp_path, monkeypatch):
    """The real reranker through its rewritten form: the same ranking as shipped, and, on a CPU
    where the shipped form is exact, the same logits."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    question = "How high did the missile go?"
    passages = ["The missile reached an altitude of 7,000 kilometers before falling into the sea.",
                "The launch was condemned by South Korea and Japan.",
                "Troops were sent to the Kursk region."]
    reranker = OnnxCrossEncoder()
    got = reranker.score(question, passages)
    assert np.argmax(got) == 0 and got[0] > got[1:].max() + 3
    # The reranker's own load made the exact copy where the CPU needs one, and only there.
    copy = tmp_path / "onnx" / "u8-weights" / f"{MODEL_SHA256[:24]}.u8.onnx"
    assert copy.is_file() == int8.signed_weights_saturate()
    if not int8.signed_weights_saturate():
        plain = OnnxCrossEncoder()
        plain.warm_up()
        plain._session = int8.session(model_dir() / "model.onnx", rewrite=True)
        np.testing.assert_allclose(got, plain.score(question, passages), atol=1e-4)


@pytest.mark.parametrize("machine, flags, saturates", [
    ("x86_64", {"avx2", "avx512f"}, True),
    ("x86_64", {"avx2", "avx512_vnni"}, False),
    ("x86_64", {"avx2", "avx_vnni"}, False),
    ("x86_64", None, True),  # flags unknown: the exact form costs speed at worst
    ("aarch64", set(), False),
])
def test_which_cpus_get_the_rewrite(monkeypatch, machine, flags, saturates):
    monkeypatch.setattr(int8.platform, "machine", lambda: machine)
    monkeypatch.setattr(int8, "cpu_flags", lambda: flags)
    assert int8.signed_weights_saturate() is saturates
