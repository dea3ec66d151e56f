"""The cross-encoder's time per question under ONNX Runtime settings that were tried to make it
faster (README "Queries at 10k and 100k chunks"), on the pairs the answerer reranks (up to 4).

Variants, run interleaved so the machine's drift hits each alike; ms per question (p50, p90, p99, max) over
real natural-question pairs (question + the sentences the answerer reranks, from the seed article):
  shipped          intra-op threads sleep when idle, one batch
  spin             threads spin between operators (session.intra_op.allow_spinning=1)
  spin+stop        spin, and stop spinning at the end of each run (session.force_spinning_stop)
  fused            ONNX Runtime's transformer optimizer (Gelu, SkipLayerNormalization fusions)
  fp32             the same weights dequantized to float32 (MatMul instead of MatMulInteger):
                   on a CPU without VNNI the int8 products are widened to 16 bits (rag/int8.py),
                   which may cost more than float arithmetic; its logits differ (~0.2)
  batch 1, batch 2 pairs per run (less padding, more runs)
  1 thread         one intra-op thread (no thread wake-ups, half the cores)
With --busy, one CPU-bound process runs beside the benchmark, as another job on the same cores.

    .venv/bin/python benchmarks/rerank_speed.py [--busy] [--questions 30] [--rounds 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import seed_questions, spin_forever  # noqa: E402
from rag import int8  # noqa: E402
from rag.rerank.cross_encoder import OnnxCrossEncoder, model_dir  # noqa: E402


def session(path: str, entries: dict[str, str], threads: int = 2):
    """A session as rag/int8.py makes one, with these config entries: exact products where the
    CPU needs them (as shipped; an int8 variant timed without them would be timed on products
    the project never runs), the graph optimisations on."""
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    if int8.needs_precise_products():
        o.add_session_config_entry(int8.PRECISE_PRODUCTS, "1")
    for k, v in entries.items():
        o.add_session_config_entry(k, v)
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


def dequantized(src: str, dst: str) -> None:
    """Write the int8 model at `src` to `dst` with float32 weights: each dynamically quantized
    product (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul by the two scales) becomes one
    MatMul of the float input by (weight - zero point) x weight scale."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(src)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    replaced, dropped, weights = {}, set(), []
    for n in graph.node:
        if n.op_type != "MatMulInteger":
            continue
        a_quantized, w_quantized, _, w_zero = n.input
        cast = consumers[n.output[0]][0]
        scale_mul = consumers[cast.output[0]][0]  # the product's float output
        scales = producer[next(i for i in scale_mul.input if i != cast.output[0])]
        w_scale = next(i for i in scales.input if i in inits)
        w = ((numpy_helper.to_array(inits[w_quantized]).astype(np.float32)
              - numpy_helper.to_array(inits[w_zero]).astype(np.float32))
             * numpy_helper.to_array(inits[w_scale]).astype(np.float32))
        weights.append(numpy_helper.from_array(w, w_quantized + "_fp32"))
        source = producer[a_quantized].input[0]  # the float input of DynamicQuantizeLinear
        replaced[id(scale_mul)] = helper.make_node("MatMul", [source, w_quantized + "_fp32"], [scale_mul.output[0]])
        dropped |= {id(n), id(cast), id(scales)}
    nodes = [replaced.get(id(n), n) for n in graph.node if id(n) not in dropped]
    while True:  # drop what nothing reads any more (the activations' quantizers)
        used = {i for n in nodes for i in n.input} | {o.name for o in graph.output}
        kept = [n for n in nodes if any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del graph.node[:]
    graph.node.extend(nodes)
    kept_inits = [i for i in list(graph.initializer) + weights if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)
    onnx.save(model, dst)


def reranked_pairs(n: int) -> list[tuple[str, list[str]]]:
    """(question, the passages the answerer gives the reranker) for n natural questions."""
    from rag import Assistant, Settings
    from rag.answer.extractive import rerank_text

    tmp = Path(tempfile.mkdtemp(prefix="rag-rerank-speed-"))
    a = Assistant(Settings(index_dir=tmp / "index"))
    a.ingest([ROOT / "seeds"])
    out = []
    for question in seed_questions()[:n]:
        q = a.query(question)
        ranked = a.answerer.rank(q, a.retriever().retrieve(q, 10), a.require_snapshot())
        out.append((question, [rerank_text(c) for c in ranked if c.rerank is not None]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--busy", action="store_true", help="one CPU-bound process beside the benchmark")
    p.add_argument("--questions", type=int, default=30)
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args()
    from onnxruntime.transformers.optimizer import optimize_model

    pairs = reranked_pairs(args.questions)
    src = str(model_dir() / "model.onnx")
    fused = str(Path(tempfile.mkdtemp(prefix="rag-rerank-fused-")) / "model.onnx")
    optimize_model(src, model_type="bert", num_heads=12, hidden_size=384, opt_level=1).save_model_to_file(fused)
    fp32 = str(Path(fused).with_name("model.fp32.onnx"))
    dequantized(src, fp32)
    sleep = {"session.intra_op.allow_spinning": "0"}
    variants = {  # name -> (session, batch size)
        "shipped": (session(src, sleep), 16),
        "spin": (session(src, {"session.intra_op.allow_spinning": "1"}), 16),
        "spin+stop": (session(src, {"session.intra_op.allow_spinning": "1", "session.force_spinning_stop": "1"}), 16),
        "fused": (session(fused, sleep), 16),
        "fp32": (session(fp32, sleep), 16),
        "batch 1": (session(src, sleep), 1),
        "batch 2": (session(src, sleep), 2),
        "1 thread": (session(src, sleep, threads=1), 16),
    }
    encoders = {}
    for name, (sess, batch) in variants.items():
        enc = OnnxCrossEncoder(threads=2, batch_size=batch)
        enc.warm_up()  # loads and checks the shipped model and tokenizer ...
        enc._session = sess  # ... then runs this variant's session
        encoders[name] = enc
    hog = multiprocessing.Process(target=spin_forever, daemon=True) if args.busy else None
    if hog:
        hog.start()
    times: dict[str, list[float]] = {name: [] for name in encoders}
    try:
        for _ in range(args.rounds):
            for name, enc in encoders.items():
                for q, ps in pairs[:3]:
                    enc.score(q, ps)
                for q, ps in pairs:
                    t = time.perf_counter()
                    enc.score(q, ps)
                    times[name].append((time.perf_counter() - t) * 1000)
                    time.sleep(0.005)  # a gap between questions, as a server has
    finally:
        if hog:
            hog.terminate()
    print(f"cross-encoder ms per question (up to 4 pairs) over {args.rounds} x {len(pairs)} questions"
          f"{', one busy process beside it' if args.busy else ''}:")
    print(f"  {'variant':10s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s}")
    for name, ts in times.items():
        print(f"  {name:10s} " + " ".join(f"{np.percentile(ts, q):7.2f}" for q in (50, 90, 99, 100)))


if __name__ == "__main__":
    main()
