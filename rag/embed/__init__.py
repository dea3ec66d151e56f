"""Embedders: the protocol and helpers (base), fp32 torch and int8 ONNX Runtime implementations."""

from __future__ import annotations

from rag.embed.base import (DEFAULT_MODEL, Embedder, QueryCache, canonical_model_id, passage_text,
                            resolve_model_path, sentence_char_spans)
from rag.errors import InputError

ENCODERS = ("torch", "onnx-int8")


def make_embedder(model: str = DEFAULT_MODEL, encoder: str = "torch") -> Embedder:
    """The embedder for a model name/path and an encoder backend ("torch", or "onnx-int8")."""
    if encoder == "torch":
        from rag.embed.torch_encoder import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model)
    if encoder == "onnx-int8":
        from rag.embed.onnx_int8 import OnnxInt8Embedder

        return OnnxInt8Embedder(model)
    raise InputError(f"unknown encoder {encoder!r}; use 'torch' or 'onnx-int8'")


__all__ = ["DEFAULT_MODEL", "ENCODERS", "Embedder", "QueryCache", "canonical_model_id", "make_embedder",
           "passage_text", "resolve_model_path", "sentence_char_spans"]
