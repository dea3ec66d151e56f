"""Query latency at 10k, 100k and 1M chunks, index memory and build time, and ANN recall.

The query path is the real one: `Assistant.ask` / `Assistant.search` (query embedding, FAISS,
BM25, fusion, sentence scores, the reranker, answer composition) over a `rag.store.make_snapshot`
Snapshot. Only the collection is synthetic above the size of the dev set: row i copies the chunk
(text, sentences and their vectors, BM25 terms) of a real SQuAD dev chunk and gets that chunk's
real embedding plus noise, so vectors form clusters like text embeddings do and the questions
are real dev questions. The first rows are the real chunks with their real vectors. The FAISS
index kind is `rag.store.faiss_store.choose_kind(n)`.

BM25 at these sizes is the library's own index (rag/store/lexical.py) over the copied rows'
terms, built from the real chunks' analysed terms in array operations, as an ingest updates it.

Recall@10 of the ANN index against exact search is measured twice: on the synthetic collection
at each size, and on real embeddings only (dev sentences and questions, as many as embed in
reasonable time), at the IVF parameters chosen for that size and at the 1M operating point.

The cross-encoder's margin (AnswerConfig.rerank_within) is timed against reading the cheap
score's top 4, abstention's second opinion against the first model alone, and the sentence terms
an index keeps (rag/store/sentence_terms.py) against analysing sentences when first read, the
same questions alternately with each, so their ratios come from one run.

    python benchmarks/query.py [--sizes 10000,100000,1000000] [--queries 200] [--out bench-out]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rag.store.ragged import run_positions  # noqa: E402
from common import (DEFAULT_OUT, DEFAULT_SQUAD, Timer, article_paths, cached_embeddings,  # noqa: E402
                    load_questions, percentile, rss_bytes, stamp, table, write_json)

TARGET_MS = {100_000: 30.0, 1_000_000: 50.0}
TARGET_RECALL = 0.95
TARGET_BYTES_1M = 4 * 2**30
NOISE = 0.5  # norm of the noise added to a copied real vector: cosine to its source ~0.9


def pool_snapshot(squad: Path, n_articles: int | None, out: Path, embedder):
    """The real dev articles, ingested once through `Assistant.ingest` and kept in out/cache."""
    from rag import Assistant, Settings

    from rag.errors import RagError

    paths = article_paths(squad, n_articles)
    folder = out / "cache" / f"pool-{len(paths)}-index"
    try:
        assistant = Assistant(Settings(index_dir=folder), embedder=embedder)
        assistant.ingest(paths)
    except RagError as e:  # a cache from an older format or analyzer: build it again
        print(f"rebuilding {folder}: {e}", flush=True)
        shutil.rmtree(folder)
        assistant = Assistant(Settings(index_dir=folder), embedder=embedder)
        assistant.ingest(paths)
    return assistant.snapshot, {p.name for p in paths}


def synthetic_lexical(real, base: np.ndarray):
    """The BM25 index of rows that copy the real rows `base` (their analysed terms, gathered)."""
    from rag.store import Bm25Index

    lengths = np.diff(real.row_start)[base]
    starts = np.asarray(real.row_start)[base]
    flat = run_positions(starts, lengths)
    return Bm25Index(real.vocab, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                     np.asarray(real.term_ids)[flat], np.asarray(real.term_counts)[flat], real.k1, real.b)


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    best = np.zeros((len(queries), 0), dtype=np.int64)
    best_s = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(vectors), 200_000):
        s = queries @ vectors[start:start + 200_000].T
        top = np.argpartition(-s, min(k, s.shape[1] - 1), axis=1)[:, :k]
        best = np.concatenate([best, top + start], axis=1)
        best_s = np.concatenate([best_s, np.take_along_axis(s, top, axis=1)], axis=1)
    order = np.argsort(-best_s, axis=1)[:, :k]
    return np.take_along_axis(best, order, axis=1)


def recall_at(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.mean([len(set(g.tolist()) & set(e.tolist())) / len(e) for g, e in zip(got, expected)]))


def faiss_bytes(index) -> int:
    """Resident size of the FAISS structures: codes + ids (+ centroids and id map for IVF)."""
    from rag.store.faiss_store import FaissIVFIndex

    n, d = len(index), index.dim
    if isinstance(index, FaissIVFIndex):
        return n * (d * 4 + 8) + index.nlist * d * 4 + n * 16  # hash-table direct map ~16 B/id
    return n * (d * 4 + 8)


def synthetic_collection(n: int, pool, rng):
    """(vectors, lexical, chunks, sentence_vectors, seconds to build lexical, sentence terms) of n
    rows: the pool's real chunks first, then copies of random real chunks whose vectors get noise
    (cosine ~0.9)."""
    R = len(pool.chunks)
    base = np.concatenate([np.arange(min(R, n)), rng.integers(0, R, max(0, n - R))])
    dim = pool.vectors.shape[1]
    vectors = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        part = base[start:start + 100_000]
        noise = rng.standard_normal((len(part), dim), dtype=np.float32) * (NOISE / np.sqrt(dim))
        noise[: max(0, R - start)] = 0  # the real chunks keep their real vectors
        v = pool.vectors[part] + noise
        vectors[start:start + len(part)] = v / np.linalg.norm(v, axis=1, keepdims=True)
    with Timer() as t_bm25:
        lexical = synthetic_lexical(pool.lexical, base)
    chunks = [pool.chunks[int(r)] for r in base]
    # Each row's sentences are its source chunk's sentences, with their real vectors (float16).
    starts = pool.sentence_row_start
    counts = (starts[base + 1] - starts[base]).astype(np.int64)
    flat = run_positions(starts[base], counts)
    sentence_vectors = np.asarray(pool.sentence_vectors, dtype=np.float16)[flat]
    return vectors, lexical, chunks, sentence_vectors, t_bm25.seconds, synthetic_sentence_terms(pool, flat)


def synthetic_sentence_terms(pool, sentences: np.ndarray):
    """The kept sentence terms (rag/store/sentence_terms.py) of rows whose sentences copy the
    pool's `sentences`, gathered as an ingest keeps them."""
    from rag.store import SentenceTerms, sentence_terms_of

    # A pool cached by an older release has none: analysed here, as its next ingest would.
    real = pool.sentence_term_index or SentenceTerms.build(sentence_terms_of(pool.chunks))
    lengths = np.diff(real.start)[sentences]
    flat = run_positions(np.asarray(real.start)[sentences], lengths)
    return SentenceTerms(real.vocab, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                         np.asarray(real.ids)[flat])


