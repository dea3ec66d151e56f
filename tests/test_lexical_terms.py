"""rag.text.lexical.terms: what a term is, on both sides of BM25 and sentence coverage.

terms() looks each word up in a table of words already analysed; these tests hold it to the
analysis spelled out word by word, on first sight, on a second look and after the table has
been emptied.
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from rag.text import lexical
from rag.text.irregular import BASE_FORM
from rag.text.lexical import terms


def spelled_out(text: str) -> list[str]:
    """The analysis in its plain form: words, apostrophes and dots, irregular verbs, stop words, stems."""
    text = unicodedata.normalize("NFKC", text)
    words = [w.replace("’", "'").replace(".", "") for w in lexical._WORD.findall(text.lower())]
    words = [w.split("'")[0] if w.endswith(("'s", "'t")) else w for w in words]
    words = [BASE_FORM.get(w, w) for w in words if w]
    return lexical._stemmer().stemWords([w for w in words if w not in lexical._STOP])


SAMPLES = [
    "How many troops flew to Russia?",
    "It flies; they fly. It flew 1,000 kilometers (621 miles).",
    "The U.S.'s army didn't go, and Pyongyang’s missile did.",
    "Rock'n'roll, O'Neil's e.g. 3.5 km — naïve café résumé",
    "",
    "... ' ’ .",
    "Zu\u0308rich and the ﬁnal ＵＮ vote",  # decomposed, a ligature, full-width letters
]


def test_known_analyses():
    assert terms("How many troops flew to Russia?") == ["mani", "troop", "fli", "russia"]
    assert terms("It flies; they fly.") == ["fli", "fli"]  # "flew", "flies" and "fly" are one term
    assert terms("The U.S.'s army didn't go") == ["us", "armi", "didn", "go"]
    assert terms("Pyongyang’s missile") == ["pyongyang", "missil"]


def test_every_way_of_writing_a_word_gives_one_term():
    # A question typed on a keyboard (composed "ü") must find a file saved decomposed ("u" and a
    # combining diaeresis, as macOS and some PDFs write it); PDFs also hold ligatures ("ﬁ") and
    # East Asian text full-width Latin letters.
    assert terms("Zürich") == terms("Zu\u0308rich") == ["zürich"]
    assert terms("ﬁnal ﬂight") == terms("final flight")
    assert terms("ＵＮ") == terms("UN")


@pytest.mark.parametrize("text", SAMPLES)
def test_first_and_second_sight_agree_with_the_spelled_out_analysis(text):
    assert terms(text) == spelled_out(text)
    assert terms(text) == spelled_out(text)  # now from the table


def test_a_full_table_starts_again_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(lexical, "_TERM_OF", {})
    monkeypatch.setattr(lexical, "_MAX_WORDS", 5)
    rng = random.Random(0)
    vocabulary = "the troops flew fly flies missile Russia's U.S. didn't 1,000 km and of it".split()
    for _ in range(200):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 12)))
        assert terms(text) == spelled_out(text)
        assert len(lexical._TERM_OF) <= 5
