"""Finding the chunks that answer a query: dense (FAISS), lexical (BM25), and their fusion.

Hybrid retrieval takes the top candidates of each side, then scores every candidate on both
sides (the cosine of a lexical-only candidate is one dot product with its stored vector; the
BM25 score of a dense-only candidate is read from the full score vector), so fusion compares
like with like instead of guessing a missing score. Fusion is a weighted sum of the cosine
and the BM25 score normalised by the query's own upper bound (sum of idf x (k1 + 1)), so the
fused score means the same across queries. A second stage adds the idf-weighted coverage of
the query by the chunk's best sentence: a chunk whose terms are all in one sentence beats one
whose terms are scattered. `benchmarks/tune_retrieval.py` measured the variants (README,
"Retrieval quality"); reciprocal-rank fusion lost to score fusion by about 5 points of hit@1.
This module knows nothing about answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.embed import Embedder
from rag.errors import InputError
from rag.text.lexical import coverage, question_terms, terms
from rag.store import Snapshot
from rag.types import Hit

MODES = ("hybrid", "dense", "lexical")
MAX_K = 100


class Retriever(Protocol):
    def retrieve(self, query: str, k: int) -> list[Hit]: ...


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be an integer from 1 to {MAX_K}. Currently, k={k!r}")
    return k


@dataclass(frozen=True)
class FusionConfig:
    dense_weight: float = 0.3  # share of the cosine in the fused score; the rest is lexical
    sentence_weight: float = 0.2  # weight of the best sentence's query coverage (second stage)
    candidates: int = 50  # how many each side contributes before fusion


class HybridRetriever:
    """Retriever over one Snapshot. `mode` picks dense, lexical or both."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, mode: str = "hybrid",
                 fusion: FusionConfig = FusionConfig()) -> None:
        if mode not in MODES:
            raise InputError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        self.snapshot = snapshot
        self.embedder = embedder
        self.mode = mode
        self.fusion = fusion

    def retrieve(self, query: str, k: int) -> list[Hit]:
        check_k(k)
        snap = self.snapshot
        if not snap.chunks:
            return []
        n_cand = max(self.fusion.candidates, k)
        q_terms = terms(query)
        dense_rows, lex_rows = np.zeros(0, np.int64), np.zeros(0, np.int64)
        qvec = None
        if self.mode != "lexical":
            qvec = self.embedder.embed_query(query)
            _, vids = snap.vector_index.search(qvec[None, :], n_cand)
            dense_rows = snap.rows_of(vids[0][vids[0] >= 0])
        bm25 = None
        if self.mode != "dense" and q_terms:
            bm25 = snap.bm25.get_scores(q_terms)
            top = min(n_cand, len(bm25))
            lex_rows = np.argpartition(-bm25, top - 1)[:top]
            lex_rows = lex_rows[bm25[lex_rows] > 0]

        rows = np.unique(np.concatenate([dense_rows, lex_rows]))
        if not len(rows):
            return []
        dense = snap.vectors[rows] @ qvec if qvec is not None else None
        lexical = bm25[rows] if bm25 is not None else None
        fused = self._fuse(dense, lexical, q_terms)
        if self.mode == "hybrid" and self.fusion.sentence_weight and q_terms:
            fused = fused + self.fusion.sentence_weight * self._best_sentence_coverage(query, rows)
        order = np.argsort(-fused, kind="stable")[:k]
        return [Hit(chunk=snap.chunks[int(rows[i])], rank=r + 1, score=float(fused[i]), row=int(rows[i]),
                    dense=None if dense is None else float(dense[i]),
                    lexical=None if lexical is None else float(lexical[i]))
                for r, i in enumerate(order)]

    def _best_sentence_coverage(self, query: str, rows: np.ndarray) -> np.ndarray:
        """For each candidate, the share of the question's idf mass found in its best sentence."""
        snap = self.snapshot
        q_set = question_terms(query)
        return np.array([max((coverage(q_set, st, snap.idf, snap.unknown_idf) for st in snap.sentence_terms(int(r))),
                             default=0.0) for r in rows])

    def _fuse(self, dense: np.ndarray | None, lexical: np.ndarray | None, q_terms: list[str]) -> np.ndarray:
        if lexical is None:
            return dense
        lex_norm = lexical / max(self._max_bm25(q_terms), 1e-9)
        if dense is None:
            return lex_norm
        w = self.fusion.dense_weight
        return w * dense + (1 - w) * lex_norm

    def _max_bm25(self, q_terms: list[str]) -> float:
        """An upper bound of the BM25 score for these terms: sum of idf x (k1 + 1).

        Terms that no chunk contains count at the idf of the rarest term: when most of the
        question's words are absent from the articles ("how far did it fly" against "it flew"),
        the lexical score is weak evidence and the cosine should decide.
        """
        snap = self.snapshot
        k1 = float(snap.bm25.k1)
        return sum(snap.idf.get(t, snap.unknown_idf) for t in set(q_terms)) * (k1 + 1)
