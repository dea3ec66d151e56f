"""Two questions in one: "How high and how far did the missile go?".

The cross-encoder scores how well one sentence answers the question it reads. Asked two things
at once, it favours a sentence that answers one of them, and the other goes unanswered: on the
seed article the question above was answered with the altitude alone, without "It flew 1,000
kilometers". So a question made of two question words joined by "and" that share the rest
("When and where did the test take place?"), or of two whole questions joined by "and" ("How
high did it go and how far did it fly?"), is answered part by part: each part is embedded on
its own (`Assistant.query`), and ranks and judges the sentences of the passages found for the
whole question as a question of its own (`ExtractiveAnswerer.compound`); the answer shows what
each part the articles answer would be answered with.

Only these two shapes count, with an auxiliary verb after the second question word, so "Where
did Tesla and Edison work?" and "Who founded the company and when?" stay one question. Of the
10,570 SQuAD dev questions one is split ("Where and when did the investigation of the plague
pathogen begin?"); none of the natural set is.
"""

from __future__ import annotations

import re

_WH = (r"(?:how (?:many|much|far|long|high|old|big|large|tall|deep|often|fast|wide|heavy)|when|where|who|why|"
       r"what|which)")
_AUX = r"(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should)"
# "How high and how far did the missile go?": two question words, one rest.
_SHARED = re.compile(rf"({_WH})\s*,?\s+and\s+({_WH})\s+({_AUX}\b.+)", re.I)
# "How high did the missile go and how far did it fly?": two whole questions.
_TWO = re.compile(rf"({_WH}\s+{_AUX}\b.+?)\s*,?\s+and\s+({_WH}\s+{_AUX}\b.+)", re.I)


def parts(question: str) -> list[str]:
    """The two questions of a compound question, each ending in "?", or [] for any other. A
    follow-up's opening "And" ("And how high and how far did it go?") is not part of either."""
    text = re.sub(r"^(?:and|so|but|also|then)\s+", "", question.strip(), flags=re.I)
    m = _SHARED.fullmatch(text)
    if m:
        first, second, rest = m.groups()
        return [_question(f"{first} {rest}"), _question(f"{second} {rest}")]
    m = _TWO.fullmatch(text)
    if m:
        return [_question(m.group(1)), _question(m.group(2))]
    return []


def _question(text: str) -> str:
    text = text.strip().rstrip("?.! ")
    return text[:1].upper() + text[1:] + "?"
