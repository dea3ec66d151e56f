"""Abstention's second opinion (rag/rerank/bge_small.py, rag/answer/abstain.py): the real packaged
bge-small-en-v1.5, asked only when the first abstention model is unsure, and then deciding."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.abstain import RERANK_MODEL, SECOND_OPINION_MODEL, Evidence
from rag.errors import InputError
from rag.rerank import make_second_opinion

from conftest import assert_citations_verified


def test_the_answering_sentence_is_closer_than_one_on_another_topic(answerer):
    bge = answerer.second_opinion
    question = "How high did the missile go?"
    answering = "The missile stayed airborne for 86 minutes, hitting altitudes of 7,000 kilometers."
    other = "Ugali with vegetables, sour milk or meat is eaten by much of the population for lunch."
    near, far = bge.similarity(question, answering), bge.similarity(question, other)
    assert -1.0 <= far < near <= 1.0
    assert bge.similarity(question, answering) == near  # one text a run: no batch mates to move it


def test_names_and_a_changed_model_file_are_clear_errors(monkeypatch, tmp_path):
    assert make_second_opinion("none") is None
    with pytest.raises(InputError, match="unknown reranker"):
        make_second_opinion("bert-large")
    import rag.rerank.cross_encoder as ce
    from rag.rerank.bge_small import BgeSimilarity

    fake = tmp_path / "bge_small_en"
    fake.mkdir()
    (fake / "model.onnx").write_bytes(b"not the model")
    monkeypatch.setattr(ce, "model_dir", lambda name: fake if name == "bge_small_en" else None)
    with pytest.raises(InputError, match="sha256"):
        BgeSimilarity().warm_up()


def evidence(rerank: float, cosine: float = 0.5, second: float | None = None) -> Evidence:
    return Evidence(rerank=rerank, type_ok=True, cosine=cosine, coverage=0.5, cheap=1.0, second_opinion=second)


def test_inside_the_band_the_second_opinion_decides_and_outside_it_is_not_needed():
    low, high = SECOND_OPINION_MODEL["band"]
    assert low < RERANK_MODEL["threshold"] < high  # outside the band the first model's call stands
    sure_yes, sure_no = evidence(8.0), evidence(-8.0)
    assert sure_yes.probability() > high and not sure_yes.unsure() and sure_yes.answerable()
    assert sure_no.probability() < low and not sure_no.unsure() and not sure_no.answerable()
    unsure = evidence(1.0)
    assert unsure.unsure() and low <= unsure.probability() <= high
    # With the second opinion the other model decides, one way or the other by bge's cosine.
    assert evidence(1.0, second=0.85).answerable() and not evidence(1.0, second=0.3).answerable()
    assert evidence(1.0, second=0.85).probability() > evidence(1.0, second=0.3).probability()
    # Lexical mode (no cosine) and no reranker have no first model to be unsure about.
    assert not Evidence(rerank=1.0, type_ok=True, cosine=None, coverage=0.5, cheap=1.0).unsure()
    assert not Evidence(rerank=None, type_ok=True, cosine=0.5, coverage=0.5, cheap=1.0).unsure()


class CountingSimilarity:
    """The real second opinion, counting the questions it is asked about."""

    def __init__(self, model) -> None:
        self.model, self.asked = model, []

    def similarity(self, question, passage):
        self.asked.append(question)
        return self.model.similarity(question, passage)


def test_the_answerer_asks_only_when_unsure_and_its_answers_stay_verified(seed_assistant, answerer):
    snap = seed_assistant.require_snapshot()
    counting = CountingSimilarity(answerer.second_opinion)
    with_second = replace(answerer, second_opinion=counting)
    first_only = replace(answerer, second_opinion=None)
    questions = ["How high did the missile go?", "How many North Korean soldiers are in Russia?",
                 "Where did the missile land?", "What fuel did the missile use?",
                 "Who met Kim in Singapore?", "When will the troops reach the front?",
                 "How many times did Trump meet Kim?", "Who is Ukraine's defence minister?"]
    unsure = []
    for question in questions:
        query = seed_assistant.query(question)
        hits = seed_assistant.retriever(None, snap).retrieve(query, 10)
        ranked = first_only.rank(query, hits, snap)
        first = first_only.evidence(query, ranked, snap)
        asked_before = len(counting.asked)
        answer = with_second.answer(query, hits, snap)
        asked = len(counting.asked) > asked_before
        assert asked == first.unsure(), question
        if first.unsure():
            unsure.append(question)
            # The question as the models read it ("defence" is spelled as the article spells it).
            decided = replace(first, second_opinion=answerer.second_opinion.similarity(
                query.asked, ranked[0].sentence.text))
            assert answer.abstained == (not decided.answerable()), question
        else:
            assert answer.abstained == (not first.answerable()), question
        assert_citations_verified(answer)
    # The list holds sure and unsure questions, so both paths ran.
    assert 0 < len(unsure) < len(questions)
    assert "How high did the missile go?" not in unsure


def test_a_follow_up_keeps_the_first_models_call(seed_assistant, answerer):
    # The second opinion was fitted on questions that stand alone; a follow-up's pronoun leaves
    # a bi-encoder guessing, so the first model decides for it even where it is unsure.
    snap = seed_assistant.require_snapshot()
    counting = CountingSimilarity(answerer.second_opinion)
    with_second = replace(answerer, second_opinion=counting)
    history = [{"role": "user", "content": "How long did the missile stay airborne?"},
               {"role": "assistant", "content": "About 86 minutes [1]."}]
    query = seed_assistant.query("And how high did it go?", history)
    assert query.text != query.question
    hits = seed_assistant.retriever(None, snap).retrieve(query, 10)
    ranked = with_second.rank(query, hits, snap)
    first = replace(answerer, second_opinion=None).evidence(query, ranked, snap)
    assert first.unsure()  # the case the rule is for: without it, the second opinion would be asked
    assert with_second.evidence(query, ranked, snap) == first and not counting.asked
