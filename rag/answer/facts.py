"""Check 2 of the verifier (rag/answer/verify.py): every number, date, name and rank word a claim
states must be vouched for by the sentences it cites.

This is the check a fluent wrong answer fails most often: the right sentence, a wrong figure.
It is by rule, not by score: "7,000 kilometers" needs a 7,000 or 7000 in the cited text,
"Thursday" needs Thursday, "Blinken" needs Blinken. Number words count as their value ("two"
matches "2"), thousands separators and case are ignored, a name may differ from the source by
a possessive or a demonym ending ("Korea"/"Korean"). `fact_problem` says what vouches for what,
and why the question never does.
"""

from __future__ import annotations

import re

from rag.text.lexical import nfkc, terms

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9,
                      "trillion": 10**12, "dozen": 12})
_DIGITS = re.compile(r"(?<![\w.])\d+(?:[,.]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*\w|[^\W\d_]")  # a letter of any script first: "Ögedei", not "gedei"
_MONTHS_DAYS = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split())


def _number_value(token: str) -> str:
    """A number's value as text: "7,000" and "7000" -> "7000"; "3.50" -> "3.5"."""
    t = token.replace(",", "")
    if t.count(".") > 1:  # "1.2.3": not one number
        return token
    try:
        value = float(t)
    except ValueError:
        return token
    return str(int(value)) if value == int(value) else repr(value)


def numbers_in(text: str) -> set[str]:
    out = {_number_value(m.group(0).rstrip(".,")) for m in _DIGITS.finditer(text)}
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _NUMBER_WORDS:
            out.add(str(_NUMBER_WORDS[w]))
    return out


def _claim_numbers(text: str) -> list[str]:
    """The numbers a claim states: digits, and number words other than "one" (which is mostly
    a pronoun: "one of the largest")."""
    out = [_number_value(m.group(0).rstrip(".,")) for m in _DIGITS.finditer(text)]
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _NUMBER_WORDS and w not in ("one", "hundred", "thousand", "dozen"):
            out.append(str(_NUMBER_WORDS[w]))
    return out


def names_in(text: str) -> list[str]:
    """Capitalised words (names, places, organisations, acronyms) and month and day names.

    The first word of a sentence is capitalised anyway, so it counts only when it is an
    acronym ("NATO") or a month or day: "People can move in" must not need "People" in the
    source. A made-up name in that place is left to the support score, where a word no
    article contains weighs the most (lexical_support). A hyphenated word counts by its
    parts: "Super Bowl-related" names "Bowl", "mid-March" "March", "anti-French" "French".
    """
    out = []
    for m in _WORD.finditer(text):
        at_start = _starts_sentence(text, m.start())
        for i, part in enumerate(m.group(0).strip(".'’-").split("-")):
            if part.lower() in _MONTHS_DAYS:
                out.append(part)
            elif part[:1].isupper() and part != "I" and not (i == 0 and at_start and not _is_acronym(part)):
                out.append(part)
    return out


def _starts_sentence(text: str, at: int) -> bool:
    return at == 0 or text[:at].rstrip().endswith((".", "!", "?", ":", '"', "“", "("))


def _is_acronym(word: str) -> bool:
    return len(word.replace(".", "")) > 1 and word.replace(".", "").isupper()


def _vouched_names(text: str) -> tuple[set[str], set[str]]:
    """The name keys of `text` (hyphenated words also by their parts), and the acronyms that
    its runs of capitalised words spell, whole: "European Union" -> "eu", "the Organization of
    Arab Petroleum Exporting Countries" -> "oapec", "In the United States" -> "us" (a run's
    capitalised first word of a sentence may be left out). A run is words separated by spaces
    alone, or by "of", "the", "for": "Uganda, Sudan and Chad" spells nothing."""
    words: set[str] = set()
    initials: set[str] = set()
    run: list[str] = []
    run_at_start = False
    end = 0

    def close() -> None:
        if len(run) >= 2:
            initials.add("".join(run))
        if run_at_start and len(run) >= 3:
            initials.add("".join(run[1:]))

    for m in _WORD.finditer(text):
        word = m.group(0).strip(".'’-")
        if not word:
            continue
        words.add(_name_key(word))
        words.update(_name_key(part) for part in word.split("-") if part)
        joined = run and not text[end : m.start()].strip()
        end = m.end()
        if word[0].isupper() and joined:
            run.append(word[0].lower())
        elif word[0].isupper():
            close()
            run, run_at_start = [word[0].lower()], _starts_sentence(text, m.start())
        elif not (joined and word in _ACRONYM_GLUE):
            close()
            run = []
    close()
    return words, initials


_ACRONYM_GLUE = frozenset({"of", "the", "for"})  # "Organization of Arab Petroleum ..."


def _name_key(word: str) -> str:
    w = word.lower().replace("’", "'")
    w = re.sub(r"'s$|'$", "", w)
    return w.replace(".", "")


