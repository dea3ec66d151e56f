"""Correcting a misspelt question word toward a word the articles use.

"How high did the misslie go?" shares no term with the article: BM25 finds nothing, the word
counts against every sentence's coverage, and abstention reads a question about something the
articles never mention. On the natural tuning part with one typo per question (two neighbouring
letters swapped in one content word, benchmarks/question_forms.py), first citations fell from
0.684 to 0.291 and false abstentions rose from 0.086 to 0.573.

A word is corrected only when all of these hold, so that a question spelt right is read as typed:
- it is a word of at least `MIN_LETTERS` letters, not an acronym ("MVPs");
- the articles hold no term for it (rag/text/lexical.py terms, the index's vocabulary);
- it is not an English word: pyspellchecker's list of 160,000 English words and names (MIT,
  shipped inside its wheel; read here, the package's own corrector is not used). A real word
  the articles do not use ("Who is the mayor of Fresno?") is evidence that they do not answer,
  and a name not in them must stay missing for the names check (rag/answer/answer_type.py).
Its replacement is the one-edit neighbour (a letter deleted, inserted, replaced, or two
neighbours swapped) that is an English word the articles use (its term is in the index): the
commonest in English, as Norvig's corrector ranks them (ties: the one in more chunks). On the
natural tuning part with a typo this picked "farms" over "fairs" for "famrs", which ranking by
chunks did not (first citations 0.632 -> 0.641; SQuAD dev seed 1 the same either way). A word
with no such neighbour, and an acronym-like word ("UChicgao"), is corrected only by swapping two
neighbouring letters into a term the articles use (`swapped_to_index`: "Gbehard" -> "Gebhard"),
or stays as typed. On the natural set with one typo this took the tuning part's first citations
from 0.632 to 0.658 and left the reporting part's at 0.579; no answer of SQuAD dev seed 1 changed.
A name (a word capitalised inside a sentence) is corrected by such a swap, or to an English word
the articles use that it is with one letter left out ("Goverment", "Merceds"), or stays as typed.
A review found names one other edit from such a word read as that word, and the wrong question
answered: "What is the Pilica?" (a river) as "the Silica", "Pugin" as "Putin", "Torun" as
"Torn". `benchmarks/spelling_names.py` prints every word this rule reads differently, on all
10,570 SQuAD dev questions (against the seed-0 and seed-1 indexes), eval/natural and eval/fresh:
none of the natural sets' questions, and 29 and 42 SQuAD ones. About 25 of those were wrong
before ("Meggers" -> "Mergers", "Herve" -> "Here", "Temur" -> "Timur", "Leage" -> "Leave", now
"League") and 4 lose a right correction ("Primier", "Frensh", "Caucasas", "Kievian").
A possessive keeps its "'s" ("Hravard's" -> "Harvard's").

Not done: two edits ("recieveing"), split or joined words ("base ball"), and other languages'
spelling (the list is English; RAG_SPELLING=0 switches correction off).
"""

from __future__ import annotations

import re
import threading
from typing import Mapping

from rag.text.lexical import terms

MIN_LETTERS = 5  # shorter words have too many one-edit neighbours ("chao" -> "cha", "Tugh" -> "Hugh")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_ACRONYM = re.compile(r"[A-Z].*[A-Z]")


def one_edit(word: str) -> set[str]:
    """Every string one edit away from `word` (lower-case letters): deletes, swaps of neighbours,
    replacements, inserts (Norvig's `edits1`)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= set(swaps(word))
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= inserts(word)
    out.discard(word)
    return out


def inserts(word: str) -> set[str]:
    """`word` with one letter added anywhere: the words it could be with a letter left out."""
    return {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in _LETTERS}


def swaps(word: str) -> list[str]:
    """`word` with each pair of neighbouring letters swapped, one pair at a time."""
    return [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)]


class Speller:
    """`Speller().correct(text, idf)`: `text` with its misspelt words replaced (see the module's
    docstring); `idf` is the index's term -> idf (Snapshot.idf: a lower idf, more chunks). The
    English word list is loaded on first use (0.3 s, ~20 MB), or by `warm_up`."""

    def __init__(self, english: Mapping[str, int] | None = None) -> None:
        self._english = english
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._english is None:
                from spellchecker import SpellChecker

                self._english = dict(SpellChecker(language="en", distance=1).word_frequency.dictionary)

    def correct(self, text: str, idf: Mapping[str, float]) -> str:
        parts, last = [], 0
        for m in _WORD.finditer(text):
            before = text[: m.start()].rstrip()
            # Capitalised inside a sentence. (A word in capitals is acronym-like: swaps only.)
            name = m.group()[:1].isupper() and bool(before) and before[-1] not in ".!?:;\"“("
            fixed = self.correct_word(m.group(), idf, name)
            if fixed != m.group():
                parts += [text[last : m.start()], fixed]
                last = m.end()
        return "".join(parts) + text[last:] if parts else text

    def correct_word(self, word: str, idf: Mapping[str, float], name: bool = False) -> str:
        """`word` corrected (see the module's docstring); `name`: it is capitalised inside a
        sentence, so it is read as a name."""
        for suffix in ("'s", "’s"):  # "Hravard's": the name is corrected, the possessive kept
            if word.endswith(suffix) and len(word) > len(suffix):
                return self.correct_word(word[: -len(suffix)], idf, name) + suffix
        lower = word.lower()
        if len(lower) < MIN_LETTERS or not (lower.isascii() and lower.isalpha()):
            return word
        own = terms(lower)
        if not own or own[0] in idf:
            return word
        self.warm_up()
        english = self._english
        if lower in english:
            return word
        if _ACRONYM.search(word):  # "UChicgao", "DCEnet": no English word, but maybe a swap
            return swapped_to_index(word, idf)
        if name:
            swapped = swapped_to_index(word, idf)
            if swapped != word:
                return swapped
        best: tuple[int, float, str] | None = None
        # A name is read as a typo of an English word only when a letter was left out of it
        # ("Goverment", "Merceds"): one more or another letter makes another name too often.
        for candidate in (inserts(lower) if name else one_edit(lower)):
            frequency = english.get(candidate)
            if not frequency:
                continue
            term = terms(candidate)
            if len(term) == 1 and term[0] in idf:
                key = (-frequency, idf[term[0]], candidate)
                best = key if best is None or key < best else best
        if best is None:
            return word if name else swapped_to_index(word, idf)
        fixed = best[2]
        return fixed[:1].upper() + fixed[1:] if word[:1].isupper() else fixed


def swapped_to_index(word: str, idf: Mapping[str, float]) -> str:
    """`word` with two neighbouring letters swapped, when that makes a term the articles use
    ("Gbehard" -> "Gebhard", "UChicgao" -> "UChicago"); the commonest in the articles if several
    do; otherwise `word` as typed. For names and coined words, which no English list holds, only
    swaps are tried: two real names one letter apart are common ("Jansen", "Janssen"), two that
    differ by a swap of neighbours are not, and a name the articles do not hold must stay missing
    for the names check. The two letters keep their case as they move."""
    best: tuple[float, str] | None = None
    for candidate in swaps(word):
        term = terms(candidate.lower())
        if candidate != word and len(term) == 1 and term[0] in idf:
            key = (idf[term[0]], candidate)
            best = key if best is None or key < best else best
    return word if best is None else best[1]
