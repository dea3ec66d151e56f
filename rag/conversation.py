"""Follow-up questions: folding earlier turns into the retrieval query.

"And how far did it fly?" cannot be answered alone: "it" lives in the previous question.
When a question looks like a follow-up (a pronoun or demonstrative with no noun of its own
to search for, an opening "and"/"what about", or very few content words), the previous
user question is prepended to it for retrieval. The answer still quotes only the articles.
History is a list of {"role": "user"|"assistant", "content": str} turns (Gradio's and the
OpenAI chat format) or plain strings, which are taken as earlier user questions.

Only the last user question is used, but a caller may send a whole conversation; it is bounded
(MAX_HISTORY_TURNS turns of at most MAX_TURN_CHARS characters) so that one request cannot make
the server analyse megabytes of text.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from rag.answer.answer_type import question_names
from rag.errors import InputError
from rag.inputs import check_text
from rag.text.lexical import terms
from rag.text.sentences import split_sentences

MAX_HISTORY_TURNS = 40
MAX_CONTEXT_QUESTIONS = 3  # earlier questions a follow-up is joined to, at most
MAX_TURN_CHARS = 10_000  # an earlier question; a question asked now is at most 2,000

_REFERRING = re.compile(
    r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|this|these|those|"
    r"the same|the other|the latter|the former)\b",
    re.IGNORECASE,
)
_OPENER = re.compile(r"^\s*(and|also|but|so|what about|how about|and what|then)\b", re.IGNORECASE)


def check_history(history: Any) -> list[Any]:
    """`history` as a list (None -> []), or InputError when it is too long or holds bad text."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise InputError(f"history must be a list of turns, got {type(history).__name__}")
    if len(history) > MAX_HISTORY_TURNS:
        raise InputError(f"history has {len(history)} turns; the limit is {MAX_HISTORY_TURNS} "
                         "(send the most recent ones)")
    for i, turn in enumerate(history, 1):
        # Only the questions are read (`previous_questions`), so only they are checked: an earlier
        # answer can be longer than any question (a sentence of form underscores is 11,000
        # characters and 200 tokens), and refusing it made every later question of that chat fail.
        if isinstance(turn, dict):
            role, content = turn.get("role", "user"), turn.get("content")
            # A turn whose role or text is not text was dropped without a word (found by review).
            # An answer may have no text (OpenAI's tool calls send null): it is not read anyway.
            if not isinstance(role, str) or not (isinstance(content, str) or (role != "user" and content is None)):
                raise InputError(f"history turn {i} must be {{\"role\": \"user\" or \"assistant\", "
                                 f"\"content\": text}}, got {_shape(turn)}")
            texts = [content] if role == "user" else []
        elif isinstance(turn, (list, tuple)):
            texts = list(turn[:1])
        else:
            texts = [turn]
        for text in texts:
            if isinstance(text, str):
                if len(text) > MAX_TURN_CHARS:
                    raise InputError(f"history turn {i} is {len(text):,} characters long; "
                                     f"the limit is {MAX_TURN_CHARS:,}")
                check_text(text, f"history turn {i}")
    previous_questions(history)  # raises for a turn of the wrong shape, as `ask` would later
    return list(history)


def _shape(turn: dict) -> str:
    return "{" + ", ".join(f"{k!r}: {type(v).__name__}" for k, v in list(turn.items())[:4]) + "}"


def previous_questions(history: Iterable[Any] | None) -> list[str]:
    out = []
    for turn in history or []:
        if isinstance(turn, str):
            out.append(turn)
        elif isinstance(turn, dict):
            if turn.get("role", "user") == "user" and isinstance(turn.get("content"), str):
                out.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and len(turn) == 2 and isinstance(turn[0], str):
            out.append(turn[0])  # (user, assistant) pairs
        else:
            raise InputError(f"history turns must be strings or {{'role', 'content'}} objects, got {turn!r}")
    return [q for q in out if q.strip()]


def is_follow_up(question: str) -> bool:
    return bool(_OPENER.match(question) or _REFERRING.search(question) or len(terms(question)) <= 2)


