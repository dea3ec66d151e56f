"""Word-level text analysis shared by BM25 indexing and sentence scoring.

Lower-cased word tokens, English stop words removed, irregular verb forms mapped to their base
("flew" -> "fly", rag/text/irregular.py), then Snowball-stemmed (PyStemmer), so "troops" matches
"troop" and "flew" matches "fly". One function, used on both sides, so the query and the index
can never disagree on what a term is.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.text.irregular import BASE_FORM

_WORD = re.compile(r"\w+(?:[.'’]\w+)*")
# Lucene's short list, plus the scaffolding of questions ("how", "when did"): in an article they
# carry no evidence, and a question word missing from a sentence must not count against it.
LUCENE_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with".split())
_STOP = LUCENE_STOP_WORDS | {"s", "how", "what", "which", "who", "whom", "whose", "when", "where",
                             "why", "do", "does", "doing"}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def nfkc(text: str) -> str:
    """`text` in one form for every way of writing a word: "Zürich" typed composed matches a file
    saved decomposed ("u" + U+0308, as macOS and some PDFs write it), "ﬁnal" matches "final" and a
    full-width "ＵＮ" matches "UN" (compatibility forms). For comparing words only (terms, names),
    never for the text a citation quotes. Part of rag/text's VERSION through `terms`."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def terms(text: str) -> list[str]:
    # Each word's term depends on the word alone, so it is looked up rather than worked out
    # again: a question's first use of ~100 candidate chunks analyses ~500 sentences, and the
    # lookup halves that (benchmarks/query.py, "sentence_terms_first_use").
    out = []
    for word in _WORD.findall(nfkc(text).lower()):
        term = _TERM_OF.get(word, _UNSEEN)
        if term is _UNSEEN:
            term = _term_of(word)
        if term is not None:
            out.append(term)
    return out


_UNSEEN = object()
_TERM_OF: dict[str, str | None] = {}  # word as the pattern finds it -> its term, None for a stop word
_MAX_WORDS = 500_000  # a bound on the table (~75 MB when full); past it, it starts again


def _term_of(word: str) -> str | None:
    w = word.replace("’", "'").replace(".", "")
    if w.endswith(("'s", "'t")):
        w = w.split("'")[0]
    w = BASE_FORM.get(w, w)
    term = _stemmer().stemWord(w) if w and w not in _STOP else None
    if len(_TERM_OF) >= _MAX_WORDS:
        _TERM_OF.clear()
    _TERM_OF[word] = term
    return term


# Words that shape a question but are not evidence ("how many", "what kind"). Dropped from the
# query side of sentence coverage only; BM25 still sees them on both sides.
_QUESTION_WORDS = ("many", "much", "kind", "type", "sort", "name", "called")


@lru_cache(maxsize=1)
def _question_stems() -> frozenset[str]:
    return frozenset(_stemmer().stemWords(list(_QUESTION_WORDS)))


def question_terms(text: str) -> set[str]:
    return set(terms(text)) - _question_stems()


class Coverage:
    """Share of a query's idf mass whose terms occur in a sentence (0..1): `Coverage(q, idf,
    unknown)(sentence_terms)`. The query's weights are looked up once, since one question is
    scored against hundreds of sentences.

    A query term no article contains weighs `unknown_idf` (the idf of a term with df = 0):
    it is the rarest evidence there is, and ignoring it would make a question about something
    absent look fully covered by the few words it shares with the articles.
    """

    def __init__(self, query_terms: set[str], idf: dict[str, float], unknown_idf: float) -> None:
        self.query_terms = query_terms
        self.weights = {t: idf.get(t, unknown_idf) for t in query_terms}
        self.total = sum(self.weights.values())

    def __call__(self, sentence_terms: frozenset[str]) -> float:
        if self.total <= 0:
            return 0.0
        weights = self.weights
        return sum(weights[t] for t in self.query_terms & sentence_terms) / self.total
