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

The second of two whole questions often names its subject with a pronoun ("How long is the
Rhine and where does it begin?"). Read alone, "Where does it begin?" has nothing to find, so a
pronoun that is the second part's subject (or its possessive) is replaced by the first part's
subject, the words right after its auxiliary: a name ("When was Nikola Tesla born"), or a
determiner and its noun ("How high did the North Korean missile go"). Not when the first part
asks what, which or who with "did"/"does": in "What did North Korea launch and how high did it
go?" the pronoun stands for the thing asked about, not for North Korea. With no subject the part
stays as asked.

Only these two shapes count, with an auxiliary verb after each question word, so "Where did
Tesla and Edison work?" and "Who founded the company and when?" stay one question. Of the
10,570 SQuAD dev questions one is split ("Where and when did the investigation of the plague
pathogen begin?"); none of eval/natural's or eval/fresh's is.
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
        first, second = m.group(1), m.group(2)
        return [_question(first), _question(_with_subject(second, subject(first)))]
    return []


# The first part's subject, right after its auxiliary: a name (capitalised words, with "of",
# "upon" and the like and numbers inside: "Newcastle upon Tyne", "Super Bowl 50"), or a determiner,
# any capitalised words and a noun ("the missile", "the North Korean missile", "the Rhine").
_FIRST = re.compile(rf"({_WH})\s+({_AUX})\s+(.+)", re.I)
_NAME = re.compile(r"[A-Z][\w'-]*(?:\s+(?:(?:of|upon|de|la|von|van)\s+)?(?:[A-Z][\w'-]*|\d+))*")
_NOT_A_NOUN = r"(?:in|on|at|of|from|to|for|with|by|near|after|before|during|and|or|about|into|over|under)\b"
_DETERMINED = re.compile(rf"(?i:the|a|an|this|that|these|those|his|her|its|their)\s+(?:[A-Z][\w'-]*\s+)*"
                         rf"(?!(?i:{_NOT_A_NOUN}))[\w'-]+")  # case matters: capitals mark a name
# The second part's subject pronoun, right after its auxiliary: "where does it begin".
_PRONOUN_SUBJECT = re.compile(rf"^({_WH}\s+{_AUX})\s+(it|he|she|they|its|his|her|their)\b", re.I)
# Possessives later in the part ("her" is left alone: it is as often an object).
_POSSESSIVE = re.compile(r"\b(its|his|their)\b", re.I)


def subject(question: str) -> str | None:
    """The subject of a question made of a question word and an auxiliary ("How long is the
    Rhine" -> "the Rhine"), or None when it has none a later pronoun should stand for."""
    m = _FIRST.fullmatch(question.strip().rstrip("?.! "))
    if not m:
        return None
    wh, aux, rest = m.groups()
    if aux.lower() in ("did", "does", "do") and wh.lower() in ("what", "which", "who"):
        return None  # "What did North Korea launch": a later "it" is what was launched
    found = _NAME.match(rest) or _DETERMINED.match(rest)
    return found.group(0) if found else None


def _with_subject(part: str, subject_text: str | None) -> str:
    """`part` with its pronoun subject (and possessives of it) replaced by `subject_text`."""
    if not subject_text or not _PRONOUN_SUBJECT.match(part):
        return part
    def put(m: re.Match) -> str:
        possessive = m.group(2).lower() in ("its", "his", "her", "their")
        return f"{m.group(1)} {subject_text}" + ("'s" if possessive else "")

    part = _PRONOUN_SUBJECT.sub(put, part, count=1)
    return _POSSESSIVE.sub(f"{subject_text}'s", part)


def _question(text: str) -> str:
    text = text.strip().rstrip("?.! ")
    return text[:1].upper() + text[1:] + "?"