# What people wrap around a question when they talk to an assistant: a greeting, a request
# ("Can you tell me ...", "I'd like to know ..."), thanks. None of it is evidence, and every
# model here reads it as part of the question: "Can you tell me how high the missile went?" is
# not a "how high" question to the answer-type rules, which read the first words, and the
# encoders weigh "tell me" like any other words.
_SEP = r"[\s,:;.!-]*"
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|greetings|good\s+(?:morning|afternoon|evening|day)|excuse\s+me|sorry|"
    r"quick\s+question|question|q)(?:\s+there)?\b\s*[,:;.!-]+(?:\s+|$)" + _SEP +
    # ... or a whole sentence of thanks or assent before it ("Thanks for that. How far ...")
    r"|^\s*(?:thanks|thank\s+you|thx|ok(?:ay)?|great|cool|perfect|got\s+it)\b[^.!?]*[.!]+(?:\s+|$)", re.IGNORECASE)
_REQUEST = re.compile(
    r"^\s*(?:please\s+)?(?:"
    r"(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|show|remind)\s+(?:me|us)|"
    r"(?:can|could|would|will)\s+you\s+(?:please\s+)?let\s+(?:me|us)\s+know|"
    r"(?:please\s+)?(?:tell|remind)\s+(?:me|us)|let\s+(?:me|us)\s+know|"
    r"(?:do|did)\s+you\s+(?:happen\s+to\s+)?know|(?:does\s+)?any\s?(?:one|body)\s+know|"
    r"(?:do\s+you\s+have\s+)?any\s+idea|"
    r"i\s*(?:'d|’d|\s+would)\s+(?:like|love)\s+to\s+know|i\s+(?:want|need|wanted)\s+to\s+know|"
    r"i\s*(?:'m|’m|\s+am)\s+(?:curious|wondering)|i\s+(?:was\s+)?wondering|i\s+wonder|please"
    r")\b(?:\s+(?:about|if|whether)\b)?" + _SEP, re.IGNORECASE)
# Thanks or "please" after the question, set off by punctuation ("..., please?", "... go? Thanks!");
# a bare trailing "please" belongs to the question ("... vote as they please?", SQuAD dev).
# The tail's quantifiers are possessive (*+): with two plain ones, "Thanks" + 9,900 spaces + "x"
# tried every split of the spaces between them, 0.4 s a turn (found by review).
_AFTER = re.compile(r"(?:,\s*please|([,.!?]\s*|^)(?:thanks|thank\s+you|thx|ty|cheers)(?:\s+(?:a\s+lot|so\s+much))?)"
                    r"[\s.!]*+(\?)?[\s.!]*+$", re.IGNORECASE)


def core_question(text: str) -> str:
    """`text` without a greeting, a request around it or thanks after it ("Hi! Can you tell me how
    high the missile went? Thanks" -> "how high the missile went?"); `text` itself when nothing
    would be left."""
    core = _unwrapped(text)
    if not any(ch.isalnum() for ch in core):
        return text.strip()
    # What was a request ("I'd like to know when it flew.") is now a question: its full stop goes.
    return core.rstrip(".!").rstrip() if core != text.strip() else core


def _unwrapped(text: str) -> str:
    core = text.strip()
    for _ in range(4):  # "Hi, I was wondering, could you tell me ..." is three wrappers deep
        before = core
        core = _AFTER.sub(lambda m: "?" if "?" in (m.group(1) or "") + (m.group(2) or "") else "", core).strip()
        core = _REQUEST.sub("", _GREETING.sub("", core)).strip()
        if core == before:
            break
    return core


# "I was reading about the test and got curious: how high did it go?"
_COLON_QUESTION = re.compile(r":\s+(?=(?:how|what|when|where|who|whom|whose|why|which|is|are|was|were|do|does|did|"
                             r"can|could|will|would|should|has|have|had)\b)", re.IGNORECASE)


def split_context(text: str) -> tuple[str, str]:
    """(context, question) of a turn that says something before it asks ("North Korea tested a
    missile on Thursday. How far did it fly?"): the question is the last sentence that asks (it
    ends in "?", thanks after it aside) with what follows it; the context is what comes before,
    or "" when that is only a greeting or thanks. ("", text) for a turn that is one sentence,
    asks nothing, asks twice ("How far did it fly? And how high?") or is split only inside a
    quotation. The context is searched with the question (Assistant.query); the reranker, the
    answer-type rules and abstention read the question alone."""
    text = text.strip()
    starts = [a for a, _ in split_sentences(text)] + [m.end() for m in _COLON_QUESTION.finditer(text)]
    # The last boundary after which the rest asks: "A. B? Thanks!" splits before "B", not "Thanks".
    start = next((a for a in sorted(set(starts), reverse=True)
                  if a > 0 and _unwrapped(text[a:]).endswith(("?", "？"))), None)
    if start is None:
        return "", text
    context = _unwrapped(text[:start]).rstrip(":").strip()
    if "?" in context:  # two questions in one turn ("How far did it fly? And how high?"): read whole
        return "", text
    if context.count('"') % 2 or context.count("“") > context.count("”"):  # inside a quotation:
        return "", text  # 'Who said, "Here I stand. I can do no other"?' (SQuAD dev)
    return (context if any(ch.isalnum() for ch in context) else ""), text[start:].strip()