def _name_found(name: str, words: set[str]) -> bool:
    key = _name_key(name)
    if key in words:
        return True
    # "Korean" / "Korea", "Russian" / "Russia", "Americans" / "American": a demonym or plural ending.
    return any(len(key) >= 4 and len(w) >= 4 and abs(len(w) - len(key)) <= 3 and (w.startswith(key) or key.startswith(w))
               and (w.endswith(("n", "ns", "s", "ese", "i", "ish")) or key.endswith(("n", "ns", "s", "ese", "i", "ish")))
               for w in words)


def fact_problem(claim: str, cited: str, question: str = "", title: str = "") -> str | None:
    """None when every number, date, name and rank word of `claim` is vouched for, else a
    sentence saying what is missing:
    - numbers and dates by the cited sentences, a percentage by a percentage ("18%" is not the
      18 of "oxygen-18"), and a number by the words the cited sentences put before it when they
      put those words before another one (`_rebound_number`). The title's or the question's
      numbers count only inside a name that the claim repeats ("Super Bowl 50", "Apollo 11"):
      the title "1973 oil crisis" let "The US abandoned the Gold Exchange Standard in 1973"
      pass (it was 1971), and a question's number is what a question near an article's topic
      changes ("Kenya's 2010 deal");
    - names by the cited sentences or the title ("Odinga got the top job in Kenya" from a
      sentence of the article "Kenya"), not by the question: "10,000 South Korean troops are in
      Russia", for "How many South Korean troops are in Russia?", cited to "10,000 North Korean
      troops are in Russia", scored a support of 0.92 when the question's names counted;
    - rank words said of a thing ("Harvard's first president", "the only synagogue", "the
      largest city": `rank_words`) by the cited sentences or the title, not by the question,
      which is where the claim took them from: "Henry Ware was Harvard's first president" for
      "Who was Harvard's first president?" from "Henry Ware was elected to the chair".
    All are compared in NFKC form: a model writes "Zürich" composed, a file may hold it
    decomposed (rag/text/lexical.py)."""
    claim, cited, question, title = nfkc(claim), nfkc(cited), nfkc(question), nfkc(title)
    have_numbers = numbers_in(cited) | _named_numbers(claim, f"{title} {question}")
    missing = [n for n in dict.fromkeys(_claim_numbers(claim)) if n not in have_numbers]
    if missing:
        return f"says {', '.join(missing[:3])}, which the cited sentences do not"
    missing = [f"{n}%" for n in dict.fromkeys(_percentages(claim)) if n not in _percentages(cited)]
    if missing:
        return f"says {', '.join(missing[:3])}, a share the cited sentences do not give"
    clash = _rebound_number(claim, cited)
    if clash:
        return clash
    words, acronyms = _vouched_names(f"{cited}. {title}")
    missing = [n for n in dict.fromkeys(names_in(claim))
               if not _name_found(n, words) and not (_is_acronym(n) and _name_key(n) in acronyms)]
    if missing:
        return f"names {', '.join(missing[:3])}, which the cited sentences do not"
    said = set(re.findall(r"\w+", f"{cited} {title}".lower()))
    missing = [w for w in dict.fromkeys(rank_words(claim)) if not (_RANK_SAME.get(w, {w}) & said)]
    if missing:
        return f"says {', '.join(missing[:3])}, which the cited sentences do not"
    if title and rests_on_title_alone(claim, cited, question, title):
        return "adds only words of the article's title, nothing the cited sentences say"
    return None


_PERCENT = re.compile(r"(?<![\w.])(\d+(?:[,.]\d+)*|[a-z]+)\s*(?:%|percent\b|per\s+cent\b)", re.IGNORECASE)
# "from 55 to 40 percent", "between 10 and 15%", "10-15%": the unit of the last is the others' too.
_RANGE_BEFORE = re.compile(r"(\d+(?:[,.]\d+)*|[a-z]+)\s*%?\s*(?:to|and|or|-|–|,)\s*$", re.IGNORECASE)


def _percentages(text: str) -> set[str]:
    """The values given as percentages: "12%", "12 percent", "twenty per cent", and the numbers
    a range or list puts before one ("from 55 to 40 percent" -> {"55", "40"})."""
    out = set()
    for m in _PERCENT.finditer(text):
        value = _value_of(m.group(1))
        if value is None:
            continue
        out.add(value)
        before = _RANGE_BEFORE.search(text, max(0, m.start() - 30), m.start())
        if before and _value_of(before.group(1)) is not None:
            out.add(_value_of(before.group(1)))
    return out


def _value_of(token: str) -> str | None:
    """A number in digits or a number word as `_number_value` gives it; None for another word."""
    if token[:1].isdigit():
        return _number_value(token)
    word = token.lower()
    return str(_NUMBER_WORDS[word]) if word in _NUMBER_WORDS else None


