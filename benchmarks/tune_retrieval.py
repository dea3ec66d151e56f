"""Compare fusion and sentence-selection variants on SQuAD dev, on a split the eval does not use.

Part 1 ranks chunks with each fusion variant over exact dense scores and full BM25 scores.
Part 2 takes the shipped retrieval and compares ways of choosing the cited sentence among the
sentences of the top 3 hits (share of questions whose chosen sentence holds a gold answer).

Uses seed 1 (questions and held-out articles); `rag eval` reports on seed 0. Prints hit@1/hit@5
of each fusion variant and citation_support@1 of each sentence-scoring variant, so README
claims about what won come from this output.

    .venv/bin/python benchmarks/tune_retrieval.py [--limit 2000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.eval.datasets import load_folder, sample  # noqa: E402
from rag.eval.run import evaluate  # noqa: E402
from rag.text.lexical import terms  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared/data/squad-v1.1-dev"))
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    index = ROOT / "build" / f"eval-index-squad-v1.1-dev-h0.15-s{args.seed}"
    evaluate(args.dataset, index, limit=1, seed=args.seed, holdout_docs=0.15)  # sets up the index
    from rag.assistant import Assistant

    assistant = Assistant.open(index)
    snap = assistant.require_snapshot()
    ds = load_folder(Path(args.dataset), 0.15, args.seed, Path(f"{index}.articles"))
    qs = [q for q in sample(ds.questions, args.limit, args.seed) if q.answerable]
    qvecs = assistant.embedder.embed_documents([q.question for q in qs])
    k1 = float(snap.bm25.k1)
    gold = []
    for q in qs:
        g = np.array([c.doc_id == q.doc_id and any(c.start <= s and e <= c.end for s, e in q.spans)
                      for c in snap.chunks])
        gold.append(g)
    dense_all = qvecs @ snap.vectors.T  # (n_q, n_chunks): exact, fine at this size
    lex_all = []
    maxb = []
    for q in qs:
        t = terms(q.question)
        lex_all.append(snap.bm25.get_scores(t) if t else np.zeros(len(snap.chunks)))
        maxb.append(sum(snap.idf.get(x, 0.0) for x in set(t)) * (k1 + 1))
    lex_all = np.array(lex_all)
    maxb = np.array(maxb)[:, None]
    # The same bound with query terms that no chunk contains counted at the idf of the rarest term.
    maxb_unknown = np.array([sum(snap.idf.get(x, snap.unknown_idf) for x in set(terms(q.question))) * (k1 + 1)
                             for q in qs])[:, None]

    def report(name, scores):
        order = np.argsort(-scores, axis=1)[:, :10]
        ranks = []
        for i, g in enumerate(gold):
            r = np.nonzero(g[order[i]])[0]
            ranks.append(r[0] + 1 if len(r) else 99)
        ranks = np.array(ranks)
        print(f"{name:45s} hit@1 {np.mean(ranks <= 1):.3f}  hit@5 {np.mean(ranks <= 5):.3f}  hit@10 {np.mean(ranks <= 10):.3f}")

    report("dense", dense_all)
    report("lexical", lex_all)
    rd = np.argsort(np.argsort(-dense_all, axis=1), axis=1)
    rl = np.argsort(np.argsort(-lex_all, axis=1), axis=1)
    report("rrf k=60", 1 / (60 + rd) + 1 / (60 + rl))
    for w in (0.3, 0.5, 0.7):
        report(f"rrf weighted dense={w}", w / (60 + rd) + (1 - w) / (60 + rl))
    lex_max = lex_all / np.maximum(lex_all.max(axis=1, keepdims=True), 1e-9)
    lex_bound = lex_all / np.maximum(maxb, 1e-9)
    for w in (0.2, 0.3, 0.4, 0.5, 0.6):
        report(f"w*cos+(1-w)*bm25/max dense={w}", w * dense_all + (1 - w) * lex_max)
    for w in (0.2, 0.3, 0.4, 0.5):
        report(f"w*cos+(1-w)*bm25/bound dense={w}", w * dense_all + (1 - w) * lex_bound)
    dz = (dense_all - dense_all.mean(1, keepdims=True)) / dense_all.std(1, keepdims=True)
    lz = (lex_all - lex_all.mean(1, keepdims=True)) / np.maximum(lex_all.std(1, keepdims=True), 1e-9)
    for w in (0.3, 0.4, 0.5):
        report(f"z-score fusion dense={w}", w * dz + (1 - w) * lz)
    for w in (0.1, 0.15):
        report(f"w*cos+(1-w)*bm25/bound dense={w}", w * dense_all + (1 - w) * lex_bound)
    sentence_rerank_variants(snap, qs, 0.2 * dense_all + 0.8 * lex_bound, gold, report, "bound 0.2")
    sentence_rerank_variants(snap, qs, 0.6 * dense_all + 0.4 * lex_max, gold, report, "max 0.6")
    lex_bound_u = lex_all / np.maximum(maxb_unknown, 1e-9)
    for w in (0.2, 0.3, 0.4):
        sentence_rerank_variants(snap, qs, w * dense_all + (1 - w) * lex_bound_u, gold, report,
                                 f"bound+unknown {w}")
    sentence_choice_variants(assistant, snap, qs, qvecs)


def sentence_choice_variants(assistant, snap, qs, qvecs) -> None:
    """Citation choice: features of each candidate sentence, then each scoring rule's accuracy."""
    from rag.text.lexical import coverage, question_terms

    results: dict[str, list[bool]] = {}
    rules = {
        "coverage only": lambda c: c["cov"],
        "coverage + 0.3 prior": lambda c: c["cov"] + 0.3 * c["prior"],
        "sentence cosine only": lambda c: c["dense"],
        "coverage + cosine + 0.3 prior": lambda c: c["cov"] + c["dense"] + 0.3 * c["prior"],
        "(coverage+context)/2 + cosine + 0.3 prior [shipped]":
            lambda c: 0.5 * c["cov"] + 0.5 * c["ctx"] + c["dense"] + 0.3 * c["prior"],
        "(coverage+context)/2 + 1.5 cosine + 0.3 prior":
            lambda c: 0.5 * c["cov"] + 0.5 * c["ctx"] + 1.5 * c["dense"] + 0.3 * c["prior"],
    }
    for qi, q in enumerate(qs):
        hits = assistant.search(q.question, k=3)
        if not hits:
            continue
        qt = question_terms(q.question)
        cands = []
        for h in hits:
            row = snap.row_of_chunk[h.chunk.id]
            sims = np.asarray(snap.sentence_vectors_of(row), dtype=np.float32) @ qvecs[qi]
            st = snap.sentence_terms(row)
            for j, sent in enumerate(h.chunk.sentences):
                cands.append({
                    "cov": coverage(qt, st[j], snap.idf, snap.unknown_idf),
                    "ctx": coverage(qt, st[j] | (st[j - 1] if j else frozenset()), snap.idf, snap.unknown_idf),
                    "dense": float(sims[j]), "prior": h.score / hits[0].score,
                    "ok": h.chunk.doc_id == q.doc_id and any(sent.start <= a and b <= sent.end for a, b in q.spans),
                })
        for name, rule in rules.items():
            results.setdefault(name, []).append(max(cands, key=rule)["ok"])
    for name, oks in results.items():
        print(f"citation choice: {name:52s} {np.mean(oks):.3f}  (n={len(oks)})")



def sentence_rerank_variants(snap, qs, base_scores, gold, report, label):
    """Second stage: top 20 by `base_scores`, plus beta x the best sentence's idf coverage."""
    from rag.text.lexical import terms

    sent_terms = [[frozenset(terms(s.text)) for s in c.sentences] for c in snap.chunks]
    top = np.argsort(-base_scores, axis=1)[:, :20]
    best_cov = np.zeros((len(qs), 20))
    from rag.text.lexical import coverage, question_terms

    for i, q in enumerate(qs):
        qt = question_terms(q.question)
        for j, row in enumerate(top[i]):
            best_cov[i, j] = max((coverage(qt, st, snap.idf, snap.unknown_idf) for st in sent_terms[row]), default=0)
    base_top = np.take_along_axis(base_scores, top, axis=1)
    for beta in (0.0, 0.2, 0.3, 0.5):
        s = np.full_like(base_scores, -1e9)
        np.put_along_axis(s, top, base_top + beta * best_cov, axis=1)
        report(f"{label} + {beta} x best-sentence coverage", s)


if __name__ == "__main__":
    main()