def as_question(text: str) -> str:
    """`text` as the models read a question: its core (`core_question`), ending in a question mark.

    People often leave the mark out ("how high did the missile go"), and both MiniLM and the
    reranker score a question without one differently: on the natural tuning part with every
    mark removed, hit@1 fell from 0.769 to 0.718 and false abstentions rose from 0.086 to 0.103
    (benchmarks/question_forms.py on the code before this). With the mark put back here, the
    metrics are those of the questions as written. The same script wraps the questions the way
    people ask an assistant ("Can you tell me ...", "Hi! ...", "... Thanks!"): before the wrappers
    were removed here, they cost the natural tuning part up to 0.10 of its first citations and
    raised false abstentions from 0.086 to as much as 0.214 (README, "Decisions a user may want
    to know")."""
    text = core_question(text)
    return text if text.endswith(("?", "？")) else f"{text}?"


def read_turn(text: str) -> tuple[str, str]:
    """(context, question as the models read it) of a typed turn: `split_context`, then
    `as_question` on the question. Misspelt words are corrected after this, against an index
    (rag/text/spelling.py, in Assistant.query), so an answer whose `asked` differs from this
    question had a word corrected."""
    context, question = split_context(text)
    return context, as_question(question)


def corrected_question(question: str, asked: str) -> str | None:
    """`asked` (Answer.asked) when spelling correction changed a word of the typed `question`,
    or an elliptical follow-up was read as a whole question ("And how high?" -> "How high did the
    missile travel?"), else None: what the chat and `rag ask` show as "Read as". A greeting,
    request or sentence of context set aside changes no word, so it is not shown."""
    return asked if asked and asked != read_turn(question)[1] else None


def retrieval_query(question: str, history: Iterable[Any] | None) -> str:
    """What retrieval searches for `question` after the user's `history`: a follow-up joined to
    the questions it follows, back to the one that set the topic ("What missile did North Korea
    test?" + "How far did it fly?" + "And how high?"); any other question alone.

    A short question that names something the earlier questions do not ("Where is Warsaw?"
    after a question on North Korea's missile) starts a new topic, unless it opens like a
    follow-up ("And what about Warsaw?"). Both were found by review: the third question of a
    conversation lost its topic, and a new one was read as a follow-up and refused."""
    earlier = previous_questions(history)
    if not earlier or not is_follow_up(question) or _new_subject(question, earlier):
        return question
    context = [core_question(earlier[-1])]
    for before in reversed(earlier[:-1][-(MAX_CONTEXT_QUESTIONS - 1):]):  # back to the one that set the topic
        if not is_follow_up(context[0]):
            break
        context.insert(0, core_question(before))
    return " ".join([*context, question])


# Elliptical follow-ups ("And how high?" after "How far did the missile travel?"). Only wh-words
# that ask about a circumstance (how far, when, where, why ...) are put in the earlier question's
# place: they leave its subject and object where they are. "Who?" or "What?" would take the place
# of an argument, and are left as typed. The rules below keep a rewrite only where its grammar is
# plain; anything else is left as typed, which costs the answer no more than before they existed.
_HOW_WORDS = ("high|far|long|many|much|old|big|fast|deep|often|large|tall|wide|heavy|soon|early|late|"
              "close|hot|cold|strong|expensive|quickly|well")
