"""One Settings object, read once at the edge (CLI, UI, or the caller of `Assistant.open`).

Environment variables (all optional):
    RAG_INDEX          index folder                       (default: index)
    RAG_EMBED_MODEL    model name or local folder          (default: all-MiniLM-L6-v2, packaged)
    RAG_ENCODER        onnx-int8 | torch                   (default: onnx-int8; rag/embed/onnx_int8.py)
    RAG_CHUNK_TOKENS   chunk size in tiktoken tokens       (default: 200)
    RAG_CHUNK_OVERLAP  sentences shared by neighbours      (default: 1)
    RAG_MAX_FILE_MB    larger files (and fetched pages) are skipped (default: 20)
    RAG_URL_TIMEOUT    seconds for fetching one web page   (default: 15)
    RAG_K              passages retrieved per question     (default: 5)
    RAG_MODE           hybrid | dense | lexical            (default: hybrid)
    RAG_RERANKER       ms-marco-minilm-l12 | none          (default: ms-marco-minilm-l12, packaged)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from rag.errors import InputError

_ENV = {
    "index_dir": "RAG_INDEX",
    "model": "RAG_EMBED_MODEL",
    "encoder": "RAG_ENCODER",
    "chunk_tokens": "RAG_CHUNK_TOKENS",
    "chunk_overlap": "RAG_CHUNK_OVERLAP",
    "max_file_mb": "RAG_MAX_FILE_MB",
    "url_timeout": "RAG_URL_TIMEOUT",
    "k": "RAG_K",
    "mode": "RAG_MODE",
    "reranker": "RAG_RERANKER",
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
    k: int = 5
    mode: str = "hybrid"
    reranker: str = "ms-marco-minilm-l12"

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

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


def _convert(name: str, type_name: str, value: str, var: str) -> Any:
    try:
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
    except ValueError:
        raise InputError(f"{var}={value!r} is not a number") from None
    return value
