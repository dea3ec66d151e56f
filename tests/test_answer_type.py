"""What a question asks for, and whether a sentence holds it (rag/answer/answer_type.py)."""

from __future__ import annotations

import pytest

from rag.answer.answer_type import DATE, NUMBER, PERSON, PLACE, expected_type, holds


@pytest.mark.parametrize("question, kind", [
    ("How high did the missile go?", NUMBER),
    ("How many North Korean soldiers are in Russia?", NUMBER),
    ("What percentage of the forest is in Brazil?", NUMBER),
    ("When did the embargo end?", DATE),
    ("In what year was Harvard founded?", DATE),
    ("Who supplied the uniforms?", PERSON),
    ("Where did the expedition start?", PLACE),
    ("Which city hosted the talks?", PLACE),
    ("Why did the Albanians switch sides?", None),
    ("Is state schooling free in Victoria?", None),
])
def test_expected_type(question, kind):
    assert expected_type(question) == kind


def test_a_sentence_holds_the_kind_unless_the_question_already_says_it():
    q = "How many jaguars live in the Amazon?"
    assert not holds(NUMBER, "Among the largest predators are the black caiman, jaguar and cougar.", q)
    assert holds(NUMBER, "Some 15,000 jaguars live there.", q)
    assert holds(DATE, "Harvard was formed in 1636 by vote of the Court.", "When was Harvard founded?")
    assert not holds(DATE, "It flew in 1969.", "What happened in 1969?")  # the year is the question's own
    assert holds(PERSON, "The land was given by John Harvard.", "Who gave the land?")
    assert not holds(PERSON, "the land was given by the colony.", "Who gave the land?")
    assert holds(None, "anything", "Why?")


def test_the_names_a_question_asks_about():
    from rag.answer.answer_type import question_names

    assert question_names("How many Chinese troops are in Russia?") == ["Chinese", "Russia"]
    assert question_names("What happened in 1348?") == ["1348"]
    assert question_names("How high did the missile go?") == []
    assert question_names("Who was Harvard's first president?") == ["Harvard's"]
    # Typed in capitals, a question's capitals do not mark names; its years still count.
    assert question_names("HOW MANY CHINESE TROOPS ARE IN RUSSIA?") == []
    assert question_names("WHAT HAPPENED IN 1348?") == ["1348"]


def test_a_name_may_start_with_a_capital_of_any_script():
    # "Ögedei" and "Łódź" are names; before, only an ASCII capital started one, so a sentence
    # naming Ögedei did not answer "who", and a question about Łódź did not need it mentioned.
    from rag.answer.answer_type import question_names

    q = "Who got the throne from Genghis Khan?"
    assert holds(PERSON, "In the end Genghis Khan gave the throne to Ögedei.", q)
    assert holds(PLACE, "The factory moved to Łódź.", "Where did the factory move?")
    assert holds(PERSON, "He moved it to pre-Columbian ruins.", q)  # "Columbian" is a name, as before
    assert question_names("How many people live in Łódź today?") == ["Łódź"]
    assert question_names("Who succeeded Ögedei in 1241?") == ["Ögedei", "1241"]


def test_a_name_saved_decomposed_is_a_name():
    # "O" + U+0308, as macOS writes "Ö": a combining mark is no word character, so the name was cut.
    assert holds(PERSON, "In the end Genghis Khan gave the throne to O\u0308gedei.", "Who got the throne from Genghis Khan?")
