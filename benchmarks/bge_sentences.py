"""Would bge-small sentence vectors (a second encoder pass at ingest) choose better sentences?
(development try)

For every fitting question (as tune_retrieval.py loads them), every candidate sentence the
answerer considers gets bge-small-en-v1.5's cosine with the question (the sentence embedded as
the reranker reads it, title first; each text alone, as rag/rerank/bge_small.py does). Then:
- which sentence is cited first, with bge's cosine added to the cheap score that picks the
  sentences the cross-encoder reads (and that its logit is blended with);
- abstention with the best bge cosine over the candidates in place of MiniLM's.
Not shipped (README "Retrieval quality: what was measured" quotes the output). The vectors are
cached in build/tune-cache/bge_vectors.npz.

    .venv/bin/python benchmarks/bge_sentences.py
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import abstention_features as af  # noqa: E402
import tune_retrieval as tr  # noqa: E402
from rag.answer.extractive import AnswerConfig, Candidate, ExtractiveAnswerer, rerank_text  # noqa: E402
from rag.rerank.bge_small import INSTRUCTION, BgeSimilarity  # noqa: E402
from rag.rerank.cross_encoder import length_batches  # noqa: E402

VECTORS = tr.CACHE / "bge_vectors.npz"


class BgeVectors:
    def __init__(self) -> None:
        self.model = BgeSimilarity()
        self.model.warm_up()
        self.cache: dict[str, np.ndarray] = {}
        if VECTORS.is_file():
            data = np.load(VECTORS)
            self.cache = dict(zip(data["keys"].tolist(), data["vectors"]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = [(k, t) for k, t in zip(keys, texts) if k not in self.cache]
        if missing:
            enc = self.model._tokenizer.encode_batch([t for _, t in missing])
            for rows, feeds in length_batches(enc, 1):
                v = self.model._session.run(["last_hidden_state"], feeds)[0][:, 0]
                self.cache[missing[rows[0]][0]] = (v / np.linalg.norm(v, axis=1, keepdims=True))[0]
        return np.stack([self.cache[k] for k in keys])

    def save(self) -> None:
        np.savez(VECTORS, keys=np.array(list(self.cache)), vectors=np.stack(list(self.cache.values())))


@dataclass
class ShiftedCheap(ExtractiveAnswerer):
    """The shipped ranking (rag/answer/extractive.py) after each candidate's cheap score is
    replaced by `cheap(candidate)`: which sentences the cross-encoder reads, and the blend."""

    cheap: Callable[[Candidate], float] | None = None

    def candidates(self, query, hits, index) -> list[Candidate]:
        out = [replace(c, cheap=self.cheap(c)) for c in super().candidates(query, hits, index)]
        return sorted(out, key=lambda c: (-c.cheap, c.hit.rank, c.sentence.start))


def main() -> None:
    items, reranker, answerer = tr.fitting_answerer()
    bge = BgeVectors()
    t0 = time.perf_counter()
    per_q = []
    for it in items:
        if not it.hits:
            continue
        cands = answerer.candidates(it.query, it.hits, it.snap)
        if not cands:
            continue
        q = bge([INSTRUCTION + it.query.asked])[0]
        b = bge([rerank_text(c) for c in cands]) @ q
        per_q.append((it, cands, b))
    bge.save()
    print(f"bge cosines for {len(per_q)} questions in {time.perf_counter() - t0:.0f} s ({len(bge.cache)} texts)")
    answerable = [(it, c, b) for it, c, b in per_q if it.question.answerable]
    print("== first citation holds a gold answer (answerable) ==")
    def first(fn):
        out = {}
        for s in ("squad", "natural"):
            sel = [x for x in answerable if x[0].set == s]
            out[s] = np.mean([fn(*x) for x in sel])
        return "  ".join(f"{s} {v:.3f}" for s, v in out.items())
    print("  bge alone:       ", first(lambda it, c, b: tr.is_gold(it, c[int(np.argmax(b))])))
    print("  minilm cheap alone:", first(lambda it, c, b: tr.is_gold(it, c[0])))
    for lam in (0.0, 0.5, 1.0, 2.0):
        for mode in ("add", "replace"):
            if mode == "replace" and lam == 0.0:
                continue
            def answerer_for(c, b, lam=lam, mode=mode):
                bonus = {x.key: lam * float(bb) for x, bb in zip(c, b)}
                def cheap(x):  # MiniLM's cosine kept ("add") or taken out ("replace")
                    return x.cheap + bonus[x.key] - (0.0 if mode == "add" else x.cosine or 0.0)
                return ShiftedCheap(reranker, AnswerConfig(), cheap=cheap)
            def first_gold(it, c, b):
                return tr.is_gold(it, answerer_for(c, b).rank(it.query, it.hits, it.snap)[0])
            def top4(it, c, b):
                return any(tr.is_gold(it, x) for x in answerer_for(c, b).candidates(it.query, it.hits, it.snap)[:4])
            print(f"  cheap {mode} {lam} x bge: reranked first {first(first_gold)}   gold in cheap top 4 {first(top4)}")
    reranker.save()
    # abstention: best bge cosine over the candidates, beside / in place of MiniLM's
    best_bge = {id(it): float(b.max()) for it, c, b in per_q}
    rows = []
    for it, ranked, row in tr.shipped_rows(items, answerer):
        if id(it) in best_bge:
            rows.append({**row, "bge_best": best_bge[id(it)]})
    print("== abstention ==")
    for name, cols in {"shipped": af.SHIPPED, "+ bge best": af.SHIPPED + ["bge_best"],
                       "bge best for cosine": ["rerank", "type_miss", "name_miss", "bge_best"]}.items():
        print(f"  {name}\n      in-sample        {tr.fitted_rates(rows, cols, af.LIMITS)}\n"
              f"      cross-validated  {af.cross_validated(rows, cols)}")


if __name__ == "__main__":
    main()