def _rebound_number(claim: str, cited: str) -> str | None:
    """A sentence saying what the cited sentences contradict, when they give the claim's number
    to another name and another number to the claim's: "Newton was 39 years old" against
    "(Manning was 39, Newton was 26)" passes the number check (39 is there) and scored a support
    of 0.91 (threshold 0.9). Narrow on purpose, since the words before a number are a weak
    reading of what it is said of: a name, then a word, right before each number ("Newton was",
    "Manning was"), in the claim and twice in the cited sentences. "Apple sold 10 million in
    2015 and 12 million in 2016" gives 12 to no other name, so "Apple sold 12 million in 2016"
    passes."""
    said: dict[tuple[str, str], set[str]] = {}
    for context, value in _name_number_contexts(cited):
        said.setdefault(context, set()).add(value)
    for context, value in _name_number_contexts(claim):
        others = said.get(context, set())
        elsewhere = [c for c, values in said.items() if c != context and value in values]
        if others and value not in others and elsewhere:
            return (f"says {' '.join(context)} {value}, where the cited sentences say "
                    f"{' '.join(context)} {sorted(others)[0]} and {' '.join(elsewhere[0])} {value}")
    return None


def _name_number_contexts(text: str) -> list[tuple[tuple[str, str], str]]:
    """((the two words right before it, lower-cased), value) of each number written in digits
    whose first of those words is a capitalised content word (a name: "Newton was 26")."""
    out = []
    for m in _DIGITS.finditer(text):
        window = text[max(0, m.start() - 60) : m.start()]
        before = re.findall(r"[^\W\d_][\w'’-]*", window)
        if len(before) < 2 or not window.rstrip().endswith(before[-1]):  # no comma between word and number
            continue
        if not (before[-2][0].isupper() and terms(before[-2])):
            continue
        out.append(((before[-2].lower(), before[-1].lower()), _number_value(m.group(0).rstrip(".,"))))
    return out


def rests_on_title_alone(claim: str, cited: str, question: str, title: str) -> bool:
    """True when every content word `claim` adds to the question is the title's and none is the
    cited sentences' (and it states no number, which the sentences vouch for). The title vouches
    for names, but a claim made of it alone says nothing its citation says: asked "Where's the
    nearest gas station?", the model answered "Fresno, California [5]" with a sentence of the
    article "Fresno, California" about a railroad station, and the title's words gave it a
    support of 0.92."""
    added = set(terms(claim)) - set(terms(question))
    return bool(added) and not _claim_numbers(claim) and not added & set(terms(cited)) and added <= set(terms(title))


def _named_numbers(claim: str, text: str) -> set[str]:
    """The numbers of `text` that follow a name ("Bowl 50", "Apollo 11") which the claim also
    puts right before that number. A month, a day or a sentence's first word is no name:
    "April 2008" and "In 1973" are dates."""
    return {number for _, number in _name_number_pairs(text) & _name_number_pairs(claim)}


def _name_number_pairs(text: str) -> set[tuple[str, str]]:
    return {(m.group(1).lower(), _number_value(m.group(2))) for m in _NAMED_NUMBER.finditer(text)
            if m.group(1).lower() not in _MONTHS_DAYS and not _starts_sentence(text, m.start())}


_NAMED_NUMBER = re.compile(r"\b([A-Z][\w'’-]*)\s+(\d+(?:[,.]\d+)*)\b")
# Ordinals, "last", "only" and superlatives, when a determiner or a possessive puts them on a
# thing ("the first", "Harvard's first", "its very largest"): "was first made" is left alone.
_RANK = re.compile(r"(?:\b(?:the|its|their|his|her|our|whose)|['’]s)\s+(?:(?:very|single)\s+)?"
                   r"(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|only"
                   r"|[a-z]{2,}est)\b", re.IGNORECASE)
# Words that end like a superlative and are none ("the rainforest", "its unrest"). Whole words:
# endings would catch "greatest", "lowest", "nearest", "biggest".
_NOT_SUPERLATIVE = frozenset(
    "interest forest rainforest rest unrest west midwest northwest southwest contest protest test request "
    "quest conquest inquest harvest nest guest arrest chest crest digest manifest honest modest earnest "
    "bequest priest wildebeest tempest behest pest vest".split())
# The same rank in other words: the cited text may use either.
_RANK_GROUPS = ({"largest", "biggest"}, {"highest", "tallest"}, {"first", "earliest", "1st"}, {"second", "2nd"},
                {"third", "3rd"}, {"last", "final", "latest"})  # "the 20th" is a number: checked as one
_RANK_SAME = {w: g for g in _RANK_GROUPS for w in g}


def rank_words(claim: str) -> list[str]:
    """The ordinals, "last", "only" and superlatives that `claim` says of a thing, lower-cased
    (a capitalised word is a name: "the Everest", "the Budapest Memorandum")."""
    return [w.lower() for w in _RANK.findall(claim) if w.islower() and w not in _NOT_SUPERLATIVE]
