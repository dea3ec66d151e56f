"""all-MiniLM-L6-v2 (or any sentence-transformers model) on the CPU through torch."""

from __future__ import annotations

import os
import threading
from typing import Sequence

import numpy as np

from rag.embed.base import DEFAULT_MODEL, QueryCache, canonical_model_id, resolve_model_path
from rag.errors import InputError


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
