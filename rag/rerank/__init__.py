"""Rerankers: score (question, passage) pairs jointly, which a bi-encoder cannot.

The embedder encodes a question and a sentence separately and compares two vectors; a
cross-encoder reads both together, so "How high did the missile go?" can match "hitting
altitudes of 7,000 kilometers" although they share no word. It costs a forward pass per pair,
so the answerer gives it only the few sentences its cheap scores put first (rag/answer/).
The default also brings a second opinion for abstention: a stronger bi-encoder's similarity of
the question and the best sentence, asked only when abstention is unsure (bge_small.py).

    RAG_RERANKER   ms-marco-minilm-l12 (default; with bge-small-en-v1.5 as second opinion) | none
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from rag.errors import InputError

DEFAULT_RERANKER = "ms-marco-minilm-l12"
RERANKERS = (DEFAULT_RERANKER, "none")


class Reranker(Protocol):
    """Scores how well each passage answers a question. Loads its model on first use."""

    @property
    def model_id(self) -> str:
        """A stable name of the model, written into evaluation reports."""
        ...

    def warm_up(self) -> None:
        """Load the model now (a server does this before its first request). Raises InputError
        when the model files are missing or damaged."""
        ...

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One relevance logit per passage (float32, higher = more likely to answer; the scale
        is the model's own, about -11 to +11 for the default model). An empty list gives an
        empty array. Raises InputError only when the model cannot be loaded."""
        ...


class Similarity(Protocol):
    """How close a passage is to a question, as a cosine. Loads its model on first use."""

    @property
    def model_id(self) -> str:
        ...

    def warm_up(self) -> None:
        """Load the model now. Raises InputError when the model files are missing or damaged."""
        ...

    def similarity(self, question: str, passage: str) -> float:
        """The cosine of the two texts' vectors (-1 to 1)."""
        ...


def make_second_opinion(name: str = DEFAULT_RERANKER) -> Similarity | None:
    """The similarity abstention asks when unsure, for reranker `name` (None without a reranker:
    the abstention model that uses it also needs the reranker's logit)."""
    if check_reranker(name) == "none":
        return None
    from rag.rerank.bge_small import BgeSimilarity

    return BgeSimilarity()


def make_reranker(name: str = DEFAULT_RERANKER) -> Reranker | None:
    """The reranker called `name`, or None for "none" (answers then rest on cheap scores)."""
    if check_reranker(name) == "none":
        return None
    from rag.rerank.cross_encoder import OnnxCrossEncoder

    return OnnxCrossEncoder()


def check_reranker(name: str) -> str:
    """`name` when it is one of RERANKERS; otherwise one clear error naming the setting."""
    if name not in RERANKERS:
        raise InputError(f"unknown reranker {name!r}; use one of {', '.join(RERANKERS)} (RAG_RERANKER)")
    return name


__all__ = ["DEFAULT_RERANKER", "RERANKERS", "Reranker", "Similarity", "make_reranker", "make_second_opinion"]
