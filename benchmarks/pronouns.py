"""A pronoun in a follow-up read as what the earlier question was about: tried, not shipped.

"Where are they now?" after "How many North Korean troops are in Russia?" would be read as
"Where are the North Korean troops now?" by every model that reads the question alone (the
reranker, the answer-type rules, abstention), as rag/conversation.py reads a bare follow-up
("And how high?"). The reranker reads the follow-up as typed too and keeps the better logit of
each sentence ("It flew 1,000 kilometers" answers "How far did it fly?" better than "How far did
the missile fly?"). benchmarks/pronoun_follow_ups.py measures it; README "Known gaps" says why
it is not shipped: on the conversations written blind (eval/conversations2) it did not cite
better than reading the follow-up as typed, and it answered more follow-ups the articles do not
answer.

`standalone_question` here has the signature of rag/conversation.py's and reads a bare
follow-up as that one does (against the last three questions of the history), plus the pronouns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from rag.answer import compound
from rag.answer.answer_type import question_names
from rag.conversation import (_ASKS_THING, _AUX, _COPULAS, _LEAD, _TWO_QUESTIONS, MAX_CONTEXT_QUESTIONS,
                              MAX_EARLIER_CHARS, _bare_follow_up, _names_answer, core_question, elliptical_question,
                              previous_questions)


def standalone_question(question: str, history: Iterable[Any] | None) -> str:
    """`question` as the models that read it alone should read it, after the user's `history`:
    a bare follow-up as the whole question it means (`elliptical_question`: "And how high?" after
    "How far did the missile travel?" is "How high did the missile travel?"), a pronoun as what
    the earlier question was about (`with_antecedent`: "Where are they now?" after "How many North
    Korean troops are in Russia?" is "Where are the North Korean troops now?"), else `question`.

    Each earlier turn is first read the same way against the one before it, so a chain keeps
    its topic ("What missile did North Korea test?" + "How far did it fly?" + "And when?" is
    "When did the missile fly?"). Only the last MAX_CONTEXT_QUESTIONS earlier questions are read,
    and a long one (a pasted paragraph) is read as no question at all, before any pattern runs on
    it."""
    if _bare_follow_up(question) is None and not _PRONOUN.search(question):
        return question
    before: str | None = None
    topic: list[Antecedent] = []  # what the conversation is about
    for turn in previous_questions(history)[-MAX_CONTEXT_QUESTIONS:]:
        turn = " ".join(turn.split())
        if len(turn) > MAX_EARLIER_CHARS:
            before, topic = None, []
            continue
        turn = core_question(turn)
        before, topic = _read_after(turn, before, topic)
    return question if before is None else _read_after(question, before, topic)[0]


def pronoun_follow_up(question: str, whole: str) -> str | None:
    """`question` when `whole` (standalone_question's reading of it) replaced a pronoun of it,
    else None. The reranker reads both: "It flew 1,000 kilometers" answers "How far did it fly?"
    better than "How far did the missile fly?", which a sentence naming the missile takes."""
    return question if whole != question and _bare_follow_up(question) is None else None


def _read_after(question: str, before: str | None, topic: list[Antecedent]) -> tuple[str, list[Antecedent]]:
    """(`question` read as a follow-up of the earlier, already standalone question `before`, and
    what the conversation is about after it). A question whose pronoun was replaced keeps the
    topic that it took ("Where are the North Korean troops now?" is still about the troops)."""
    if before is None:
        return question, antecedents(question)
    if _bare_follow_up(question) is not None:
        whole = elliptical_question(question, before) or question
        return whole, antecedents(whole) or topic
    rewritten = _with_topic(question, topic)
    return (rewritten, topic) if rewritten is not None else (question, antecedents(question) or topic)


# Pronouns in follow-ups. Retrieval searches a follow-up together with the earlier question, but
# the reranker, the answer-type rules and abstention read the follow-up alone, and "Where are
# they now?" names nothing they can judge a sentence by: after "How many North Korean troops are
# in Russia?" it is refused as typed, as are "What about its altitude?" after "How far did the
# missile travel?" and "When did they launch it?" after "What missile did North Korea test?". Only "it"
# and "they" (with "its", "them", "their") are read: "he" and "she" mostly stand for the person
# an earlier answer named, which no question says.
_PRONOUN = re.compile(r"\b(it|its|they|them|their)\b", re.IGNORECASE)
_SINGULAR, _PLURAL = ("it", "its"), ("they", "them", "their")
# "How long did it take?", "Is it true that ...": an "it" that stands for nothing.
_IT_IS = r"(?:true|possible|likely|known|said|thought|believed|estimated|like|called)"
_DUMMY_IT = re.compile(rf"\bit\s+(?:takes?|took|happen(?:s|ed)?|means?|matters?|seems?|feels?|looks?|rains?|"
                       rf"gets?|(?:is|was)\s+{_IT_IS})\b|\b(?:is|was)\s+it\s+{_IT_IS}\b", re.IGNORECASE)
_IRREGULAR_PLURALS = frozenset("people men women children police cattle mice geese teeth feet staff".split())
_DETERMINERS = ("the", "a", "an")
_ADVERBS = frozenset("now then today currently exactly there here again still ever yet".split())
_WORD = r"[\w'’.-]+"
_NAME_RUN = r"[A-Z][\w'’.&-]*(?:\s+[A-Z0-9][\w'’.&-]*)*"  # "North Korea", "Super Bowl 50", "NASA"
# A question up to its auxiliary, and the rest: "How far | did | the missile travel", "What
# cars | did | the FSO Car Factory make", "| Did | the Romans guard the Rhine" (yes/no).
_TO_AUX = re.compile(rf"{_LEAD}(?P<wh>(?:how(?:\s+(?!{_AUX}\b)\w+)?|what|which|who|whom|when|where|why)"
                     rf"(?:\s+(?!{_AUX}\b){_WORD}){{0,4}}?\s+)?(?P<aux>{_AUX})\s+(?P<rest>.+?)\s*[?？]?\s*",
                     re.IGNORECASE)
# The subject after an auxiliary other than "is/was...", before a lower-case word: "the Black Death
# (get to Europe)", "Kim Jong Un (want ...)", "the missile (travel)": a determiner and one word.
_SUBJECT_AFTER_AUX = re.compile(rf"(?:(?:the|a|an)\s+{_NAME_RUN}|{_NAME_RUN}|(?:the|a|an)\s+[a-z][\w'’-]*)"
                                rf"(?=\s+[a-z])")


def _subject(question: str) -> str | None:
    """The subject of `question` when its shape says it: compound.subject's rules ("When did the
    Berlin Wall fall", "How big is a blue whale"), else the words after the auxiliary: after
    "is/was/are/were" up to a participle or preposition ("What was the Saturn V rocket used
    for?"), after any other up to the verb (`_SUBJECT_AFTER_AUX`). None for "Who is ...?",
    whose subject is the person asked for."""
    m = _TO_AUX.fullmatch(question)
    if m is None:
        return None
    wh, aux, rest = (m.group("wh") or "").lower(), m.group("aux").lower(), m.group("rest").split()
    if aux in _COPULAS and wh.startswith("who"):
        return None
    strict = compound.subject(question)
    if strict is not None and _plain_phrase(strict.split()):
        return strict
    if aux in _COPULAS:
        end = next((i for i, w in enumerate(rest) if w.lower() in compound._PREPOSITIONS or w.lower() == "being"
                    or compound._participle(w)), len(rest))
        return " ".join(rest[:end]) or None
    if len(rest) >= 2 and rest[-1][:1].islower() and _plain_phrase(rest[:-1]):
        return " ".join(rest[:-1])  # the verb last: "What did the Apollo program cost?"
    subject = _SUBJECT_AFTER_AUX.match(" ".join(rest))
    return subject.group(0) if subject is not None else None


def _unread_phrase(question: str, subject: str | None, final: str | None) -> bool:
    """True when `question` has a subject or an object that is not one plain noun phrase (so the
    phrases that are may not be what a pronoun stands for): a subject such as "North Korea's
    missile", or words after the verb that are no phrase read here ("When did Tesla patent his
    induction motor?": "it" is then the motor, not Tesla)."""
    m = _TO_AUX.fullmatch(question)
    if m is None or (m.group("aux").lower() in _COPULAS and (m.group("wh") or "").lower().startswith("who")):
        return False
    if m.group("aux").lower() in _COPULAS and _ASKS_THING.fullmatch(question):
        return False  # "How many troops are in Russia?": the thing asked about is the subject
    if subject is None or not _plain_phrase(subject.split()):
        return True
    if m.group("aux").lower() in _COPULAS:
        return False
    after = m.group("rest")[len(subject):].split()  # the verb, and what follows it
    return (len(after) >= 2 and after[1].lower() not in compound._PREPOSITIONS
            and (final is None or not _plain_phrase(final.split())))


def _agent(question: str) -> bool:
    """True when the subject of `question` does something ("What missile did North Korea
    test?"), rather than being described ("Where is Warsaw?"): a country, company or band that
    acts is often "they" later."""
    m = _TO_AUX.fullmatch(question)
    return m is not None and m.group("aux").lower() not in _COPULAS


MAX_PHRASE_WORDS = 4  # after a determiner: "the North Korean troops"


def _final_phrase(question: str) -> str | None:
    """The noun phrase that ends a question: a name ("... in Russia?", "... the Denver Broncos?"),
    a determiner's phrase ("... the North Korean troops?"), or a bare plural ("... solid-fuel
    missiles?"; a bare singular such as "want water" is no antecedent)."""
    words = question.rstrip("?？.! ").split()
    if len(words) < 2:
        return None
    if words[-1][:1].isupper() or (words[-1][:1].isdigit() and words[-2][:1].isupper()):
        start = len(words) - 1
        while start > 1 and (words[start - 1][:1].isupper() or words[start - 1][:1].isdigit()):
            start -= 1
        if not words[start][:1].isupper():
            return None
        if words[start - 1].lower() == "the":
            start -= 1
        return " ".join(words[start:])
    for i in range(len(words) - 2, max(0, len(words) - 2 - MAX_PHRASE_WORDS), -1):
        if words[i].lower() in _DETERMINERS:
            return " ".join(words[i:])
    if _plural(words[-1]):
        return " ".join(words[-2:]) if "-" in words[-2] else words[-1]
    return None


@dataclass(frozen=True)
class Antecedent:
    """A noun phrase of an earlier question that a later pronoun may stand for."""

    phrase: str
    plural: bool
    focus: bool = False  # the thing the question asks about ("What missile ...", "How many troops ...")
    # A name that acts in the question ("What missile did North Korea test?", "Did CBS air it?"):
    # "they" may stand for it, as people say of countries, companies and bands.
    acting_name: bool = False


def antecedents(earlier: str) -> list[Antecedent]:
    """The noun phrases of `earlier` a later "it" or "they" may stand for, when its shape says
    plainly what they are: the thing asked about ("How many North Korean troops are in Russia?"
    -> the North Korean troops), the subject ("How far did the missile travel?" -> the missile;
    compound.subject's rules, or the words after the auxiliary), and the phrase that ends it
    ("Who supplied the uniforms?" -> the uniforms; "... in Russia?" -> Russia). A phrase that
    is not one plain noun phrase (a pronoun, "and", a preposition outside a name: "the
    population of Warsaw", a possessive: "the Apollo program's biggest achievement", which may
    stand for either owner or thing) is none. The subject of a "who" question is a person, which
    "it" and "they" do not stand for."""
    earlier = " ".join(core_question(" ".join(earlier.split())).split())
    if len(earlier) > MAX_EARLIER_CHARS or _TWO_QUESTIONS.search(earlier):
        return []
    found: list[Antecedent] = []
    thing = _ASKS_THING.fullmatch(earlier)
    if thing is not None:
        noun = thing.group(1).strip()
        head, _, of = noun.rpartition(" of ")
        if head and _names_answer(head):
            noun = of  # "What kind of missile ...": the missile
        if not _names_answer(noun):  # "What year did ...": the year is the answer, not a topic
            counted = re.match(r"\s*(?:and\s+)?how\s+many\b", earlier, re.IGNORECASE) is not None
            phrase = noun if noun.split()[0].lower() in _DETERMINERS else f"the {noun}"
            if _plain_phrase(phrase.split()):  # not "How many of the troops ..."
                found.append(Antecedent(phrase, counted or _plural(phrase), focus=True))
    subject = _subject(earlier)
    final = _final_phrase(earlier)
    if final is not None and subject is not None and (final.startswith(subject) or subject.startswith(final)):
        final = None  # "did the missile travel": not "the missile travel"
    if final is not None and re.fullmatch(rf"\s*(?:and\s+)?who\s+{_AUX}\s+{re.escape(final)}\W*", earlier, re.I):
        final = None  # "Who is Kim Jong Un?": the person asked about
    if _unread_phrase(earlier, subject, final):
        return found  # "How long was North Korea's missile in the air?": not "the air" alone
    for phrase, agent in ((subject, _agent(earlier)), (final, False)):
        words = (phrase or "").split()
        while words and words[-1].lower() in _ADVERBS:  # "Where are the troops now?"
            words.pop()
        text = " ".join(words)
        if words and _plain_phrase(words) and all(a.phrase.lower() != text.lower() for a in found):
            found.append(Antecedent(text, _plural(text), acting_name=agent and words[0][:1].isupper()))
    return found


def _plain_phrase(words: list[str]) -> bool:
    """One noun phrase that opens with a determiner or a name, or a bare plural ("solid-fuel
    missiles"); no pronoun, no possessive, a preposition only inside a name ("the Bank of
    England", not "the population of Warsaw")."""
    if not compound._noun_phrase(words) or any(w.lower().endswith(("'s", "’s", "s'", "s’")) for w in words):
        return False
    first = words[0]
    if first.lower() not in _DETERMINERS:  # a name ("Kim Jong Un"; not "Kim Jong Un want ...") or a bare plural
        if first[:1].isupper():
            return all(w[:1].isupper() or w[:1].isdigit() for w in words)
        return _plural(" ".join(words)) and len(words) <= 2
    named = first[:1].isupper() or (len(words) > 1 and words[1][:1].isupper())
    return named or not any(w.lower() in compound._PREPOSITIONS for w in words)


def _plural(phrase: str) -> bool:
    """Whether a noun phrase reads as plural: its last word ends in -s (not -ss, -us, -is) or is
    an irregular plural; a name only after "the" ("the Normans", not "Mount Kenya" or "Paris")."""
    words = phrase.split()
    head = words[-1].strip("'’")
    if head.lower() in _IRREGULAR_PLURALS:
        return True
    if head[:1].isupper() and words[0].lower() != "the":
        return False
    return head.lower().endswith("s") and not head.lower().endswith(("ss", "us", "is"))


def _standing_for(family: tuple[str, ...], found: list[Antecedent]) -> Antecedent | None:
    """The one antecedent a pronoun of `family` stands for, or None when none or several could:
    those that agree with it in number; of several, the thing asked about, if it is one of them.
    "They" may stand for a name when no plural phrase is there (countries, companies, bands: "What
    missile did North Korea test?" + "When did they launch it?")."""
    agreeing = [a for a in found if a.plural == (family is _PLURAL)]
    if not agreeing and family is _PLURAL:
        agreeing = [a for a in found if a.acting_name]
    if len(agreeing) == 1:
        return agreeing[0]
    return agreeing[0] if agreeing and agreeing[0].focus else None


def with_antecedent(question: str, earlier: str) -> str | None:
    """`question` with its "it"/"its" and "they"/"them"/"their" replaced by what they stand for in
    `earlier` (`antecedents`, `_standing_for`), or None when no pronoun could be replaced: "What
    about its altitude?" after "How far did the missile travel?" is "What about the missile's
    altitude?"; "When did they launch it?" after "What missile did North Korea test?" is "When did
    North Korea launch the missile?". Left as typed when a name or "the" comes before its pronoun
    (the pronoun may stand for that: "What did Austin say about them?", "Where did the troops go
    after they arrived?"), or where "it" stands for nothing ("How long did it take?")."""
    return _with_topic(question, antecedents(earlier))


def _with_topic(question: str, found: list[Antecedent]) -> str | None:
    """`with_antecedent` for the antecedents already found."""
    if not found or len(question) > MAX_EARLIER_CHARS:
        return None
    first = _PRONOUN.search(question)
    if first is None or re.search(r"\bthe\b", question[: first.start()], re.IGNORECASE):
        return None
    if question_names(question[: first.start()]):
        return None
    chosen = {family: _standing_for(family, found) for family in (_SINGULAR, _PLURAL)}
    if _DUMMY_IT.search(question):
        chosen[_SINGULAR] = None

    def replacement(m: re.Match[str]) -> str:
        word = m.group(0)
        family = _SINGULAR if word.lower() in _SINGULAR else _PLURAL
        a = chosen[family]
        if a is None:
            return word
        text = a.phrase
        if word.lower() in ("its", "their"):
            text += "'" if a.plural and text.endswith("s") else "'s"
        return text[:1].upper() + text[1:] if m.start() == 0 else text

    rewritten = _PRONOUN.sub(replacement, question)
    return rewritten if rewritten != question else None
