"""One Settings object, read once at the edge (CLI, UI, or the caller of `Assistant.open`).

Environment variables (all optional):
    RAG_INDEX          index folder                       (default: index)
    RAG_EMBED_MODEL    model name or local folder          (default: all-MiniLM-L6-v2, packaged)
    RAG_ENCODER        onnx-int8 | torch                   (default: onnx-int8; rag/embed/onnx_int8.py)
    RAG_CHUNK_TOKENS   chunk size in tiktoken tokens       (default: 200)
    RAG_CHUNK_OVERLAP  sentences shared by neighbours      (default: 1)
    RAG_MAX_FILE_MB    larger files (and fetched pages) are skipped (default: 20)
    RAG_URL_TIMEOUT    seconds for fetching one web page   (default: 15)
    RAG_URL_ALLOW_PRIVATE  1: the chat and HTTP API may fetch pages of private/local addresses (default: 0)
    RAG_K              passages retrieved per question     (default: 5)
    RAG_MODE           hybrid | dense | lexical            (default: hybrid)
    RAG_RERANKER       ms-marco-minilm-l12 | none          (default: ms-marco-minilm-l12, packaged)
    RAG_SPELLING       1: misspelt question words are corrected toward the articles' words
                       (default: 1; rag/text/spelling.py; its word list is English)
    RAG_VECTOR_STORE   faiss | milvus                      (default: faiss)
    RAG_MILVUS_URI     a file path (Milvus Lite, embedded) or http://host:19530 (default: <index>/milvus.db)
    RAG_MILVUS_TOKEN   user:password or an API token for a Milvus server (default: none)
    RAG_LLM_URL        an OpenAI-compatible server's base URL, e.g. http://127.0.0.1:8081/v1
                       (default: none; generative answers, `ask(..., llm=True)`, need it)
    RAG_LLM_MODEL      the model name to send (default: the first one the server lists)
    RAG_LLM_API_KEY    sent as a Bearer token (default: none)
    RAG_LLM_TIMEOUT    seconds one generative answer may take before the extractive one is
                       shown instead (default: 60)
    RAG_LLM_RETRIES    retries of a refused connection or a 429/502/503/504 (default: 1)

`build_parts(settings)` is the one factory that turns Settings into the parts an Assistant is
composed of (rag/assistant.py); each part can also be passed in instead.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from rag.errors import InputError

if TYPE_CHECKING:
    from rag.answer.extractive import Answerer
    from rag.embed import Embedder
    from rag.retrieve.hybrid import Retriever
    from rag.store import Snapshot, VectorStore
    from rag.text.spelling import Speller

_ENV = {
    "index_dir": "RAG_INDEX",
    "model": "RAG_EMBED_MODEL",
    "encoder": "RAG_ENCODER",
    "chunk_tokens": "RAG_CHUNK_TOKENS",
    "chunk_overlap": "RAG_CHUNK_OVERLAP",
    "max_file_mb": "RAG_MAX_FILE_MB",
    "url_timeout": "RAG_URL_TIMEOUT",
    "url_allow_private": "RAG_URL_ALLOW_PRIVATE",
    "k": "RAG_K",
    "mode": "RAG_MODE",
    "reranker": "RAG_RERANKER",
    "spelling": "RAG_SPELLING",
    "vector_store": "RAG_VECTOR_STORE",
    "milvus_uri": "RAG_MILVUS_URI",
    "milvus_token": "RAG_MILVUS_TOKEN",
    "llm_url": "RAG_LLM_URL",
    "llm_model": "RAG_LLM_MODEL",
    "llm_api_key": "RAG_LLM_API_KEY",
    "llm_timeout": "RAG_LLM_TIMEOUT",
    "llm_retries": "RAG_LLM_RETRIES",
}


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    model: str = "all-MiniLM-L6-v2"
    encoder: str = "onnx-int8"
    chunk_tokens: int = 200
    chunk_overlap: int = 1
    max_file_mb: float = 20.0
    url_timeout: float = 15.0
    # Pages fetched for the chat and the HTTP API may come from private addresses (rag/ingest/url.py).
    url_allow_private: bool = False
    k: int = 5
    mode: str = "hybrid"
    reranker: str = "ms-marco-minilm-l12"
    spelling: bool = True
    vector_store: str = "faiss"
    milvus_uri: str = ""  # empty: <index_dir>/milvus.db
    milvus_token: str = field(default="", repr=False)
    llm_url: str = ""  # empty: no language model; answers are extractive only
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_timeout: float = 60.0
    llm_retries: int = 1

    @property
    def max_bytes(self) -> int:
        """The file size limit in bytes; InputError unless `max_file_mb` is a positive finite number
        ("nan" and "inf" parse as floats, and -1 would skip every file as "over the limit")."""
        mb = self.max_file_mb
        if not (isinstance(mb, (int, float)) and math.isfinite(mb) and mb > 0):
            raise InputError(f"the file size limit (--max-file-mb, RAG_MAX_FILE_MB) must be a positive number "
                             f"of megabytes, got {mb!r}")
        return int(mb * 1_000_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then environment variables, then explicit overrides (None = not given)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in _ENV.items():
            if env.get(var, "").strip():
                values[name] = _convert(name, types[name], env[var].strip(), var)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "index_dir" in values:
            values["index_dir"] = Path(values["index_dir"])
        return replace(cls(), **values)


def cache_root() -> Path:
    """Where models built or assembled on this machine are kept: RAG_CACHE_DIR, default
    ~/.cache/rag (the int8 encoder under onnx/, the local language model under llm/)."""
    return Path(os.environ.get("RAG_CACHE_DIR") or Path.home() / ".cache" / "rag").expanduser()


def _convert(name: str, type_name: str, value: str, var: str) -> Any:
    if type_name == "bool":
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise InputError(f"{var}={value!r} is not a yes/no value; use 1 or 0")
    try:
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
    except ValueError:
        raise InputError(f"{var}={value!r} is not a number") from None
    return value


@dataclass
class Parts:
    """What an Assistant is composed of. Per-version parts are factories: a vector store and a
    retriever belong to one index version, so the Assistant asks for them when it needs them."""

    embedder: Embedder
    answerer: Answerer
    generative: Answerer | None  # the language model's answerer, None without RAG_LLM_URL
    new_vector_store: Callable[[int], VectorStore]  # an empty store for vectors of this dimension
    retriever: Callable[[Snapshot, str], Retriever]  # a retriever over one version, in a mode
    speller: Speller | None  # corrects misspelt question words; None with RAG_SPELLING=0


def build_parts(settings: Settings, embedder: Embedder | None = None, answerer: Answerer | None = None,
                generative: Answerer | None = None) -> Parts:
    """The parts Settings name; `embedder`/`answerer`/`generative`, when given, are used instead
    (tests share loaded models that way). Builds, never loads: models load on first use, and the
    language model server is first contacted by the first generative answer."""
    from rag.embed import make_embedder
    from rag.retrieve.hybrid import HybridRetriever, check_mode
    from rag.store import make_vector_store
    from rag.text.spelling import Speller

    check_mode(settings.mode)
    if settings.vector_store not in ("faiss", "milvus"):
        raise InputError(f"unknown vector store {settings.vector_store!r}; use faiss or milvus (RAG_VECTOR_STORE)")
    embedder = embedder or make_embedder(settings.model, settings.encoder)
    answerer = answerer or make_extractive(settings)
    if generative is None and settings.llm_url:
        generative = make_generative(settings, embedder, answerer)
    return Parts(
        embedder=embedder,
        answerer=answerer,
        generative=generative,
        new_vector_store=lambda dim: make_vector_store(settings, dim),
        retriever=lambda snapshot, mode: HybridRetriever(snapshot, mode),
        speller=Speller() if settings.spelling else None,
    )


def make_extractive(settings: Settings):  # -> ExtractiveAnswerer
    """The default answerer: the reranker Settings name, and its second opinion for abstention."""
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.rerank import make_reranker, make_second_opinion

    return ExtractiveAnswerer(make_reranker(settings.reranker), second_opinion=make_second_opinion(settings.reranker))


def make_generative(settings: Settings, embedder: Embedder, answerer: Answerer) -> Answerer:
    """The generative answerer for settings.llm_url, on top of `answerer` when it is the
    extractive one (it shares its reranker), else on a new extractive answerer."""
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.answer.generative import GenerativeAnswerer
    from rag.answer.llm import OpenAIChat

    base = answerer if isinstance(answerer, ExtractiveAnswerer) else make_extractive(settings)
    chat = OpenAIChat(settings.llm_url, settings.llm_model, settings.llm_api_key, timeout=settings.llm_timeout,
                      retries=settings.llm_retries, read_timeout=min(30.0, settings.llm_timeout))
    return GenerativeAnswerer(base, chat, embedder)
