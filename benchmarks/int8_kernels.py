"""The int8 models with ONNX Runtime's default products against the exact ones the library asks
for (`session.x64quantprecision`, rag/int8.py), on this machine's CPU: how far apart their
outputs are, and what the exact products cost in time (per call, and to open the model).

On an x86 CPU without VNNI the default u8 x s8 products saturate, so the two differ; with VNNI
both are exact and agree, and the library does not set the option there.
Texts: the natural tuning part's questions and evidence sentences (the reporting part is not
read). Timings alternate the two forms call by call, so the machine's drift hits both alike.

    .venv/bin/python benchmarks/int8_kernels.py [--questions 120]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import DEFAULT_OUT, stamp, table, write_json  # noqa: E402
from rag import int8  # noqa: E402
from rag.embed.onnx_int8 import OnnxInt8Embedder  # noqa: E402
from rag.rerank.bge_small import BgeSimilarity  # noqa: E402
from rag.rerank.cross_encoder import OnnxCrossEncoder, model_dir  # noqa: E402


def forms(make, path: Path):
    """Two loaded copies of one model: with the default products ("default") and exact ones."""
    out = {}
    for name, precise in (("default", False), ("exact", True)):
        model = make()
        model.warm_up()
        model._session = int8.session(path, precise=precise)
        out[name] = model
    return out


def load_seconds(path: Path, rounds: int = 3) -> dict[str, float]:
    """Best-of-`rounds` seconds to open the model with each kind of products (alternated): with
    the option, ONNX Runtime converts the weights at load."""
    best = {"default": float("inf"), "exact": float("inf")}
    for _ in range(rounds):
        for name, precise in (("default", False), ("exact", True)):
            t = time.perf_counter()
            int8.session(path, precise=precise)
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def measure(model: str, output: str, make, path: Path, calls: list, difference) -> tuple[dict, dict[str, list]]:
    """(one table row, the outputs per form): how far the two forms' outputs are apart
    (`difference` of the two lists of outputs, one value per output), their time per call and to
    open the model."""
    out, ms = alternate(forms(make, path), calls)
    diff = difference(out["default"], out["exact"])
    load = load_seconds(path)
    default_ms, exact_ms = float(np.median(ms["default"])), float(np.median(ms["exact"]))
    return {"model": model, "output": output, "mean_abs_diff": float(np.mean(diff)),
            "max_abs_diff": float(np.max(diff)),
            "default_ms_p50": default_ms, "exact_ms_p50": exact_ms, "time_ratio": exact_ms / default_ms,
            "default_load_s": load["default"], "exact_load_s": load["exact"]}, out


def alternate(models: dict, calls: list) -> tuple[dict[str, list], dict[str, list[float]]]:
    """Run every call on each form in turn; (outputs, ms) per form."""
    outputs = {name: [] for name in models}
    ms = {name: [] for name in models}
    for call in calls:
        for name, model in models.items():
            t = time.perf_counter()
            outputs[name].append(call(model))
            ms[name].append((time.perf_counter() - t) * 1000)
    return outputs, ms


def product_errors(rng) -> float:
    """Share of wrong outputs of a random 64-wide u8 x s8 product with default products."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    a = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    w = rng.integers(-128, 128, (64, 64), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "product",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [64, 64])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [64, 64])], [numpy_helper.from_array(w, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    # A plain session: ONNX Runtime's default products, without the option.
    got = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"A": a})[0]
    return float(np.mean(got != a.astype(np.int64) @ w.astype(np.int64)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=120)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in (ROOT / "eval" / "natural" / "questions.jsonl").open(encoding="utf-8")]
    pairs = [(r["question"], r["evidence"]) for r in rows if r.get("split") == "tune" and r.get("evidence")]
    pairs = pairs[: args.questions]
    info = stamp()
    print(f"int8 kernels: {len(pairs)} natural tuning questions and their evidence ({info['date']}; {info['machine']})")
    print(f"this CPU's default u8 x s8 products saturate: {int8.signed_products_saturate()}; wrong outputs of a "
          f"random 64-wide product with them: {product_errors(np.random.default_rng(0)):.3f}\n")

    # Four pairs a call, as the answerer reads up to 4 sentences of a question.
    score_calls = [lambda m, i=i: m.score(pairs[i][0], [p for _, p in pairs[i:i + 4]]) for i in range(0, len(pairs), 4)]
    texts = [t for pair in pairs for t in pair]
    encoder_path = OnnxInt8Embedder().onnx_path
    measured = [
        measure("cross-encoder", "logit", OnnxCrossEncoder, model_dir() / "model.onnx", score_calls,
                lambda a, b: np.abs(np.concatenate(a) - np.concatenate(b))),
        measure("bge-small (second opinion)", "cosine", BgeSimilarity, model_dir("bge_small_en") / "model.onnx",
                [lambda m, q=q, p=p: m.similarity(q, p) for q, p in pairs],
                lambda a, b: np.abs(np.array(a) - np.array(b))),
        measure("MiniLM encoder (one text a call)", "(1 - cosine) x 1000", OnnxInt8Embedder, encoder_path,
                [lambda m, t=t: m._run([t])[0] for t in texts],
                lambda a, b: 1000 * (1 - np.sum(np.stack(a) * np.stack(b), axis=1))),
    ]
    from rag.embed.torch_encoder import SentenceTransformerEmbedder

    fp32 = SentenceTransformerEmbedder().embed_documents(texts)
    results = [row for row, _ in measured]
    enc, vectors = measured[-1]
    for name in ("default", "exact"):
        enc[f"{name}_cosine_to_fp32"] = float(np.mean(np.sum(np.stack(vectors[name]) * fp32, axis=1)))
    print(table(results, ["model", "output", "mean_abs_diff", "max_abs_diff", "default_ms_p50", "exact_ms_p50",
                          "time_ratio", "default_load_s", "exact_load_s"]))
    print(f"\nencoder, mean cosine to the fp32 model: default {enc['default_cosine_to_fp32']:.4f}, "
          f"exact {enc['exact_cosine_to_fp32']:.4f}")
    write_json(args.out, "int8_kernels", {**info, "saturates": int8.signed_products_saturate(), "rows": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