_CIRCUMSTANCE = rf"(?:how(?:\s+(?:{_HOW_WORDS}))?|when|where|why)"
# "When was that?", "When did it happen?": the event the earlier question asked about. Not "Where
# is it?" ("it" is then the thing answered: the missile, not its launch), nor after "how": in "How
# old is it?" "it" is a thing, and the question is not bare.
_EVENT = r"(?:\s+(?:was\s+(?:that|this|it)|did\s+(?:that|this|it)\s+happen))"
# What a follow-up may open with: "And how high?", "And how long did it stay up?"
_LEAD = r"\s*(?:(?:and|but|so|also|then|and\s+then|ok(?:ay)?)\s*,?\s+)?"
_FRAGMENT = re.compile(rf"{_LEAD}"
                       rf"(?:(?P<event>when|where|why){_EVENT}?|(?P<wh>{_CIRCUMSTANCE}))"
                       r"(?:\s+(?:exactly|then|again|though|instead|now|precisely|roughly|about))?\s*[?？]?\s*",
                       re.IGNORECASE)
_AUX = r"(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|should|might|may)"
# "How far did the missile travel?": the circumstance asked, then the auxiliary and the rest.
_ASKS_CIRCUMSTANCE = re.compile(rf"{_LEAD}({_CIRCUMSTANCE})\s+(({_AUX})\b.*?)\s*[?？]?\s*", re.IGNORECASE)
_COPULAS = ("is", "are", "was", "were")
# "How many troops are in Russia?", "What missile did North Korea test?": a wh-word with its noun.
_ASKS_THING = re.compile(rf"{_LEAD}(?:what|which|how\s+many|how\s+much)\s+((?:(?!{_AUX}\b)[\w'’.-]+\s+){{1,4}}?)"
                         rf"({_AUX})\b\s*(.*?)\s*[?？]?\s*", re.IGNORECASE)
_DO = ("did", "does", "do")
# "When did X launch and how far did it go?" asks twice; a fragment after it has no one place.
# (An opening "And how long ...?" is one question: the pattern wants a word before the "and".)
_TWO_QUESTIONS = re.compile(r"\s(?:and|or|but)\s+(?:how|when|where|why|what|who|whom|which)\b", re.IGNORECASE)
# After "is/was", a circumstance can only be asked of a predicate: "Where was Obama born?" + "When?"
# is "When was Obama born?", but "Where is the Eiffel Tower?" + "When?" is no question. A
# participle or a preposition marks one (lower case: a name such as "Sweden" or "Ted" is none).
_PREDICATE = re.compile(r"\b(?:[a-z]+ed|[a-z]+en|born|built|held|made|found|fought|won|lost|sent|sold|shot|hit|"
                        r"put|set|kept|left|led|met|paid|said|told|struck|begun|run|seen|shown|grown|thrown|"
                        r"in|on|at|from|to|into|onto|for|with|by|during|after|before|near|under|over|"
                        r"through|across|against|between|without|within|around|about|up|down|out|off|away)\b")
# The subject of "How many troops are in Russia?" is "troops"; a copula question whose rest opens
# with a name, article or pronoun has its subject there ("What city is the capital ...").
_OPENS_SUBJECT = re.compile(r"(?:the|a|an|this|that|these|those|it|its|they|their|he|his|she|her|there|we|you|i)\b",
                            re.IGNORECASE)
# A bare follow-up is a few words, and the question it is put into is one question, not a
# paragraph. The bounds also keep the patterns above from backtracking over a long turn
# (a history turn may hold 10,000 characters).
MAX_FRAGMENT_CHARS, MAX_EARLIER_CHARS = 60, 300
# "What year did the war end?" + "Why?" is "Why did the war end?": these nouns name the answer
# asked for, not a thing the question is about.
_ANSWER_NOUNS = re.compile(r"(?:year|day|date|month|time|century|decade|age|percent(?:age)?|share|kind|type|sort|"
                           r"colou?r|size|number|amount|way|part|role|name)s?", re.IGNORECASE)


def _bare_follow_up(text: str) -> re.Match[str] | None:
    """`text`, whitespace collapsed, matched as a bare follow-up ("And how high?"), or None."""
    text = " ".join(text.split())
    return _FRAGMENT.fullmatch(text) if len(text) <= MAX_FRAGMENT_CHARS else None


def _names_answer(noun: str) -> bool:
    return any(_ANSWER_NOUNS.fullmatch(word) for word in noun.split())