def run_size(n: int, pool, embedders: dict, ask_qs, search_qs, warm_qs,
             rng, recall_queries: np.ndarray) -> tuple[list[dict], list[dict]]:
    """One collection of n chunks, then the timed questions with each query encoder."""
    from rag.store import make_snapshot
    from rag.store.faiss_store import FaissStore, build_index, choose_kind

    dim = pool.vectors.shape[1]
    rss0 = rss_bytes()
    vectors, lexical, chunks, sentence_vectors, bm25_s, sentence_terms = synthetic_collection(n, pool, rng)
    vids = np.arange(n, dtype=np.int64)
    kind = choose_kind(n)
    with Timer() as t_faiss:
        index = build_index(kind, dim, vids, vectors)
    bm25_bytes = sum(getattr(lexical, k).nbytes for k in ("col_start", "col_rows", "col_scores"))

    rows, stage_rows = [], []
    for name, embedder in embedders.items():
        # A new Snapshot per encoder: nothing the previous encoder's questions warmed is kept.
        snap = make_snapshot(pool.manifest, pool.documents, pool.raw_texts, chunks, vids, vectors, FaissStore(index),
                             sentence_vectors, lexical, sentence_terms)
        ask_ms, search_ms, answered, stage_ms = time_questions(snap, embedder, ask_qs, search_qs, warm_qs)
        rows.append({"n_chunks": n, "index_type": kind, "query_encoder": name,
                     "ask_ms_p50": percentile(ask_ms, 50), "ask_ms_p95": percentile(ask_ms, 95),
                     "search_ms_p50": percentile(search_ms, 50), "search_ms_p95": percentile(search_ms, 95),
                     "answered": answered / len(ask_qs), "queries": len(ask_qs)})
        stage_rows.append({"n_chunks": n, "query_encoder": name, **stage_ms})

    # Rows are found by binary search in the sorted vids array: 8 bytes a chunk, no dict.
    vidmap_bytes = int(snap.vids.nbytes)
    loaded = loaded_footprint(snap, ask_qs[:50])
    got = index.search(recall_queries, 10)[1]
    recall = recall_at(got, exact_top(vectors, recall_queries, 10))
    terms_bytes = int(sentence_terms.start.nbytes + sentence_terms.ids.nbytes)  # memory-mapped when loaded
    index_bytes = (faiss_bytes(index) + vectors.nbytes + bm25_bytes + vidmap_bytes + sentence_vectors.nbytes
                   + terms_bytes)
    common = {
        "recall_at_10": recall, "recall_on": "synthetic clusters around real embeddings",
        "bytes_per_chunk": index_bytes / n, "index_bytes": index_bytes,
        "bytes": {"faiss": faiss_bytes(index), "vectors_npy": int(vectors.nbytes), "bm25": int(bm25_bytes),
                  "vid_map": int(vidmap_bytes), "sentence_vectors_npy": int(sentence_vectors.nbytes),
                  "sentence_terms": terms_bytes},
        "rss_delta_bytes": rss_bytes() - rss0,
        "loaded_anon_bytes": loaded["index_anon_bytes"], "loaded_anon_per_chunk": loaded["index_anon_bytes"] / n,
        "loaded_file_bytes": loaded["index_file_bytes"], "disk_bytes": loaded["disk_bytes"],
        "loaded_ask_ms_p50_int8": loaded["ask_ms_p50"], "loaded_ask_ms_p95_int8": loaded["ask_ms_p95"],
        "build_s": t_faiss.seconds + bm25_s, "faiss_build_s": t_faiss.seconds,
        "bm25_build_s": bm25_s,
        "nlist": getattr(index, "nlist", None), "nprobe": getattr(index, "nprobe", None),
        "target_ask_ms_p50": TARGET_MS.get(n),
    }
    del snap, chunks, index, lexical, vectors, sentence_vectors, sentence_terms
    gc.collect()
    return [{**r, **common} for r in rows], stage_rows


