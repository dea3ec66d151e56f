"""The int8 models compute exact products on every CPU (rag/int8.py).

The first test runs a one-node model whose u8 x s8 products saturate where ONNX Runtime adds
them in 16 bits (x86 without VNNI, such as this project's AVX2 machines) and checks that a
session made by rag/int8.py gives numpy's exact result whatever the CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from rag import int8
from rag.embed.onnx_int8 import OnnxInt8Embedder
from rag.rerank.bge_small import BgeSimilarity
from rag.rerank.cross_encoder import OnnxCrossEncoder


def matmul_model(weights: np.ndarray, path: Path) -> Path:
    """Y = A x B with A uint8 and B the int8 `weights` (zero points 0): the shape of every matrix
    product in a dynamically quantized transformer."""
    node = helper.make_node("MatMulInteger", ["A", "B", "a_zero", "b_zero"], ["Y"])
    graph = helper.make_graph(
        [node], "product",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [None, weights.shape[1]])],
        [numpy_helper.from_array(weights, "B"), numpy_helper.from_array(np.array(0, np.uint8), "a_zero"),
         numpy_helper.from_array(np.array(0, np.int8), "b_zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def test_int8_sessions_give_the_exact_products(tmp_path):
    rng = np.random.default_rng(0)
    # 255 x 127 + 255 x 127 = 64,770: more than 16 bits hold, at every pair of the row.
    cases = [(np.full((4, 64), 255, np.uint8), np.full((64, 8), 127, np.int8)),
             (rng.integers(0, 256, (32, 64), dtype=np.uint8), rng.integers(-128, 128, (64, 16), dtype=np.int8))]
    for i, (a, w) in enumerate(cases):
        exact = a.astype(np.int64) @ w.astype(np.int64)
        path = matmul_model(w, tmp_path / f"product{i}.onnx")
        np.testing.assert_array_equal(int8.session(path).run(None, {"A": a})[0], exact)
        np.testing.assert_array_equal(int8.session(path, precise=True).run(None, {"A": a})[0], exact)
        default = int8.session(path, precise=False).run(None, {"A": a})[0]
        if int8.signed_products_saturate() is False:
            np.testing.assert_array_equal(default, exact)  # VNNI (or ARM): exact by default too
    # What the option repairs, on the CPUs it is for: the all-255 row loses half its sum.
    if int8.signed_products_saturate():
        a, w = cases[0]
        default = int8.session(tmp_path / "product0.onnx", precise=False).run(None, {"A": a})[0]
        assert default[0, 0] < (a.astype(np.int64) @ w.astype(np.int64))[0, 0]


def test_every_int8_model_runs_with_exact_products():
    """The encoder, the cross-encoder and the second opinion all get their session from
    rag/int8.py: with the option where this CPU's default products saturate, and without it
    where they are exact (the option would move a VNNI CPU to slower kernels)."""
    models = [OnnxInt8Embedder(), OnnxCrossEncoder(), BgeSimilarity()]
    for model in models:
        model.warm_up()
        options = model._session.get_session_options()
        if int8.needs_precise_products():
            assert options.get_session_config_entry(int8.PRECISE_PRODUCTS) == "1", type(model).__name__
        else:
            with pytest.raises(RuntimeError):  # onnxruntime's answer for an option never set
                options.get_session_config_entry(int8.PRECISE_PRODUCTS)


@pytest.mark.parametrize("machine, flags, saturates", [
    ("x86_64", {"avx2", "avx512f"}, True),
    ("x86_64", {"avx2", "avx512_vnni"}, False),
    ("x86_64", {"avx2", "avx_vnni"}, False),
    ("x86_64", None, None),
    ("aarch64", set(), False),
])
def test_which_cpus_saturate(monkeypatch, machine, flags, saturates):
    monkeypatch.setattr(int8.platform, "machine", lambda: machine)
    monkeypatch.setattr(int8, "cpu_flags", lambda: flags)
    assert int8.signed_products_saturate() is saturates
    assert int8.needs_precise_products() is (saturates is not False)  # unknown flags: be exact
