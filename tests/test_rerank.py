"""The packaged cross-encoder (rag/rerank/): real model, real scores, checked model file."""

from __future__ import annotations

import numpy as np
import pytest

from rag.errors import InputError
from rag.rerank import make_reranker


def test_the_answering_sentence_outscores_sentences_on_the_same_topic(answerer):
    reranker = answerer.reranker
    scores = reranker.score("How high did the missile go?", [
        "It flew 1,000 kilometers after being fired on a lofted trajectory.",
        "The missile stayed airborne for 86 minutes, hitting altitudes of 7,000 kilometers.",
        "Kim called the launch an appropriate military action.",
    ])
    assert scores.dtype == np.float32 and scores.shape == (3,)
    assert int(np.argmax(scores)) == 1
    assert reranker.score("anything", []).shape == (0,)


def test_unknown_names_and_a_changed_model_file_are_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(InputError, match="unknown reranker"):
        make_reranker("bert-large")
    assert make_reranker("none") is None
    import rag.rerank.cross_encoder as ce

    fake = tmp_path / "reranker_en"
    fake.mkdir()
    (fake / "model.onnx").write_bytes(b"not the model")
    monkeypatch.setattr(ce, "model_dir", lambda: fake)
    with pytest.raises(InputError, match="sha256"):
        ce.OnnxCrossEncoder().warm_up()
