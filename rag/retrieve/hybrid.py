"""Finding the chunks that answer a query: dense (FAISS), lexical (BM25), and their fusion.

Candidates are the top chunks of each side; then every candidate is scored on every signal,
so fusion compares like with like instead of guessing a missing score:
- `dense`: cosine of the query and the chunk vector;
- `sentence`: the best cosine of the query and one of the chunk's sentences, each embedded on
  its own (rag/indexer.py). A question asked in other words than the article's ("How high did
  the missile go?" / "hitting altitudes of 7,000 kilometers") matches one sentence far better
  than a 200-token window, and shares no word with it for BM25 to find;
- `lexical`: the BM25 score over the query's own upper bound (sum of idf x (k1 + 1)), so it
  means the same across queries;
- `coverage`: the idf-weighted share of the question's terms found in the chunk's best
  sentence: a chunk whose terms are all in one sentence beats one whose terms are scattered.
The fused score is a weighted sum; the weights were chosen by benchmarks/tune_retrieval.py on
the SQuAD dev seed-1 split and the tuning part of eval/natural together (README, "Retrieval
quality"), and reported on other questions. Modes: `dense` uses the two vector signals,
`lexical` BM25 alone, `hybrid` all four. This module knows nothing about answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from rag.errors import InputError
from rag.store import Snapshot
from rag.store.ragged import run_positions
from rag.text.lexical import Coverage, question_terms, terms
from rag.types import Hit, Query

MODES = ("hybrid", "dense", "lexical")
MAX_K = 100


class Retriever(Protocol):
    def retrieve(self, query: Query, k: int) -> list[Hit]:
        """The k best chunks for `query`, best first (rank 1), fewer when the index holds fewer
        matching chunks. Raises InputError for a k outside 1..MAX_K, or a dense mode without
        `query.vector`."""
        ...


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be an integer from 1 to {MAX_K}. Currently, k={k!r}")
    return k


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


@dataclass(frozen=True)
class FusionConfig:
    """Weights of the fused score (benchmarks/tune_retrieval.py chose them)."""

    dense_weight: float = 0.15  # 0.3 until eval/fresh joined the fitting data (2026-11-27 evening)
    sentence_weight: float = 0.8
    lexical_weight: float = 0.3
    coverage_weight: float = 0.2
    candidates: int = 50  # how many each side contributes before fusion


class Candidates(NamedTuple):
    """Every signal of every candidate row; a signal its mode does not use is None."""

    rows: np.ndarray
    dense: np.ndarray | None
    sentence: np.ndarray | None
    bm25: np.ndarray | None  # raw BM25 scores
    lexical: np.ndarray | None  # BM25 over the query's upper bound
    coverage: np.ndarray | None


def _row_sentences(snapshot: Snapshot, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the sentence rows of `rows`, one run per row; where each row's run begins among them;
    which rows have any sentence)."""
    starts = snapshot.sentence_row_start
    counts = (starts[rows + 1] - starts[rows]).astype(np.int64)
    return run_positions(starts[rows], counts), np.cumsum(counts) - counts, counts > 0


def _best_per_row(per_sentence: np.ndarray, run_start: np.ndarray, nonempty: np.ndarray,
                  empty_value: float) -> np.ndarray:
    """For each row, the highest of its sentences' values (`empty_value` for a row without any)."""
    out = np.full(len(run_start), empty_value, dtype=np.float32)
    if nonempty.any():
        out[nonempty] = np.maximum.reduceat(per_sentence, run_start[nonempty])
    return out


def best_sentence_cosine(snapshot: Snapshot, rows: np.ndarray, vectors: list[np.ndarray]) -> np.ndarray:
    """For each row, the best cosine between one of its sentences and any of `vectors`."""
    sentences, run_start, nonempty = _row_sentences(snapshot, rows)
    if not len(sentences):
        return np.full(len(rows), -1.0, dtype=np.float32)
    sims = np.asarray(snapshot.sentence_vectors[sentences], dtype=np.float32) @ np.stack(vectors).T
    return _best_per_row(sims.max(axis=1), run_start, nonempty, -1.0)


def best_sentence_coverage(snapshot: Snapshot, rows: np.ndarray, q_terms: set[str]) -> np.ndarray:
    """For each row, the share of the question's idf mass found in its best sentence."""
    cover = Coverage(q_terms, snapshot.idf, snapshot.unknown_idf)
    kept = snapshot.sentence_term_index
    if kept is None:  # an index written before sentence terms were kept: analyse the sentences
        return np.array([max(map(cover, snapshot.sentence_terms(int(r))), default=0.0) for r in rows],
                        dtype=np.float32)
    sentences, run_start, nonempty = _row_sentences(snapshot, rows)
    return _best_per_row(kept.coverage(sentences, cover.weights, cover.total), run_start, nonempty, 0.0)