def elliptical_question(question: str, earlier: str) -> str | None:
    """The whole question a bare follow-up means, or None when `question` is not one or `earlier`
    has no shape to put it in plainly: "And how high?" after "How far did the missile travel?" is
    "How high did the missile travel?"; "Where exactly?" after "How many troops are in Russia?"
    is "Where are the troops in Russia?"; "When?" after "What missile did North Korea test?" is
    "When did North Korea test the missile?".

    "how" with an adjective only follows another ("And how wide?" after "How tall is the
    tower?"): after "Where was Obama born?", "How old?" asks about Obama, not his birth. A count
    ("How many?") never stands in for a circumstance.

    The reranker, the answer-type rules and abstention read a question alone, and "And how high?"
    names nothing they can judge a sentence by. On follow-ups made from the natural reporting
    part (benchmarks/follow_ups.py) 0.340 were refused and 0.415 had the right first citation,
    against 0.019 and 0.717 for the same questions typed whole and for the rewrite."""
    earlier = " ".join(earlier.split())
    if len(earlier) > MAX_EARLIER_CHARS or _TWO_QUESTIONS.search(earlier):
        return None
    fragment = _bare_follow_up(question)
    if fragment is None:
        return None
    asked = " ".join((fragment.group("event") or fragment.group("wh")).split())
    asked = asked[0].upper() + asked[1:].lower()
    how = asked.split()[1] if len(asked.split()) > 1 else None  # "high" in "How high"
    if how in ("many", "much"):
        return None
    before = _ASKS_CIRCUMSTANCE.fullmatch(earlier)
    if before is not None:
        wh, rest, aux = before.groups()
        earlier_how = wh.split()[1].lower() if len(wh.split()) > 1 else None
        both_described = how is not None and earlier_how not in (None, "many", "much")
        if how is not None and not both_described:
            return None
        if asked == "How" and aux.lower() not in _DO:  # "Where was Obama born?" + "How?"
            return None
        if aux.lower() in _COPULAS and not both_described and not _PREDICATE.search(rest[len(aux):]):
            return None  # "Where is the Eiffel Tower?" + "When?"; "How tall is it?" + "When?"
        return f"{asked} {rest}?"
    thing = _ASKS_THING.fullmatch(earlier)
    if thing is None or how is not None:
        return None
    noun, aux, rest = thing.group(1).strip(), thing.group(2), thing.group(3)
    if aux.lower() in _DO:  # the noun was the object: "When did North Korea test the missile?"
        head, _, of = noun.rpartition(" of ")
        if head and _names_answer(head):
            noun = of  # "What kind of missile did ...": the missile
        return f"{asked} {aux} {rest}{'' if _names_answer(noun) else ' the ' + noun}?"
    # The noun is the subject only after "is/are/was/were" followed by a predicate ("Where are the
    # troops in Russia?"); "How many missiles has North Korea launched?" + "When?" is left as typed.
    if (aux.lower() not in _COPULAS or not rest or _OPENS_SUBJECT.match(rest) or not rest[0].islower()
            or " of " in f" {noun} " or _names_answer(noun)):
        return None
    return f"{asked} {aux} the {noun} {rest}?"


def standalone_question(question: str, history: Iterable[Any] | None) -> str:
    """`question` as the models that read it alone should read it: the whole question an
    elliptical follow-up means (`elliptical_question`), read against the last earlier question
    that was not itself a bare follow-up, with the follow-ups since put in turn ("How far did it
    fly?" + "And how high?" + "And when?" is "When did it fly?"), else `question`.

    History is read only for a bare follow-up, and then only the turns back to that question,
    newest first; a long one ends the search before any pattern runs on it: a history of forty
    10,000-character turns costs about a millisecond."""
    if _bare_follow_up(question) is None:
        return question
    fragments: list[str] = []
    for turn in reversed(previous_questions(history)):
        turn = " ".join(turn.split())
        if len(turn) > MAX_EARLIER_CHARS:
            return question
        turn = core_question(turn)
        if _bare_follow_up(turn):
            fragments.append(turn)
            continue
        before = turn
        for fragment in reversed(fragments):
            before = elliptical_question(fragment, before) or fragment
        return elliptical_question(question, before) or question
    return question


def _new_subject(question: str, earlier: list[str]) -> bool:
    """True when `question` names something (a capitalised word after its first, as
    answer_type.question_names reads names) that no earlier question mentions, and does not
    open like a follow-up."""
    if _OPENER.match(question) or _REFERRING.search(question):
        return False
    mentioned = {t for q in earlier for t in terms(q)}
    return any(t not in mentioned for name in question_names(question) for t in terms(name))
