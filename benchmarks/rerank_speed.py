"""The cross-encoder's time per question under ONNX Runtime settings that were tried to make it
faster (README "Queries at 10k and 100k chunks"), on the pairs the answerer reranks (up to 4).

Variants, run interleaved so the machine's drift hits each alike; ms per question (p50, p90, p99, max) over
real natural-question pairs (question + the sentences the answerer reranks, from the seed article):
  shipped          intra-op threads sleep when idle, one batch
  spin             threads spin between operators (session.intra_op.allow_spinning=1)
  spin+stop        spin, and stop spinning at the end of each run (session.force_spinning_stop)
  fused            ONNX Runtime's transformer optimizer (Gelu, SkipLayerNormalization fusions)
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
from rag.rerank.cross_encoder import OnnxCrossEncoder, model_dir  # noqa: E402


def session(path: str, entries: dict[str, str], threads: int = 2):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    for k, v in entries.items():
        o.add_session_config_entry(k, v)
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


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
    sleep = {"session.intra_op.allow_spinning": "0"}
    variants = {  # name -> (session, batch size)
        "shipped": (session(src, sleep), 16),
        "spin": (session(src, {"session.intra_op.allow_spinning": "1"}), 16),
        "spin+stop": (session(src, {"session.intra_op.allow_spinning": "1", "session.force_spinning_stop": "1"}), 16),
        "fused": (session(fused, sleep), 16),
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
