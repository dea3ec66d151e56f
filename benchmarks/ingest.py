"""Ingest speed: the encoder alone vs the whole `rag ingest`, and the int8 encoder vs fp32.

In one run, on the same SQuAD dev articles:
  (a) raw encode: the fp32 encoder on exactly the passage texts the pipeline embeds;
  (b) end to end: `Assistant.ingest` into a fresh temporary index (read, clean, chunk, embed,
      index, save) with the same, already loaded, encoder;
  the int8 encoder's raw rate on the same texts (rounds alternate a, b, int8), and dense retrieval hit@5 of each encoder on
  seeded dev questions (a hit: a retrieved chunk whose raw [start, end) covers a gold answer).

    python benchmarks/ingest.py [--squad DIR] [--articles N] [--questions N] [--out bench-out]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DEFAULT_OUT, DEFAULT_SQUAD, Timer, article_paths, covers, load_questions,  # noqa: E402
                    model_tokens, real_chunks, stamp, table, write_json)

TARGET_RATIO = 0.9
TARGET_SPEEDUP = 2.0
TARGET_HIT5_DELTA = 0.01


def hit_at_5(snapshot, embedder, questions) -> float:
    from rag.retrieve.hybrid import HybridRetriever

    retriever = HybridRetriever(snapshot, embedder, mode="dense")
    hits = [any(covers(h.chunk, q) for h in retriever.retrieve(q.text, 5)) for q in questions]
    return float(np.mean(hits))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    p.add_argument("--articles", type=int, default=None, help="first N articles (default: all 48)")
    p.add_argument("--questions", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=2, help="end-to-end runs (raw runs: one more)")
    p.add_argument("--profile", action="store_true", help="also profile one end-to-end ingest (cProfile)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    from rag import Assistant, Settings
    from rag.embed import passage_text
    from rag.embed.torch_encoder import SentenceTransformerEmbedder
    from rag.embed.onnx_int8 import OnnxInt8Embedder
    from rag.store import IndexFolder, build_bm25, make_snapshot
    from rag.store.faiss_index import FaissFlatIndex

    paths = article_paths(args.squad, args.articles)
    with Timer() as t_prep:
        chunks = real_chunks(paths)
    texts = [passage_text(c.title, c.text) for c in chunks]
    n_tokens = model_tokens(texts)
    print(f"{len(paths)} articles, {len(chunks)} chunks, {n_tokens:,} model tokens", flush=True)

    fp32 = SentenceTransformerEmbedder()
    fp32.warm_up()
    fp32.embed_documents(texts[:32])  # first batches are slower (allocator, thread pool)
    int8 = OnnxInt8Embedder()
    int8.warm_up()
    int8.embed_documents(texts[:32])

    # Rounds alternate raw fp32, end to end, raw int8, ... and end with raw fp32, so load that
    # drifts on a shared machine hits every kind alike. Wall time gives the rates; process CPU
    # time (all threads) is reported beside it, as it barely moves with other people's load.
    raw, e2e, raw8 = [], [], []  # (wall s, cpu s) per pass
    snap32 = v32 = v8 = None
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for path in paths:  # exactly these files, so --articles limits the end-to-end run too
            (corpus / path.name).write_bytes(path.read_bytes())
        for r in range(args.rounds + 1):
            with Timer() as t:
                v32 = fp32.embed_documents(texts)
            raw.append((t.seconds, t.cpu))
            print(f"round {r + 1}: raw fp32 encode {t.seconds:.1f} s (cpu {t.cpu:.1f} s)", flush=True)
            if r == args.rounds:
                break
            # A fresh index each time: nothing cached, every chunk is embedded.
            assistant = Assistant(Settings(index_dir=Path(tmp) / f"index-{r}"), embedder=fp32)
            with Timer() as t:
                report = assistant.ingest([corpus])
            e2e.append((t.seconds, t.cpu))
            print(f"round {r + 1}: end-to-end ingest {t.seconds:.1f} s (cpu {t.cpu:.1f} s; {report.summary()})",
                  flush=True)
            if report.chunks_embedded != len(chunks):
                print(f"warning: pipeline embedded {report.chunks_embedded} chunks, raw run {len(chunks)}")
            snap32 = assistant.snapshot
            with Timer() as t:
                v8 = int8.embed_documents(texts)
            raw8.append((t.seconds, t.cpu))
            print(f"round {r + 1}: raw int8 encode {t.seconds:.1f} s (cpu {t.cpu:.1f} s)", flush=True)

        if args.profile:
            import cProfile
            import pstats

            assistant = Assistant(Settings(index_dir=Path(tmp) / "index-profiled"), embedder=fp32)
            profiler = cProfile.Profile()
            profiler.runcall(assistant.ingest, [corpus])
            print("\nprofile of one end-to-end ingest (cumulative seconds):")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"rag/|linear|encode", 14)

        # Where the non-encoding time goes, each stage timed on its own.
        with Timer() as t_bm25:
            build_bm25(snap32.chunks)
        with Timer() as t_write:
            IndexFolder(Path(tmp) / "index-copy").write(snap32)

    def mean(xs: list[tuple[float, float]], i: int) -> float:
        return float(np.mean([x[i] for x in xs]))

    t_raw, t_e2e, t_int8 = Timer(), Timer(), Timer()
    t_raw.seconds, t_e2e.seconds, t_int8.seconds = mean(raw, 0), mean(e2e, 0), mean(raw8, 0)
    cosine = np.sum(v8 * v32, axis=1)

    # Dense retrieval with each encoder: its own vectors in the index, its own query vectors.
    row_of = {c.id: i for i, c in enumerate(chunks)}
    order = [row_of[c.id] for c in snap32.chunks]
    index8 = FaissFlatIndex(int8.dim)
    index8.add(snap32.vids, v8[order])
    snap8 = make_snapshot(snap32.manifest, snap32.documents, snap32.raw_texts, snap32.chunks, snap32.vids,
                          v8[order], index8, bm25=snap32.bm25)
    questions = load_questions(args.squad, {p.name for p in paths}, args.questions, args.seed)
    hit32 = hit_at_5(snap32, fp32, questions)
    hit8 = hit_at_5(snap8, int8, questions)

    n = len(chunks)
    raw_rate, e2e_rate, int8_rate = n / t_raw.seconds, n / t_e2e.seconds, n / t_int8.seconds
    result = {
        **stamp(),
        "articles": len(paths), "chunks": n, "model_tokens": n_tokens,
        "raw_chunks_per_s": raw_rate, "raw_tokens_per_s": n_tokens / t_raw.seconds,
        "ingest_chunks_per_s": e2e_rate, "ingest_tokens_per_s": n_tokens / t_e2e.seconds,
        "ratio": e2e_rate / raw_rate, "ratio_cpu_time": mean(raw, 1) / mean(e2e, 1),
        "int8_speedup_cpu_time": mean(raw, 1) / mean(raw8, 1),
        "passes": {"raw_fp32": raw, "ingest": e2e, "raw_int8": raw8},
        "int8_chunks_per_s": int8_rate, "int8_tokens_per_s": n_tokens / t_int8.seconds,
        "int8_speedup": int8_rate / raw_rate,
        "int8_cosine_min": float(cosine.min()), "int8_cosine_mean": float(cosine.mean()),
        "questions": len(questions), "fp32_hit5": hit32, "int8_hit5": hit8, "int8_hit5_delta": hit8 - hit32,
        "seconds": {"raw_encode": t_raw.seconds, "ingest": t_e2e.seconds, "int8_encode": t_int8.seconds,
                    "read_clean_chunk": t_prep.seconds, "bm25_build": t_bm25.seconds,
                    "write_version": t_write.seconds,
                    "ingest_minus_encode": t_e2e.seconds - t_raw.seconds},
        "targets": {"ratio": TARGET_RATIO, "int8_speedup": TARGET_SPEEDUP, "int8_hit5_delta_abs": TARGET_HIT5_DELTA},
    }
    rows = [
        {"measure": "raw encode fp32 (a)", "chunks/s": raw_rate, "tokens/s": n_tokens / t_raw.seconds,
         "value": "", "target": ""},
        {"measure": "rag ingest end to end (b)", "chunks/s": e2e_rate, "tokens/s": n_tokens / t_e2e.seconds,
         "value": f"(b)/(a) = {result['ratio']:.2f} (cpu time: {result['ratio_cpu_time']:.2f})",
         "target": f">= {TARGET_RATIO}"},
        {"measure": "raw encode int8", "chunks/s": int8_rate, "tokens/s": n_tokens / t_int8.seconds,
         "value": f"speedup {result['int8_speedup']:.2f}x (cpu time: {result['int8_speedup_cpu_time']:.2f}x)",
         "target": f">= {TARGET_SPEEDUP}x"},
        {"measure": f"dense hit@5, {len(questions)} dev questions", "chunks/s": "", "tokens/s": "",
         "value": f"fp32 {hit32:.3f}, int8 {hit8:.3f}, delta {hit8 - hit32:+.3f}",
         "target": f"|delta| <= {TARGET_HIT5_DELTA}"},
        {"measure": "int8 vs fp32 cosine (min / mean)", "chunks/s": "", "tokens/s": "",
         "value": f"{cosine.min():.4f} / {cosine.mean():.4f}", "target": ""},
    ]
    print(f"\ningest: {len(paths)} articles, {n} chunks, {n_tokens:,} model tokens ({result['date']})")
    print(table(rows, ["measure", "chunks/s", "tokens/s", "value", "target"]))
    s = result["seconds"]
    print(f"\nmean seconds over {args.rounds} rounds: raw encode {s['raw_encode']:.1f}, ingest {s['ingest']:.1f} "
          f"(read+clean+chunk alone {s['read_clean_chunk']:.2f}, BM25 build alone {s['bm25_build']:.2f}, "
          f"write version alone {s['write_version']:.2f})")
    print(f"wrote {write_json(args.out, 'ingest.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
