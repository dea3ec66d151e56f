"""Misspelt question words corrected toward the articles' words (rag/text/spelling.py)."""

from __future__ import annotations

import pytest

from conftest import assert_citations_verified
from rag.text.spelling import Speller, one_edit

# A tiny index vocabulary (term -> idf; lower idf = more chunks) and English word list, so that
# each rule is seen on its own; the last tests use the real list and the seed index.
IDF = {"missil": 1.0, "north": 0.5, "altitud": 2.0, "travel": 1.5, "korean": 0.7}
ENGLISH = {"missile": 900, "missiles": 300, "north": 5000, "altitude": 200, "travel": 4000, "mayor": 3000,
           "major": 9000, "korean": 800}


def test_one_edit_holds_deletes_swaps_replacements_and_inserts():
    edits = one_edit("misslie")
    assert {"missile", "mislie", "misslies", "misslxe"} <= edits
    assert "misslie" not in edits


@pytest.mark.parametrize("typed, fixed", [
    ("How high did the misslie go?", "How high did the missile go?"),
    ("How many Notrh Korean troops?", "How many North Korean troops?"),  # a name's case is kept
    ("What altitdue did it reach?", "What altitude did it reach?"),
])
def test_a_misspelt_word_becomes_the_english_word_the_articles_use(typed, fixed):
    assert Speller(ENGLISH).correct(typed, IDF) == fixed


@pytest.mark.parametrize("question", [
    "Who is the mayor of Fresno?",  # an English word the articles lack stays: it is evidence
    "Did the missile travel far?",  # every word known
    "Did Kursk fall?",  # a name that is not English and has no neighbour in the articles
    "How many MVPs did it win?",  # an acronym
    "Is it nort of here?",  # under 5 letters: too many words are one edit from a short one
])
def test_a_word_that_is_not_a_typo_of_an_article_word_stays(question):
    assert Speller(ENGLISH).correct(question, IDF) == question


def test_of_several_neighbours_the_commonest_english_word_wins_then_the_one_in_more_chunks():
    idf = {"north": 3.0, "forth": 0.5, "worth": 1.0}  # "forth" is in the most chunks
    assert Speller({"north": 5000, "forth": 100}).correct_word("morth", idf) == "north"
    assert Speller({"north": 5000, "forth": 100}).correct_word("norrth", idf) == "north"  # forth: 2 edits
    assert Speller({"forth": 100, "worth": 100}).correct_word("morth", idf) == "forth"  # a tie


@pytest.mark.parametrize("typed, fixed", [
    ("Where did Gbehard set up his practice?", "Where did Gebhard set up his practice?"),  # no English word
    ("When did UChicgao open in Beijing?", "When did UChicago open in Beijing?"),  # capitals stay put
    ("Why was DCEnet made?", "Why was DECnet made?"),
])
def test_a_name_with_two_letters_swapped_becomes_the_name_the_articles_use(typed, fixed):
    idf = {"gebhard": 3.0, "uchicago": 2.0, "decnet": 4.0}
    assert Speller(ENGLISH).correct(typed, idf) == fixed


def test_a_name_one_other_edit_from_an_article_name_stays_missing():
    # Another person, not a typo: the names check must still see that the articles lack him.
    idf = {"janssen": 2.0, "gebhard": 3.0}
    assert Speller(ENGLISH).correct("Who is Jansen?", idf) == "Who is Jansen?"
    assert Speller(ENGLISH).correct("Who is Gebhart?", idf) == "Who is Gebhart?"


def test_a_name_is_not_read_as_an_english_word_another_edit_away():
    """Found by review: "What is the Pilica?" (a river) was asked as "What is the Silica?", and
    answered; names are corrected by a swap or a letter left out only."""
    idf = {"silica": 1.0, "putin": 1.0, "russel": 1.0, "govern": 1.0, "leagu": 1.0, "leav": 1.0}
    english = {"silica": 50, "putin": 80, "russel": 20, "government": 9000, "league": 900, "leave": 5000}
    speller = Speller(english)
    for question in ("What is the Pilica?", "Who is Pugin?", "Who ruined Roussel's plans?"):
        assert speller.correct(question, idf) == question
    assert speller.correct("Who led the General Goverment?", idf) == "Who led the General Government?"
    assert speller.correct("Who won the Premier Leage?", idf) == "Who won the Premier League?"  # not "Leave"
    # Not read as names: the first word, a word after a full stop.
    assert speller.correct("Pilica is what?", idf) == "Silica is what?"
    assert speller.correct("I read it. Pilica is what?", idf) == "I read it. Silica is what?"


def test_a_possessive_keeps_its_s():
    assert Speller(ENGLISH).correct("Where did the misslie's crew go?", IDF) == "Where did the missile's crew go?"


def test_the_real_word_list_knows_english_words_and_leaves_them():
    speller = Speller()
    assert speller.correct("Who is the mayor of Fresno?", {"fresno": 1.0, "major": 1.0}) == (
        "Who is the mayor of Fresno?")
    assert speller.correct("How high did the misslie go?", {"missil": 1.0}) == "How high did the missile go?"


def test_a_question_with_a_typo_cites_what_the_question_spelt_right_cites(seed_assistant):
    # Before the correction, "misslie" shared no term with the article and the question was read
    # as one about something the article never mentions.
    typed = "How high did the misslie go?"
    answer = seed_assistant.ask(typed)
    assert answer.question == typed
    assert answer.asked == "How high did the missile go?"  # the chat shows it ("Read as: ...")
    assert not answer.abstained, answer.answer
    assert_citations_verified(answer)
    assert answer.citations[0].quote == seed_assistant.ask("How high did the missile go?").citations[0].quote


def test_spelling_can_be_switched_off(seed_assistant, embedder):
    from rag import Assistant, Settings

    assert Settings.from_env({"RAG_SPELLING": "0"}).spelling is False
    plain = Assistant(Settings(index_dir=seed_assistant.folder.path, spelling=False), embedder=embedder,
                      answerer=seed_assistant.answerer)
    assert plain.speller is None
    assert plain.query("How high did the misslie go?").asked == "How high did the misslie go?"
    assert seed_assistant.query("How high did the misslie go?").asked == "How high did the missile go?"