def loaded_footprint(snap, questions: list[str]) -> dict:
    """Write `snap` as an index folder, load it in a fresh process, ask, and read its RSS.

    This is what a server holds: chunk records stay in chunks.jsonl (read on demand), vectors
    are memory-mapped, FAISS and BM25 are in memory.
    """
    import json
    import subprocess

    from rag.store import IndexFolder

    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-loaded-"))
    try:
        IndexFolder(tmp / "index").write(snap)
        disk = sum(p.stat().st_size for p in (tmp / "index").rglob("*") if p.is_file())
        (tmp / "questions.json").write_text(json.dumps(questions))
        out = subprocess.run([sys.executable, str(Path(__file__).parent / "loaded_rss.py"), str(tmp / "index"),
                              str(tmp / "questions.json")], capture_output=True, text=True, check=True).stdout
        return {**json.loads(out.strip().splitlines()[-1]), "disk_bytes": disk}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def time_questions(snap, embedder, ask_qs, search_qs, warm_qs):
    """ask and search latencies (ms) through an Assistant over `snap`, and a per-stage breakdown."""
    from rag import Assistant, Settings
    from rag.retrieve.hybrid import FusionConfig, candidate_rows, fuse, signals
    from rag.text.lexical import terms
    from rag.types import Query

    # The Assistant over this in-memory snapshot (it stands in for one loaded from disk).
    assistant = Assistant(Settings(index_dir=Path(tempfile.gettempdir()) / "rag-bench-no-index"), embedder=embedder)
    assistant._snapshot, assistant._loaded = snap, True
    _ = snap.idf  # computed once per snapshot, on the first question
    for q in warm_qs:
        assistant.ask(q)
        assistant.search(q)
    embedder.clear_cache()  # every timed question pays for its embedding
    ask_ms, search_ms, answered, answer_stage = [], [], 0, []
    for q in ask_qs:
        t = time.perf_counter()
        a = assistant.ask(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
        answered += not a.abstained
        answer_stage.append(a.timings_ms["answer"])
    for q in search_qs:
        t = time.perf_counter()
        assistant.search(q)
        search_ms.append((time.perf_counter() - t) * 1000)
    best_ms = fastest_of(assistant, embedder, snap, ask_qs, 3)

    # Where the time goes: each stage of the same path, timed on its own (mean ms).
    # "fusion" is what follows the two searches (rag/retrieve/hybrid.py `signals` and `fuse`:
    # BM25 of the union's rows, each row's best sentence cosine and coverage, the weighted sum),
    # timed itself. It was the ask's time minus the other stages, which went below zero when the
    # stages timed here ran slower than inside the asks (2026-11-29, torch at 100k chunks).
    stages = {"embed_query": [], "faiss_search": [], "bm25_scores": [], "bm25_top": [], "fusion": [], "ask_total": []}
    for i, q in enumerate(ask_qs[:50]):
        t = time.perf_counter()
        qv = embedder.embed_documents([q + " ?" * (i % 3 + 1)])[0]  # not in the query cache
        t1 = time.perf_counter()
        snap.vector_store.search(qv[None, :], 50)
        t2 = time.perf_counter()
        s = snap.lexical.scores(terms(q))
        t3 = time.perf_counter()
        np.argpartition(-s, 49)[:50]
        t4 = time.perf_counter()
        query = Query(q, q, q, vector=qv)
        q_terms = terms(q)
        rows = candidate_rows(snap, query, "hybrid", FusionConfig().candidates, q_terms)  # the searches again, untimed
        t5 = time.perf_counter()
        fuse(signals(snap, query, "hybrid", rows, q_terms), FusionConfig())
        t6 = time.perf_counter()
        for k, v in zip(("embed_query", "faiss_search", "bm25_scores", "bm25_top", "fusion"),
                        (t1 - t, t2 - t1, t3 - t2, t4 - t3, t6 - t5)):
            stages[k].append(v * 1000)
    stages["ask_total"] = ask_ms
    stage_ms = {k: float(np.mean(v)) for k, v in stages.items()}
    stage_ms["ask_ms_p50_fastest_of_3"] = percentile(best_ms, 50)
    stage_ms.update(first_use_of_sentence_terms(assistant, snap, ask_qs[:50]))
    # The answer stage (sentence scores, the reranker, composing) as Assistant.ask timed it.
    stage_ms["answer_with_rerank"] = float(np.mean(answer_stage))
    stage_ms.update(margin_ab(assistant, embedder, ask_qs))
    stage_ms.update(second_opinion_ab(assistant, embedder, ask_qs))
    stage_ms.update(kept_terms_ab(assistant, embedder, ask_qs))
    return ask_ms, search_ms, answered, stage_ms


def fastest_of(assistant, embedder, snap, questions: list[str], times: int) -> list[float]:
    """Each question's fastest of `times` asks (ms), every ask from cold query caches: the code's
    own time where the machine pauses the process at random. On a VM that ran the process about
    half the time (benchmarks/common.py, `cpu_available`) single asks carried pauses of 0.2 to
    0.7 s; the p50 of single asks is the target's measure, this one says how much of it was the
    machine."""
    best = []
    for q in questions:
        ms = []
        for _ in range(times):
            embedder.clear_cache()
            snap._sentence_terms_cache.cache_clear()
            t = time.perf_counter()
            assistant.ask(q)
            ms.append((time.perf_counter() - t) * 1000)
        best.append(min(ms))
    return best


def first_use_of_sentence_terms(assistant, snap, questions: list[str]) -> dict[str, float]:
    """Mean ms for the terms of every sentence of a question's candidate chunks (what fusion and
    the answerer read of chunks no earlier question read), three ways, alternating which goes
    first so that all come from one run: analysed by the previous release's terms() (below) and
    by the shipped one (an index written before sentence terms were kept), and read from the
    kept sentence terms (rag/store/sentence_terms.py; Snapshot.sentence_terms, cache cleared)."""
    from dataclasses import replace

    from rag.retrieve.hybrid import FusionConfig, candidate_rows
    from rag.text.lexical import terms

    kept = replace(snap, sentence_term_index=snap.sentence_term_index)  # a cache of its own
    ms: dict[str, list[float]] = {"sentence_terms_first_use_previous": [], "sentence_terms_first_use": [],
                                  "sentence_terms_kept": []}
    for i, q in enumerate(questions):
        query = assistant.query(q)
        rows = [int(r) for r in candidate_rows(snap, query, "hybrid", FusionConfig().candidates, terms(query.text))]
        for name in list(ms) if i % 2 else list(ms)[::-1]:
            kept._sentence_terms_cache.cache_clear()
            t = time.perf_counter()
            for r in rows:
                if name.endswith("previous"):
                    [frozenset(previous_terms(s.text)) for s in snap.chunks[r].sentences]
                elif name.endswith("first_use"):
                    [frozenset(terms(s.text)) for s in snap.chunks[r].sentences]
                else:
                    kept.sentence_terms(r)
            ms[name].append((time.perf_counter() - t) * 1000)
    return {name: float(np.mean(v)) for name, v in ms.items()}


def kept_terms_ab(assistant, embedder, questions: list[str]) -> dict[str, float]:
    """`ask` p50 over the snapshot with kept sentence terms and over the same snapshot without
    them (sentences analysed on first use, as an index written before them), alternating
    question by question and which goes first: the ratio comes from one run."""
    from dataclasses import replace

    with_terms = assistant._snapshot
    snapshots = [with_terms, replace(with_terms, sentence_term_index=None)]
    ms: list[list[float]] = [[], []]
    try:
        for i, q in enumerate(questions):
            order = list(enumerate(snapshots))
            for k, snap in order if i % 2 else order[::-1]:
                assistant._snapshot = snap
                embedder.clear_cache()
                t = time.perf_counter()
                assistant.ask(q)
                ms[k].append((time.perf_counter() - t) * 1000)
    finally:
        assistant._snapshot = with_terms
    kept, analysed = (float(np.percentile(m, 50)) for m in ms)
    return {"ab_ask_p50_kept_terms": kept, "ab_ask_p50_analysed": analysed, "ab_kept_ratio": kept / analysed}


def previous_terms(text: str) -> list[str]:
    """rag.text.lexical.terms as the previous release wrote it: every word of every sentence
    worked out again (the shipped one looks up words it has seen; the output is the same)."""
    from rag.text import lexical

    words = [w.replace("’", "'").replace(".", "") for w in lexical._WORD.findall(text.lower())]
    words = [w.split("'")[0] if w.endswith(("'s", "'t")) else w for w in words]
    words = [lexical.BASE_FORM.get(w, w) for w in words if w]
    return lexical._stemmer().stemWords([w for w in words if w not in lexical._STOP])


def margin_ab(assistant, embedder, questions: list[str]) -> dict[str, float]:
    """`ask` p50 with the shipped answerer, whose cross-encoder reads only sentences within
    AnswerConfig.rerank_within of the best cheap score, and with one that reads the cheap score's
    top 4 whatever their scores (the previous release)."""
    from dataclasses import replace

    shipped = assistant.answerer
    every = replace(shipped, config=replace(shipped.config, rerank_within=float("inf")))
    margin, top4 = interleaved_p50(assistant, embedder, questions, [shipped, every])
    return {"ab_ask_p50_margin": margin, "ab_ask_p50_top4": top4, "ab_ratio": margin / top4}


def second_opinion_ab(assistant, embedder, questions: list[str]) -> dict[str, float]:
    """`ask` p50 with the shipped answerer, which asks abstention's second opinion
    (rag/rerank/bge_small.py) when its first model is unsure, and without it (the previous
    release), and the share of questions that asked it."""
    from dataclasses import replace

    shipped = assistant.answerer
    asked = []

    class Counting:
        def similarity(self, question, passage):
            asked.append(question)
            return shipped.second_opinion.similarity(question, passage)

    with_second = replace(shipped, second_opinion=Counting())
    second, first = interleaved_p50(assistant, embedder, questions, [with_second, replace(shipped, second_opinion=None)])
    return {"ab_ask_p50_second_opinion": second, "ab_ask_p50_first_only": first,
            "second_opinion_asked": len(asked) / len(questions)}


def interleaved_p50(assistant, embedder, questions: list[str], answerers: list) -> list[float]:
    """`ask` p50 (ms) with each answerer over the same questions, alternating question by question
    and which goes first, so the machine's drift hits all alike: ratios from one run."""
    shipped = assistant.answerer
    ms: list[list[float]] = [[] for _ in answerers]
    try:
        for i, q in enumerate(questions):
            order = list(enumerate(answerers))
            for k, answerer in order if i % 2 else order[::-1]:
                assistant.answerer = answerer
                embedder.clear_cache()  # each pays for the question's embedding
                t = time.perf_counter()
                assistant.ask(q)
                ms[k].append((time.perf_counter() - t) * 1000)
    finally:
        assistant.answerer = shipped
    return [float(np.percentile(m, 50)) for m in ms]


def real_recall(squad: Path, out: Path, embedder, n_sentences: int | None, n_questions: int, seed: int) -> list[dict]:
    """Recall@10 of IVF vs exact on real embeddings only: dev sentences + held-out dev questions."""
    from rag.text.sentences import split_sentences
    from rag.store.faiss_store import FaissIVFIndex

    texts: list[str] = []
    for p in article_paths(squad):
        t = p.read_text(encoding="utf-8")
        texts.extend(t[s:e] for s, e in split_sentences(t))
    texts = sorted(set(texts))
    questions = [q.text for q in load_questions(squad, None, None, seed)]
    queries, extra = questions[:n_questions], questions[n_questions:]
    corpus_texts = texts + extra
    if n_sentences:
        corpus_texts = [corpus_texts[i] for i in np.random.default_rng(seed).permutation(len(corpus_texts))[:n_sentences]]
    corpus = cached_embeddings(corpus_texts, embedder, out, "recall-corpus")
    qv = cached_embeddings(queries, embedder, out, "recall-queries")
    exact = exact_top(corpus, qv, 10)
    ids = np.arange(len(corpus), dtype=np.int64)
    rows = []
    nlist, nprobe = FaissIVFIndex.params_for(len(corpus))
    one_m_nlist, one_m_nprobe = FaissIVFIndex.params_for(1_000_000)
    # The 1M operating point scans nprobe/nlist = 1/16 of the cells; here with as many cells
    # as this corpus can train (>= 39 vectors per cell).
    strict = 2 ** int(np.log2(len(corpus) / 39))
    settings = [("params for this size", nlist, nprobe),
                ("1M operating point (1/16 of cells)", strict, max(1, strict * one_m_nprobe // one_m_nlist))]
    # Finer cells at the same probed share: how recall moves with the cell count.
    settings += [(f"1/16 of {c} cells", c, c // 16) for c in (128, 256) if c < strict and len(corpus) >= 39 * c]
    for label, nl, npr in settings:
        with Timer() as t:
            index = FaissIVFIndex.build(corpus.shape[1], ids, corpus, nlist=nl, nprobe=npr)
        got = index.search(qv, 10)[1]
        rows.append({"n_vectors": len(corpus), "queries": len(queries), "setting": label, "nlist": nl, "nprobe": npr,
                     "recall_at_10": recall_at(got, exact), "build_s": t.seconds})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--queries", type=int, default=200, help="timed questions per size (ask, and as many search)")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--pool-articles", type=int, default=None, help="real articles copied into the collection")
    p.add_argument("--recall-vectors", type=int, default=None, help="cap on real vectors for recall (default: all)")
    p.add_argument("--recall-queries", type=int, default=500)
    p.add_argument("--encoders", default="onnx-int8,torch", help="query encoders, comma-separated (onnx-int8, torch)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    from rag.embed import make_embedder
    from rag.embed.onnx_int8 import OnnxInt8Embedder
    from rag.store import build_lexical

    int8 = OnnxInt8Embedder()  # builds the collection's vectors: fast, and the same vector space
    with Timer() as t_pool:
        pool, doc_names = pool_snapshot(args.squad, args.pool_articles, args.out, int8)
    print(f"pool: {len(pool.chunks)} real chunks from {len(pool.documents)} articles ({t_pool.seconds:.1f} s)",
          flush=True)
    with Timer() as t_real_bm25:
        build_lexical(pool.chunks)  # analysing every chunk's text, as a --rebuild does
    qs = load_questions(args.squad, doc_names, None, args.seed)
    need = args.warmup + 2 * args.queries
    if len(qs) < need:
        raise SystemExit(f"{len(qs)} questions for these articles, need {need}; lower --queries")
    warm_qs = [q.text for q in qs[:args.warmup]]
    ask_qs = [q.text for q in qs[args.warmup:args.warmup + args.queries]]
    search_qs = [q.text for q in qs[args.warmup + args.queries:need]]
    recall_queries = cached_embeddings([q.text for q in qs[need:need + 200] or qs[:200]], int8, args.out, "recall-q")

    embedders = {name: make_embedder("all-MiniLM-L6-v2", name) for name in args.encoders.split(",")}
    for e in embedders.values():
        e.warm_up()
    rng = np.random.default_rng(args.seed)
    rows, stage_rows = [], []
    for n in [int(s) for s in args.sizes.split(",")]:
        with Timer() as t:
            size_rows, size_stages = run_size(n, pool, embedders, ask_qs, search_qs, warm_qs, rng, recall_queries)
        rows += size_rows
        stage_rows += size_stages
        for row in size_rows:
            print(f"{n:,} chunks, {row['query_encoder']}: ask p50 {row['ask_ms_p50']:.1f} ms, "
                  f"search p50 {row['search_ms_p50']:.1f} ms, recall@10 {row['recall_at_10']:.3f}", flush=True)
        print(f"({t.seconds:.0f} s)", flush=True)

    with Timer() as t_recall:
        recall_rows = real_recall(args.squad, args.out, int8, args.recall_vectors, args.recall_queries, args.seed)

    result = {**stamp(), "query_encoders": list(embedders), "rows": rows, "stages_ms": stage_rows,
              "recall_real": recall_rows,
              "real_bm25_build_s": {"chunks": len(pool.chunks), "seconds": t_real_bm25.seconds},
              "targets": {"ask_ms_p50": {str(k): v for k, v in TARGET_MS.items()}, "recall_at_10": TARGET_RECALL,
                          "index_bytes_1m": TARGET_BYTES_1M}}
    print(f"\nquery: {len(ask_qs)} timed dev questions per size after {len(warm_qs)} warm-up, "
          f"({result['date']}, {result['machine']})")
    shown = [{**r, "target": f"<= {r['target_ask_ms_p50']:.0f} ms" if r["target_ask_ms_p50"] else "",
              "MB": r["index_bytes"] / 2**20} for r in rows]
    print(table(shown, ["n_chunks", "index_type", "query_encoder", "ask_ms_p50", "ask_ms_p95", "target", "search_ms_p50",
                        "recall_at_10", "bytes_per_chunk", "MB", "build_s"]))
    print(f"recall_at_10 target >= {TARGET_RECALL} (here: synthetic collection); index within 4 GiB at 1M")
    print("\nwhere the time goes (mean ms per question):")
    print(table(stage_rows, ["n_chunks", "query_encoder", "embed_query", "faiss_search", "bm25_scores", "bm25_top",
                             "fusion", "answer_with_rerank", "ask_total"]))
    print("ask p50 where each question counts its fastest of 3 asks (the machine's pauses mostly left out; "
          "benchmarks/common.py cpu_available):")
    print(table(stage_rows, ["n_chunks", "query_encoder", "ask_ms_p50_fastest_of_3"]))
    print("of fusion and the answer stage, the terms of the candidate chunks' sentences not read before "
          "(mean ms, 50 questions), analysed by the previous release's terms() and the shipped one, and "
          "read from the sentence terms an index keeps (rag/store/sentence_terms.py), alternating:")
    print(table(stage_rows, ["n_chunks", "query_encoder", "sentence_terms_first_use_previous",
                             "sentence_terms_first_use", "sentence_terms_kept"]))
    print("\nkept sentence terms, interleaved with analysing sentences on first use (an index written "
          "before they were kept; ask p50 ms, the same questions):")
    print(table(stage_rows, ["n_chunks", "query_encoder", "ab_ask_p50_kept_terms", "ab_ask_p50_analysed",
                             "ab_kept_ratio"]))
    print("\nthe cross-encoder's margin (AnswerConfig.rerank_within), interleaved with reading the top 4 "
          "(ask p50 ms, the same questions):")
    print(table(stage_rows, ["n_chunks", "query_encoder", "ab_ask_p50_margin", "ab_ask_p50_top4", "ab_ratio"]))
    print("\nabstention's second opinion (bge-small-en-v1.5, asked when the first model is unsure), interleaved "
          "with the first model alone (ask p50 ms, the same questions; share of questions that asked it):")
    print(table(stage_rows, ["n_chunks", "query_encoder", "ab_ask_p50_second_opinion", "ab_ask_p50_first_only",
                             "second_opinion_asked"]))
    print("\nbytes per chunk by part:")
    print(table([{"n_chunks": r["n_chunks"], **{k: v / r["n_chunks"] for k, v in r["bytes"].items()},
                  "rss_delta/chunk": r["rss_delta_bytes"] / r["n_chunks"],
                  "loaded_anon/chunk": r["loaded_anon_per_chunk"], "loaded_anon_MB": r["loaded_anon_bytes"] / 2**20,
                  "loaded_file_MB": r["loaded_file_bytes"] / 2**20, "disk_MB": r["disk_bytes"] / 2**20,
                  "loaded_ask_p50_int8": r["loaded_ask_ms_p50_int8"]} for r in rows
                 if r["query_encoder"] == rows[0]["query_encoder"]],
                ["n_chunks", "faiss", "vectors_npy", "sentence_vectors_npy", "bm25", "sentence_terms", "vid_map",
                 "rss_delta/chunk", "loaded_anon/chunk", "loaded_anon_MB", "loaded_file_MB", "disk_MB",
                 "loaded_ask_p50_int8"]))
    print("loaded_*: the index loaded from disk by a fresh process, after 50 questions (benchmarks/loaded_rss.py):\n"
          "anon = its own heap, the 4 GiB target; file = page cache of memory-mapped files, reclaimable")
    print(f"\nrecall@10 of IVF vs exact on real embeddings only ({t_recall.seconds:.0f} s):")
    print(table(recall_rows, ["n_vectors", "queries", "setting", "nlist", "nprobe", "recall_at_10", "build_s"]))
    print(f"target >= {TARGET_RECALL}")
    print(f"BM25 built from the text of the {len(pool.chunks)} real chunks (analysis included): "
          f"{t_real_bm25.seconds:.2f} s")
    print(f"wrote {write_json(args.out, 'query.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
