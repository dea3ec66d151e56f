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
Rhine and where does it begin?"). Read alone, "Where does it begin?" has nothing to find, so
when the first part's subject can be read off its shape with confidence, a subject pronoun of
the second part (or its possessive) is replaced by it. A wrong subject is worse than none (the
part would be ranked and judged as a question about something else), so only these shapes
count, and anything else is left as asked:
- "Who/what/which/where/how big... is/was SUBJECT": the subject runs to the end ("How big is a
  blue whale", "Who is Kim Jong Un", "Where is the Louvre");
- "WH is/was/were SUBJECT PARTICIPLE" ("When was the Titanic built", "When was Nikola Tesla
  born");
- "When/where/why/how... did/has/will... SUBJECT VERB", one verb and no object ("When did the
  Berlin Wall fall", "How high did the missile go"). After "what/which/who did" the pronoun is
  the thing asked about ("What did North Korea launch and how high did it go?"), and with an
  object it may be the object ("When did Apple release the iPhone and how much did it cost?").
The subject must read as one noun phrase: at most 8 words, no pronoun, no "and", a preposition
only inside a name ("the Great Wall of China"). "It" never stands for the person a "who"
question asks about, nor in "how long does it take", "what is it like" and the like.

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
    # One space between words: a run of spaces made the lazy match below cubic in its length.
    text = re.sub(r"^(?:and|so|but|also|then)\s+", "", " ".join(question.split()), flags=re.I)
    m = _SHARED.fullmatch(text)
    if m:
        first, second, rest = m.groups()
        return [_question(f"{first} {rest}"), _question(f"{second} {rest}")]
    m = _TWO.fullmatch(text)
    if m:
        first, second = m.group(1), m.group(2)
        return [_question(first), _question(_with_subject(second, first))]
    return []


_FIRST = re.compile(rf"({_WH})\s+({_AUX})\s+(.+)", re.I)
_COPULA = ("is", "was", "are", "were")
# Words a subject noun phrase may not hold (a pronoun or "and": someone else, or two subjects),
# and the prepositions it may hold only inside a name ("the Great Wall of China").
_NOT_IN_SUBJECT = frozenset("i me my you your he him his she her it its they them their we us our this that these "
                            "those and or but what which who whom whose there here".split())
_INSIDE_NAMES = frozenset("of upon on de da di del la le von van der du".split())
_DETERMINERS = frozenset("the a an".split())
_PREPOSITIONS = frozenset("in on at of from to for with by near after before during about into over under "
                          "between through against since until".split())
_IRREGULAR_PARTICIPLES = frozenset(
    "born built made held written found begun known taken given done seen sold won shot hit set put sent spent "
    "paid laid led left lost kept brought bought caught taught fought told chosen drawn driven eaten fallen flown "
    "frozen grown hidden risen shown spoken stolen sworn thrown worn beaten run sunk struck hung read split cut "
    "shut burnt dug fed fled met sat stood understood bred buried".split())
# After the pronoun, verbs whose "it" is usually no thing at all ("how long does it take").
_DUMMY_IT = frozenset("take takes took cost costs happen happens happened mean means matter matters seem seems "
                      "feel feels look looks like rain rains snow get gets".split())
_PRONOUN_SUBJECT = re.compile(rf"^({_WH}\s+{_AUX})\s+(it|he|she|they|its|his|her|their)\b\s*(.*)$", re.I)
_POSSESSIVE = re.compile(r"\b(its|his|their)\b", re.I)  # "her" is as often an object: left alone
MAX_SUBJECT_WORDS = 8


def _participle(word: str) -> bool:
    w = word.lower()
    return (w.endswith("ed") and len(w) > 3) or w in _IRREGULAR_PARTICIPLES


def _noun_phrase(words: list[str]) -> bool:
    """True when `words` read as one subject: a name or a determined noun phrase (see above)."""
    if not words or len(words) > MAX_SUBJECT_WORDS:
        return False
    low = [w.lower().strip(",") for w in words]
    if any(w in _NOT_IN_SUBJECT for w in low):
        return False
    if low[-1] in _PREPOSITIONS or low[-1] in _DETERMINERS:
        return False
    for i, w in enumerate(low):
        if w in _PREPOSITIONS and not (w in _INSIDE_NAMES and 0 < i < len(low) - 1 and words[i + 1][:1].isupper()):
            return False
    return True


def subject(question: str) -> str | None:
    """The subject of the first part when its shape says it with confidence (module docstring),
    else None."""
    m = _FIRST.fullmatch(question.strip().rstrip("?.! "))
    if not m:
        return None
    wh, aux, rest = m.group(1).lower(), m.group(2).lower(), m.group(3).split()
    if aux in _COPULA:
        if wh != "when" and wh != "why" and _noun_phrase(rest) and not _participle(rest[-1]):
            return " ".join(rest)  # "How big is a blue whale"
        if len(rest) >= 2 and _participle(rest[-1]) and _noun_phrase(rest[:-1]):
            return " ".join(rest[:-1])  # "When was the Titanic built"
        return None
    if wh in ("what", "which", "who"):
        return None  # "What did North Korea launch": a later "it" is the thing asked about
    verb = 2 if [w.lower() for w in rest[-2:]] == ["take", "place"] else 1
    if len(rest) > verb and rest[-verb][:1].islower() and _noun_phrase(rest[:-verb]):
        return " ".join(rest[:-verb])  # "When did the Berlin Wall fall"
    return None


def _with_subject(part: str, first: str) -> str:
    """`part` with its subject pronoun (and later possessives of it) replaced by the subject of
    `first`, when there is one it can stand for; else `part` as asked."""
    m = _PRONOUN_SUBJECT.match(part)
    name = subject(first) if m else None
    if not m or name is None:
        return part
    head, pronoun, tail = m.group(1), m.group(2).lower(), m.group(3)
    asks_who = first.split()[0].lower() == "who"
    next_word = (tail.split() or [""])[0].lower()
    if pronoun in ("it", "its") and (asks_who or next_word in _DUMMY_IT):
        return part  # "Who is Elon Musk and what is it like...": "it" is not the person
    tail = _POSSESSIVE.sub(f"{name}'s", tail)  # before the name goes in, so it is not rewritten
    suffix = "'s" if pronoun in ("its", "his", "her", "their") else ""
    return f"{head} {name}{suffix} {tail}".rstrip()


def _question(text: str) -> str:
    text = text.strip().rstrip("?.! ")
    return text[:1].upper() + text[1:] + "?"
