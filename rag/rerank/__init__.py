"""Rerankers: score (question, passage) pairs jointly, which a bi-encoder cannot.

The embedder encodes a question and a sentence separately and compares two vectors; a
cross-encoder reads both together, so "How high did the missile go?" can match "hitting
altitudes of 7,000 kilometers" although they share no word. It costs a forward pass per pair,
so the answerer gives it only the few sentences its cheap scores put first (rag/answer/).

    RAG_RERANKER   ms-marco-minilm-l12 (default) | none
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


def make_reranker(name: str = DEFAULT_RERANKER) -> Reranker | None:
    """The reranker called `name`, or None for "none" (answers then rest on cheap scores)."""
    if name == "none":
        return None
    if name == DEFAULT_RERANKER:
        from rag.rerank.cross_encoder import OnnxCrossEncoder

        return OnnxCrossEncoder()
    raise InputError(f"unknown reranker {name!r}; use one of {', '.join(RERANKERS)} (RAG_RERANKER)")


__all__ = ["DEFAULT_RERANKER", "RERANKERS", "Reranker", "make_reranker"]
