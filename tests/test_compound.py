"""Two questions in one, answered part by part (rag/answer/compound.py), on the seed index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer import compound
from rag.conversation import read_turn
from tests.conftest import assert_citations_verified

ROOT = Path(__file__).resolve().parent.parent
ALTITUDE = "hitting altitudes of 7,000"
DISTANCE = "It flew 1,000 kilometers"


@pytest.mark.parametrize("question, expected", [
    ("How high and how far did the missile go?", ["How high did the missile go?", "How far did the missile go?"]),
    ("When and where did the test take place?", ["When did the test take place?", "Where did the test take place?"]),
    ("When, and where did the test take place?", ["When did the test take place?", "Where did the test take place?"]),
    ("How high did the missile go and how far did it fly?", ["How high did the missile go?", "How far did the missile fly?"]),
    ("And how high and how far did it go?", ["How high did it go?", "How far did it go?"]),
    # The second part's pronoun takes the first part's subject: a name, or the noun after its verb.
    ("How long is the Rhine and where does it begin?", ["How long is the Rhine?", "Where does the Rhine begin?"]),
    ("When was Nikola Tesla born and where did he die?", ["When was Nikola Tesla born?", "Where did Nikola Tesla die?"]),
    ("When was Super Bowl 50 played and where was it held?",
     ["When was Super Bowl 50 played?", "Where was Super Bowl 50 held?"]),
    ("When was Marie born and where was her home?", ["When was Marie born?", "Where was Marie's home?"]),
    ("How big is the army and where is its base?", ["How big is the army?", "Where is the army's base?"]),
    ("How high did the North Korean missile go and how far did it fly?",
     ["How high did the North Korean missile go?", "How far did the North Korean missile fly?"]),
    ("How long is the Rhine in Germany and where does it end?",
     ["How long is the Rhine in Germany?", "Where does the Rhine end?"]),
    # The pronoun stands for the thing asked about, or for nothing the first part names: as asked.
    ("What did North Korea launch and how high did it go?", ["What did North Korea launch?", "How high did it go?"]),
    ("How high did it go and how far did it fly?", ["How high did it go?", "How far did it fly?"]),
])
def test_the_parts_of_a_compound_question(question, expected):
    assert compound.parts(question) == expected


@pytest.mark.parametrize("question", [
    "How high did the missile go?", "Where did Tesla and Edison work?", "Who founded the company and when?",
    "What are the main causes and effects of the crisis?",
    "How far did the missile fly and who won the US election?",  # "won" is no auxiliary: one question
])
def test_one_question_stays_one(question):
    assert compound.parts(question) == []


def test_no_question_of_the_natural_set_is_split():
    rows = [json.loads(line) for line in (ROOT / "eval/natural/questions.jsonl").read_text().splitlines() if line]
    assert rows and not [r["question"] for r in rows if compound.parts(read_turn(r["question"])[1])]


@pytest.mark.parametrize("question", ["How high and how far did the missile go?",
                                      "How high did the missile go and how far did it fly?"])
def test_both_parts_are_answered(seed_assistant, question):
    answer = seed_assistant.ask(question)
    assert_citations_verified(answer)
    assert ALTITUDE in answer.answer and DISTANCE in answer.answer


def test_a_follow_up_is_split_too(seed_assistant):
    # Each part is searched with the earlier question in front; the reranker reads the part
    # alone, as for any follow-up ("fly" then finds "It flew 1,000 kilometers").
    history = [{"role": "user", "content": "What missile did North Korea test?"}]
    answer = seed_assistant.ask("And how high and how far did it fly?", history=history)
    assert len(seed_assistant.query("And how high and how far did it fly?", history).parts) == 2
    assert_citations_verified(answer)
    assert ALTITUDE in answer.answer and DISTANCE in answer.answer


def test_each_part_gets_its_sentence(seed_assistant):
    whole = seed_assistant.ask("How high and how far did the missile go?")
    # Each part as a question of its own cites what the compound answer cites.
    for part in ("How high did the missile go?", "How far did the missile go?"):
        alone = seed_assistant.ask(part)
        assert {(c.start, c.end) for c in alone.citations} <= {(c.start, c.end) for c in whole.citations}


def test_a_sentence_that_answers_both_parts_is_cited_once(seed_assistant):
    answer = seed_assistant.ask("How high did the missile go and how long was it in the air?")
    assert_citations_verified(answer)
    assert ALTITUDE in answer.answer and "86 minutes" in answer.answer
    assert len({(c.start, c.end) for c in answer.citations}) == len(answer.citations)
    assert answer.answer.count(ALTITUDE) == 1


def test_a_part_the_article_does_not_answer_is_left_out(seed_assistant):
    answer = seed_assistant.ask("How far did the missile fly and how much did it cost?")
    assert_citations_verified(answer)
    assert not answer.abstained and DISTANCE in answer.answer
    assert seed_assistant.ask("How much did the missile cost?").abstained
    assert {(c.start, c.end) for c in answer.citations} == {
        (c.start, c.end) for c in seed_assistant.ask("How far did the missile fly?").citations}


def test_the_second_part_reads_the_first_part_s_subject_for_its_pronoun(seed_assistant):
    # "What did he say?" alone has no one to find; "What did Kim Jong Un say?" finds his words.
    answer = seed_assistant.ask("Who is Kim Jong Un and what did he say?")
    assert_citations_verified(answer)
    assert "North Korean leader Kim Jong Un" in answer.answer and "an appropriate military action" in answer.answer
