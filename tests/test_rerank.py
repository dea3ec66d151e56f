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
    monkeypatch.setattr(ce, "model_dir", lambda name: fake)
    with pytest.raises(InputError, match="sha256"):
        ce.OnnxCrossEncoder().warm_up()


class CountingReranker:
    """The real reranker, counting the sentences it is asked to read."""

    def __init__(self, reranker) -> None:
        self.reranker, self.read = reranker, []

    def score(self, question, passages):
        self.read.append(len(passages))
        return self.reranker.score(question, passages)


def test_sentences_far_below_the_best_cheap_score_are_not_reranked(seed_assistant, answerer):
    # The reranker is most of a question's time; a sentence whose cheap score is more than
    # `rerank_within` below the best one's is left unread (on the fitting sets such a sentence
    # never became the first citation). The answerer reads at most `rerank_top` sentences.
    from dataclasses import replace

    from rag.answer.extractive import ExtractiveAnswerer

    snap = seed_assistant.require_snapshot()
    counting = CountingReranker(answerer.reranker)
    pruned = ExtractiveAnswerer(counting, answerer.config)
    every = ExtractiveAnswerer(answerer.reranker, replace(answerer.config, rerank_within=float("inf")))
    questions = ["How high did the missile go?", "How many North Korean soldiers are in Russia?",
                 "Who is Ukraine's leader?", "What did Zelensky criticize his partners for?",
                 "How many times did Trump meet Kim?", "What fuel did the missile use?"]
    for question in questions:
        query = seed_assistant.query(question)
        hits = seed_assistant.retriever(None, snap).retrieve(query, 10)
        ranked = pruned.rank(query, hits, snap)
        read = [c for c in ranked if c.rerank is not None]
        assert 1 <= len(read) == counting.read[-1] <= answerer.config.rerank_top
        best_cheap = max(c.cheap for c in ranked)
        assert all(c.cheap >= best_cheap - answerer.config.rerank_within for c in read)
        assert all(c.rerank is None for c in ranked[len(read):])
        # The sentence cited first is the one reading every top sentence would cite.
        assert ranked[0].key == every.rank(query, hits, snap)[0].key, question
    assert sum(counting.read) < answerer.config.rerank_top * len(questions)
