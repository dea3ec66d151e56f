"""What of a title goes before a passage, for the encoder and the reranker (rag/text/titles.py)."""

from __future__ import annotations

from rag.embed import passage_text
from rag.text.titles import TITLE_WORDS, title_topic

HEADLINE = "US says 8,000 North Korean troops reached Russia's Kursk region as Pyongyang tests solid-fuel ICBM"


def test_a_headline_is_cut_to_its_first_words_and_a_short_title_is_kept_whole():
    assert title_topic(HEADLINE) == "US says 8,000 North Korean troops reached Russia's"
    assert len(title_topic(HEADLINE).split()) == TITLE_WORDS
    assert title_topic("Super Bowl 50") == "Super Bowl 50"
    assert title_topic("  Super   Bowl 50 ") == "  Super   Bowl 50 "  # short: as given, spacing and all
    assert title_topic("") == ""


def test_the_encoder_reads_the_topic_then_the_passage():
    assert passage_text(HEADLINE, "It flew 1,000 kilometers.") == (
        "US says 8,000 North Korean troops reached Russia's\nIt flew 1,000 kilometers.")
    assert passage_text("Super Bowl 50", "The game was played in February.") == (
        "Super Bowl 50\nThe game was played in February.")
    assert passage_text("", "No title.") == "No title."
