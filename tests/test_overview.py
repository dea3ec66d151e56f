"""Requests for what an article says as a whole, answered with its first sentences
(rag/answer/overview.py), on real indexes: the seed article alone, and three articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.overview import is_overview_request, names_topic
from rag.conversation import read_turn
from tests.conftest import assert_citations_verified, make_assistant, write_corpus

ROOT = Path(__file__).resolve().parent.parent

RIVER = ("The Orinoco is one of the longest rivers in South America. It rises in the Parima mountains and flows "
         "to the Atlantic Ocean. Its delta covers about 41,000 square kilometres.\n\nThe river carries cargo ships "
         "as far as Ciudad Bolivar. Many fish species live in its waters.\n")
BAKERY = ("The village bakery opened in 1921 and still bakes rye bread every morning. Its oven is fired with "
          "beech wood. The owners sell about 300 loaves a day.\n\nOn Sundays the bakery makes plum cake. Visitors "
          "come from the nearby towns for it.\n")


@pytest.mark.parametrize("question", [
    "What is this article about?", "Hi! Can you summarize the article? Thanks", "tl;dr", "Summarize.",
    "What are the main points?", "whats it about", "Could you give me a summary of the article please",
    "What does the article say?", "What happened?", "Please summarize the article about the Orinoco.",
    "What is the bakery article about?", "Sum it up", "Summarize it for me", "What are these documents about?",
    "Give me the key points of the story", "What's the news here?", "what's going on", "What is the story?",
    "What's the gist of this article?",
])
def test_requests_for_an_overview(question):
    assert is_overview_request(read_turn(question)[1])


@pytest.mark.parametrize("question", [
    "What was the treaty about?", "What happened in 1973?", "What did Harris say about Kim and Putin?",
    "What are the main causes of the crisis?", "What is Harvard known for?",
    "What was the Plos Pathogens paper about?",  # SQuAD dev: a paper the article mentions
    "Summarize the missile test",  # about the test, not the article: answered as a question
    "What was the quarrel between them about?",
    "What is the news about the missile?", "What's new in the treaty?",  # about a topic: answered as a question
])
def test_questions_that_are_not(question):
    assert not is_overview_request(read_turn(question)[1])


def test_no_question_of_the_natural_set_is_read_as_one():
    rows = [json.loads(line) for line in (ROOT / "eval/natural/questions.jsonl").read_text().splitlines() if line]
    assert rows and not [r["question"] for r in rows if is_overview_request(read_turn(r["question"])[1])]


def test_a_topic_is_a_word_beyond_the_request():
    assert not names_topic("Can you summarize the articles for me?")
    assert names_topic("Summarize the article about the Orinoco")
    assert names_topic("Summarize the article about the report")  # "report" is no word of a request


def first_sentence_start(assistant, doc_id: str) -> int:
    raw = assistant.raw_text(doc_id)
    return len(raw) - len(raw.lstrip())


def test_one_article_is_answered_with_its_first_three_sentences(seed_assistant):
    answer = seed_assistant.ask("What is this article about?")
    assert not answer.abstained and answer.confidence == 1.0
    assert len(answer.citations) == 3
    assert_citations_verified(answer)
    (doc,) = {c.doc_id for c in answer.citations}
    assert answer.citations[0].start == first_sentence_start(seed_assistant, doc)
    assert answer.answer.startswith("The United States said Thursday that up to 8,000 North Korean troops")
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)


@pytest.fixture(scope="module")
def three_articles(tmp_path_factory, embedder):
    corpus = write_corpus(tmp_path_factory.mktemp("overview") / "corpus", river=RIVER, bakery=BAKERY)
    assistant = make_assistant(tmp_path_factory.mktemp("overview-index"), embedder)
    assistant.ingest([corpus])
    return assistant


def test_several_articles_found_give_the_first_sentence_of_each(three_articles):
    # With k=20 the hits hold every chunk of the three articles (the seed article has fewer).
    answer = three_articles.ask("Summarize the articles.", k=20)
    assert_citations_verified(answer)
    assert sorted(c.doc_id for c in answer.citations) == ["bakery.txt", "river.txt", "seed.txt"]
    for c in answer.citations:
        assert c.start == first_sentence_start(three_articles, c.doc_id)


def test_the_articles_are_summarised_even_when_the_search_found_one(three_articles):
    """Found by review: "Summarize the articles" over four articles answered with the lead of
    the one whose chunks the search happened to find."""
    answer = three_articles.ask("Summarize the articles.", k=1)
    assert_citations_verified(answer)
    assert answer.citations[0].doc_id == answer.hits[0].chunk.doc_id  # the one found leads
    assert sorted(c.doc_id for c in answer.citations) == ["bakery.txt", "river.txt", "seed.txt"]
    for c in answer.citations:
        assert c.start == first_sentence_start(three_articles, c.doc_id)


def test_one_article_found_gives_its_lead(three_articles):
    # One hit is one article, whichever it is: its first 3 sentences, in order.
    answer = three_articles.ask("What is the article about?", k=1)
    assert_citations_verified(answer)
    (doc,) = {h.chunk.doc_id for h in answer.hits}
    assert [c.doc_id for c in answer.citations] == [doc] * 3
    assert answer.citations[0].start == first_sentence_start(three_articles, doc)
    assert [c.start for c in answer.citations] == sorted(c.start for c in answer.citations)


def test_a_named_topic_picks_its_article(three_articles):
    answer = three_articles.ask("Please summarize the article about the bakery.")
    assert_citations_verified(answer)
    assert [c.doc_id for c in answer.citations] == ["bakery.txt"] * 3
    assert answer.answer.startswith("The village bakery opened in 1921")


def test_the_lead_comes_from_the_first_chunk_whichever_chunk_was_found(three_articles):
    # Zelensky appears only far down the seed article: the best hit is a later chunk.
    answer = three_articles.ask("Summarize the article about Zelensky and the silence of China")
    assert answer.hits[0].chunk.doc_id == "seed.txt" and answer.hits[0].chunk.index > 0
    assert_citations_verified(answer)
    assert answer.citations[0].doc_id == "seed.txt"
    assert answer.citations[0].start == first_sentence_start(three_articles, "seed.txt")


def test_a_follow_up_summarises_the_article_of_the_earlier_question(three_articles):
    history = [{"role": "user", "content": "When did the village bakery open?"}]
    answer = three_articles.ask("Summarize it", history=history)
    assert_citations_verified(answer)
    assert {c.doc_id for c in answer.citations} == {"bakery.txt"}