def max_bm25(snapshot: Snapshot, q_terms: list[str]) -> float:
    """An upper bound of the BM25 score for these terms: sum of idf x (k1 + 1).

    Terms that no chunk contains count at the idf of the rarest term: when most of the
    question's words are absent from the articles ("how far did it fly" against "it flew"),
    the lexical score is weak evidence and the vectors should decide.
    """
    k1 = float(snapshot.lexical.k1)
    return sum(snapshot.idf.get(t, snapshot.unknown_idf) for t in set(q_terms)) * (k1 + 1)


def candidates(snapshot: Snapshot, query: Query, mode: str, n: int) -> Candidates:
    """The union of each side's top `n` rows, with every signal the mode uses."""
    q_terms = terms(query.text)
    return signals(snapshot, query, mode, candidate_rows(snapshot, query, mode, n, q_terms), q_terms)


def candidate_rows(snapshot: Snapshot, query: Query, mode: str, n: int, q_terms: list[str]) -> np.ndarray:
    """The two searches: the union of the dense and the lexical side's top `n` rows, sorted.
    `q_terms`: terms(query.text)."""
    dense_rows, lex_rows = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if mode != "lexical":
        if query.vector is None:
            raise InputError(f"{mode} retrieval needs the query's vector")
        _, vids = snapshot.vector_store.search(query.vector[None, :], n)
        dense_rows = snapshot.rows_of(vids[0][vids[0] >= 0])
    if mode != "dense" and q_terms:
        lex_rows, _ = snapshot.lexical.top(q_terms, n)
    return np.unique(np.concatenate([dense_rows, lex_rows]))


def signals(snapshot: Snapshot, query: Query, mode: str, rows: np.ndarray, q_terms: list[str]) -> Candidates:
    """Every signal the mode uses, for each of `rows`: what fusion reads after the searches.
    `q_terms`: terms(query.text)."""
    use_lexical = mode != "dense" and bool(q_terms)
    dense = sentence = lexical = cover = raw = None
    if mode != "lexical" and len(rows):
        dense = np.asarray(snapshot.vectors[rows], dtype=np.float32) @ query.vector
        vectors = [v for v in (query.vector, query.question_vector) if v is not None]
        sentence = best_sentence_cosine(snapshot, rows, vectors)
    if use_lexical:
        raw = snapshot.lexical.scores_of(q_terms, rows)
        lexical = raw / max(max_bm25(snapshot, q_terms), 1e-9)
        if mode == "hybrid":
            cover = best_sentence_coverage(snapshot, rows, question_terms(query.text))
    return Candidates(rows, dense, sentence, raw, lexical, cover)


def fuse(c: Candidates, fusion: FusionConfig) -> np.ndarray:
    """The weighted sum of the signals present (a missing one adds nothing)."""
    total = np.zeros(len(c.rows), dtype=np.float32)
    for signal, weight in ((c.dense, fusion.dense_weight), (c.sentence, fusion.sentence_weight),
                           (c.lexical, fusion.lexical_weight), (c.coverage, fusion.coverage_weight)):
        if signal is not None:
            total += weight * signal
    return total


class HybridRetriever:
    """Retriever over one Snapshot. `mode` picks dense, lexical or both."""

    def __init__(self, snapshot: Snapshot, mode: str = "hybrid", fusion: FusionConfig = FusionConfig()) -> None:
        self.snapshot = snapshot
        self.mode = check_mode(mode)
        self.fusion = fusion

    def retrieve(self, query: Query, k: int) -> list[Hit]:
        check_k(k)
        if not len(self.snapshot.chunks):
            return []
        c = candidates(self.snapshot, query, self.mode, max(self.fusion.candidates, k))
        if not len(c.rows):
            return []
        fused = fuse(c, self.fusion)
        order = np.argsort(-fused, kind="stable")[:k]
        return [Hit(chunk=self.snapshot.chunks[int(c.rows[i])], rank=r + 1, score=float(fused[i]),
                    row=int(c.rows[i]), dense=None if c.dense is None else float(c.dense[i]),
                    lexical=None if c.bm25 is None else float(c.bm25[i]))
                for r, i in enumerate(order)]
