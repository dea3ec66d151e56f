"""Wiki reference marks ("[1]", "[citation needed]") end sentences and never show in answers as
citations (rag/text/references.py), on a real index."""

from __future__ import annotations

import pytest

from rag.text.references import without_reference_marks
from rag.text.sentences import split_sentences

from conftest import assert_citations_verified, make_assistant

ORINOCO = ("The Orinoco river\n\n"
           "The Orinoco is one of the longest rivers in South America.[1] It rises in the Parima mountains and "
           "flows 2,140 kilometres to the Atlantic Ocean.[2][3] Its delta covers about 41,000 square kilometres "
           "[4].\n\nThe river carries cargo ships as far as Ciudad Bolivar.[citation needed] As of 2020[update], "
           "about 1,000 fish species were known in its waters.[note 1] A guide said \"the river[s] feed the "
           "delta.\"[a] Boats run daily.\n")


def test_a_sentence_ends_after_its_reference_marks():
    sentences = [ORINOCO[s:e] for s, e in split_sentences(ORINOCO)]
    assert sentences == [
        "The Orinoco river",
        "The Orinoco is one of the longest rivers in South America.[1]",
        "It rises in the Parima mountains and flows 2,140 kilometres to the Atlantic Ocean.[2][3]",
        "Its delta covers about 41,000 square kilometres [4].",
        "The river carries cargo ships as far as Ciudad Bolivar.[citation needed]",
        "As of 2020[update], about 1,000 fish species were known in its waters.[note 1]",
        "A guide said \"the river[s] feed the delta.\"[a]",
        "Boats run daily.",
    ]
    # A lower-case word after a full stop is still no boundary, marks or not.
    text = "It rose, etc. and fell.[1] then rose. Then."
    assert [text[s:e] for s, e in split_sentences(text)] == ["It rose, etc. and fell.[1] then rose.", "Then."]


@pytest.mark.parametrize("text, shown", [
    ("South America.[1]", "South America."),
    ("the Atlantic Ocean.[2][3]", "the Atlantic Ocean."),
    ("41,000 square kilometres [4].", "41,000 square kilometres."),
    ("Ciudad Bolivar.[citation needed]", "Ciudad Bolivar."),
    ("As of 2020[update], about", "As of 2020, about"),
    ("in its waters.[note 1]", "in its waters."),
    ("the delta.\"[a]", "the delta.\""),
    ("It was built [when?] by them [who?].", "It was built by them."),
    ("in South America.[^1] It rises", "in South America. It rises"),  # a Markdown footnote
    # Any bracketed number or group of them: left in, each would read as a citation of ours.
    ("completed in 1911 [1000].", "completed in 1911."),
    ("by Marta Quell [3, 4].", "by Marta Quell."),
    ("the river Quell [5–7] and", "the river Quell and"),
    ("120 meters wide [ 8 ].", "120 meters wide."),
    ("after a flood [2019].", "after a flood."),
    # Editorial brackets in quotations and phonetic spellings are the article's words.
    ("\"the river[s] feed [his] delta\"", "\"the river[s] feed [his] delta\""),
    ("Kenya [ˈkɛɲa]", "Kenya [ˈkɛɲa]"),
])
def test_the_marks_left_out_of_what_an_answer_shows(text, shown):
    assert without_reference_marks(text) == shown


def test_answers_show_only_their_own_citation_markers(tmp_path, embedder):
    (tmp_path / "orinoco.txt").write_text(ORINOCO, encoding="utf-8")
    assistant = make_assistant(tmp_path / "index", embedder)
    assistant.ingest([tmp_path / "orinoco.txt"])
    for question in ("How long is the Orinoco?", "Where does the Orinoco rise?", "How big is the delta?",
                     "How far up the river can cargo ships go?", "Summarize the article",
                     "How many fish species live in the Orinoco?"):
        answer = assistant.ask(question)
        assert not answer.abstained, question
        # The markers are exactly the citations (conftest), and the quotes keep the marks the
        # file has, so each still matches its span of the file.
        assert_citations_verified(answer)
        assert "citation needed" not in answer.answer and "[note" not in answer.answer
    answer = assistant.ask("Where does the Orinoco rise?")
    assert answer.citations[0].quote.endswith("Ocean.[2][3]") and "Ocean. [1]" in answer.answer


ZORBLAT = ("# Zorblat Bridge\n\n"
           "The Zorblat bridge in Kettleford was completed in 1911 [1000]. It was designed by the engineer "
           "Marta Quell [3, 4].\n\n"
           "The Zorblat bridge is 340 meters long and crosses the river Quell [5–7]. Its main span is 120 meters "
           "wide [ 8 ].\n\n"
           "The bridge was restored in 2019 after a flood [2019]. The restoration cost 12 million euros.[12][13]\n")


def test_bracketed_numbers_of_any_form_never_show_as_markers(tmp_path, embedder):
    """Found by review: "[1000]", "[3, 4]", "[5–7]" and "[ 8 ]" were shown in answers, where they
    read as citations (and "[1000]" became a chat link)."""
    (tmp_path / "zorblat.md").write_text(ZORBLAT, encoding="utf-8")
    assistant = make_assistant(tmp_path / "index", embedder)
    assistant.ingest([tmp_path / "zorblat.md"])
    for question in ("When was the Zorblat bridge finished?", "Who designed the Zorblat bridge?",
                     "How long is the Zorblat bridge?", "How wide is its main span?",
                     "When was the bridge restored?", "Summarize the article",
                     "How long is the bridge and who designed it?"):
        answer = assistant.ask(question)
        assert not answer.abstained, question
        assert_citations_verified(answer)  # the [n] in the text are exactly the citations
        shown = answer.answer
        for c in answer.citations:
            shown = shown.replace(f"[{c.n}]", "")
        assert "[" not in shown and "]" not in shown, (question, answer.answer)
