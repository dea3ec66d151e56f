"""What kind of answer a question asks for, whether a sentence holds one, and whether the
evidence mentions the names the question asks about.

"How high did the missile go?" wants a number, "When ..." a date, "Who ..." a name. A sentence
about the right topic that holds no such thing does not answer the question: "How many jaguars
live in the Amazon?" against "Among the largest predatory creatures are the black caiman,
jaguar, cougar and anaconda." The answerer uses this as evidence against answering (a
question of a type whose best sentence lacks that type is more often unanswerable), not as a
filter: rules like these miss cases, and a missed case must not hide a good sentence.
"""

from __future__ import annotations

import re

from rag.text.lexical import nfkc

NUMBER, DATE, PERSON, PLACE = "number", "date", "person", "place"

_NUMBER_Q = re.compile(
    r"^\s*(?:how\s+(?:many|much|far|long|high|old|big|large|tall|deep|wide|often|fast|heavy|hot|cold|low)"
    r"|what\s+(?:percentage|percent|number|proportion|share|fraction|amount|size|distance|height|speed))\b", re.I)
_DATE_Q = re.compile(r"^\s*(?:when|(?:what|which|in what)\s+(?:year|date|day|month|century|decade|era|season))\b", re.I)
_PERSON_Q = re.compile(r"^\s*(?:who|whom|whose)\b", re.I)
_PLACE_Q = re.compile(r"^\s*(?:where|(?:what|which|in what)\s+(?:city|country|place|region|state|town|continent))\b", re.I)

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE_S = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b(?:%s)\b|\b(?:monday|tuesday|wednesday|thursday|friday|"
                     r"saturday|sunday|today|yesterday|tomorrow|centur(?:y|ies)|decades?|B\.?C\.?|A\.?D\.?)\b" % _MONTHS,
                     re.I)
_NUMBER_S = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|"
                       r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|"
                       r"millions?|billions?|trillions?|half|third|quarter|percent|several|few)\b", re.I)
# A word that is not the first of the sentence; `_names` keeps those that are capitalised (a
# capital of any script: "Ögedei", "Łódź") and not all capitals: names, places, organisations.
_NAME_S = re.compile(r"(?<=[\s(\"'“‘,;:—-])(?![a-z])[^\W\d_][\w'’.-]*")  # not from "p" of "pre-Columbian"


def expected_type(question: str) -> str | None:
    """NUMBER, DATE, PERSON, PLACE, or None when the question asks for something else."""
    for kind, pattern in ((NUMBER, _NUMBER_Q), (DATE, _DATE_Q), (PERSON, _PERSON_Q), (PLACE, _PLACE_Q)):
        if pattern.search(question):
            return kind
    return None


def holds(kind: str | None, sentence: str, question: str) -> bool:
    """True when `sentence` holds something of `kind` that the question does not already say
    (a name or number the question itself mentions is not an answer to it). True for None."""
    if kind is None:
        return True
    # Composed, as `terms` reads them: a file saved decomposed holds "O" + U+0308 for "Ö", and a
    # combining mark is not a word character, so "Ögedei" would be cut at the "O".
    sentence, question = nfkc(sentence), nfkc(question)
    asked = {w.lower() for w in re.findall(r"[\w'’.-]+", question)}
    if kind == DATE:
        return any(m.group(0).lower() not in asked for m in _DATE_S.finditer(sentence))
    if kind == NUMBER:
        return any(m.group(0).lower() not in asked for m in _NUMBER_S.finditer(sentence))
    return any(n.lower().strip(".'’") not in asked for n in _names(sentence))


def _names(sentence: str) -> list[str]:
    """The capitalised words of `sentence` after its first (see `_NAME_S`)."""
    return [w for w in (m.group(0) for m in _NAME_S.finditer(sentence))
            if w[0].isupper() and any(ch.islower() for ch in w[1:])]


# Words after the first, of which `question_names` keeps the capitalised ones (names, places,
# organisations; a capital of any script) and years.
_QUESTION_NAME = re.compile(r"(?<=\s)(?:(?![a-z])[^\W\d_][\w'’.&-]*\w|[12]\d{3}s?)\b")
_NOT_NAMES = frozenset("What Who Whom Whose When Where Why How Which Is Are Was Were Do Does Did Can Could "
                       "Has Have Had Will Would Should The A An In On Of And Or I".split())


def question_names(question: str) -> list[str]:
    """The names and years a question mentions ("How many Chinese troops are in Russia?" ->
    ["Chinese", "Russia"]): what the evidence must talk about for the question to be answered.

    Names are told by their capital letter, so a question typed in capitals throughout says
    nothing about names: only its years count ("WHO LED OPEC IN 1973?" -> ["1973"]). Otherwise
    every word of it would be a "name" the evidence must mention, and answerable questions would
    be refused (natural tuning part typed in capitals: false_abstain 0.154, against 0.086 as
    written; with this rule 0.086 both ways, and 0.077 in capitals since abstention's second
    opinion answers one more; benchmarks/question_forms.py prints both)."""
    found = [w for w in (m.group(0) for m in _QUESTION_NAME.finditer(question))
             if (w[0].isupper() or w[0].isdigit()) and w not in _NOT_NAMES]
    if not any(ch.islower() for ch in question):
        return [w for w in found if w[0].isdigit()]
    return found
