"""Ingest speed: the encoder alone vs the whole `rag ingest`, what the sentence pass costs, int8 vs fp32.

In one run, on the same SQuAD dev articles, rounds alternating so that load drifting on a
shared machine hits every kind alike:
  (a) raw encode: the default encoder on exactly the texts the pipeline embeds (every chunk
      and every distinct sentence, each prefixed with its title; rag/indexer.py);
  (b) end to end: `Assistant.ingest` into a fresh temporary index (read, clean, chunk, embed,
      BM25, write the version) with the same, already loaded, encoder;
  (c) what the previous release encoded: the chunks alone, with fp32 (its default), so the
      cost of the added sentence pass shows against today's ingest;
  the other encoder on the same texts, and dense retrieval hit@5 of each encoder on seeded dev
  questions (a hit: a retrieved chunk whose raw [start, end) covers a gold answer).
Wall time gives the rates; process CPU time (all threads), which other people's load barely
moves, is printed beside it.

    python benchmarks/ingest.py [--squad DIR] [--articles N] [--questions N] [--rounds R] [--out bench-out]
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
TARGET_HIT5_DELTA = 0.01


def hit_at_5(assistant, questions) -> float:
    hits = [any(covers(h.chunk, q) for h in assistant.search(q.text, k=5, mode="dense")) for q in questions]
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
    from rag.embed import make_embedder, passage_text
    from rag.store import IndexFolder, build_lexical

    default = Settings().encoder
    other = "torch" if default == "onnx-int8" else "onnx-int8"
    paths = article_paths(args.squad, args.articles)
    with Timer() as t_prep:
        chunks = real_chunks(paths)
    chunk_texts = [passage_text(c.title, c.text) for c in chunks]
    sentence_texts = [passage_text(c.title, s.text) for c in chunks for s in c.sentences]
    texts = list(dict.fromkeys(chunk_texts + sentence_texts))  # what the pipeline encodes
    n_tokens, n_chunk_tokens = model_tokens(texts), model_tokens(chunk_texts)
    print(f"{len(paths)} articles, {len(chunks)} chunks + {len(texts) - len(set(chunk_texts))} distinct sentences = "
          f"{len(texts)} texts, {n_tokens:,} model tokens (chunks alone: {n_chunk_tokens:,})", flush=True)

    encoders = {name: make_embedder("all-MiniLM-L6-v2", name) for name in (default, other)}
    for e in encoders.values():
        e.warm_up()
        e.embed_documents(texts[:32])  # first batches are slower (allocator, thread pool)
    fp32 = encoders["torch"]

    passes: dict[str, list[tuple[float, float]]] = {"raw": [], "ingest": [], "raw_other": [], "previous": []}
    assistant = None
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for path in paths:  # exactly these files, so --articles limits the end-to-end run too
            (corpus / path.name).write_bytes(path.read_bytes())
        for r in range(args.rounds + 1):
            with Timer() as t:
                encoders[default].embed_documents(texts)
            passes["raw"].append((t.seconds, t.cpu))
            print(f"round {r + 1}: raw encode ({default}) {t.seconds:.1f} s (cpu {t.cpu:.1f} s)", flush=True)
            if r == args.rounds:
                break
            # A fresh index each time: nothing cached, everything is embedded.
            assistant = Assistant(Settings(index_dir=Path(tmp) / f"index-{r}"), embedder=encoders[default])
            with Timer() as t:
                report = assistant.ingest([corpus])
            passes["ingest"].append((t.seconds, t.cpu))
            print(f"round {r + 1}: end-to-end ingest {t.seconds:.1f} s (cpu {t.cpu:.1f} s; {report.summary()})",
                  flush=True)
            with Timer() as t:
                encoders[other].embed_documents(texts)
            passes["raw_other"].append((t.seconds, t.cpu))
            with Timer() as t:
                fp32.embed_documents(chunk_texts)
            passes["previous"].append((t.seconds, t.cpu))
            print(f"round {r + 1}: raw encode ({other}) {passes['raw_other'][-1][0]:.1f} s; previous release's "
                  f"encode (fp32, chunks alone) {t.seconds:.1f} s", flush=True)

        if args.profile:
            import cProfile
            import pstats

            profiled = Assistant(Settings(index_dir=Path(tmp) / "index-profiled"), embedder=encoders[default])
            profiler = cProfile.Profile()
            profiler.runcall(profiled.ingest, [corpus])
            print("\nprofile of one end-to-end ingest (cumulative seconds):")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"rag/|run|encode", 14)

        snap = assistant.snapshot
        # Where the non-encoding time goes, each stage timed on its own.
        with Timer() as t_bm25:
            build_lexical(snap.chunks)
        with Timer() as t_write:
            IndexFolder(Path(tmp) / "index-copy").write(snap)

        questions = load_questions(args.squad, {p.name for p in paths}, args.questions, args.seed)
        hit = {default: hit_at_5(assistant, questions)}
        other_assistant = Assistant(Settings(index_dir=Path(tmp) / "index-other"), embedder=encoders[other])
        other_assistant.ingest([corpus])
        hit[other] = hit_at_5(other_assistant, questions)

    def mean(kind: str, i: int = 0) -> float:
        return float(np.mean([x[i] for x in passes[kind]]))

    n = len(texts)
    raw_rate, e2e_rate = n / mean("raw"), n / mean("ingest")
    ratio, ratio_cpu = mean("raw") / mean("ingest"), mean("raw", 1) / mean("ingest", 1)
    speedup = (mean("raw_other") / mean("raw")) if default == "onnx-int8" else (mean("raw") / mean("raw_other"))
    result = {
        **stamp(), "default_encoder": default,
        "articles": len(paths), "chunks": len(chunks), "texts_encoded": n, "model_tokens": n_tokens,
        "chunk_model_tokens": n_chunk_tokens,
        "raw_texts_per_s": raw_rate, "ingest_texts_per_s": e2e_rate, "ratio": ratio, "ratio_cpu_time": ratio_cpu,
        "int8_speedup": speedup, "passes": passes,
        "previous_release_encode_s": mean("previous"), "ingest_s": mean("ingest"),
        "ingest_vs_previous_release": mean("ingest") / mean("previous"),
        "questions": len(questions), "dense_hit5": hit,
        "seconds": {"raw_encode": mean("raw"), "ingest": mean("ingest"), "other_encoder": mean("raw_other"),
                    "read_clean_chunk": t_prep.seconds, "bm25_build": t_bm25.seconds,
                    "write_version": t_write.seconds},
        "targets": {"ratio": TARGET_RATIO, "dense_hit5_delta_abs": TARGET_HIT5_DELTA},
    }
    rows = [
        {"measure": f"raw encode, {default} (a)", "texts/s": raw_rate, "tokens/s": n_tokens / mean("raw"),
         "value": f"{mean('raw'):.1f} s", "target": ""},
        {"measure": "rag ingest end to end (b)", "texts/s": e2e_rate, "tokens/s": n_tokens / mean("ingest"),
         "value": f"(b)/(a) = {ratio:.2f} (cpu time: {ratio_cpu:.2f})", "target": f">= {TARGET_RATIO}"},
        {"measure": f"raw encode, {other}", "texts/s": n / mean("raw_other"),
         "tokens/s": n_tokens / mean("raw_other"), "value": f"int8 speedup {speedup:.2f}x", "target": ""},
        {"measure": "previous release: fp32, chunks alone (c)", "texts/s": len(chunks) / mean("previous"),
         "tokens/s": n_chunk_tokens / mean("previous"),
         "value": f"{mean('previous'):.1f} s; (b) takes {mean('ingest') / mean('previous'):.2f}x of it", "target": ""},
        {"measure": f"dense hit@5, {len(questions)} dev questions", "texts/s": "", "tokens/s": "",
         "value": ", ".join(f"{k} {v:.3f}" for k, v in hit.items()) + f", delta {hit['onnx-int8'] - hit['torch']:+.3f}",
         "target": f"|delta| <= {TARGET_HIT5_DELTA}"},
    ]
    print(f"\ningest: {len(paths)} articles, {len(chunks)} chunks, {n} texts encoded, {n_tokens:,} model tokens "
          f"({result['date']}; {result['machine']})")
    print(table(rows, ["measure", "texts/s", "tokens/s", "value", "target"]))
    s = result["seconds"]
    print(f"\nmean seconds over {args.rounds} rounds: raw encode {s['raw_encode']:.1f}, ingest {s['ingest']:.1f} "
          f"(read+clean+chunk alone {s['read_clean_chunk']:.2f}, BM25 build alone {s['bm25_build']:.2f}, "
          f"write version alone {s['write_version']:.2f})")
    print(f"wrote {write_json(args.out, 'ingest.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
