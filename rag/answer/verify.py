"""Checking each sentence a language model wrote against the sentences it cites.

A claim (one sentence of the reply, with the numbers it cites) is kept only when all of these hold:
1. it cites something, and every number it cites is one of the sentences the model was shown;
2. every number and date in it occurs in the cited sentences, and every name and every rank
   it gives a thing ("Harvard's first president") there or in their article's title; what
   the question says is not evidence (`fact_problem` says why, and the one exception):
   "7,000 kilometers" needs a 7,000 or 7000 there, "Thursday" needs Thursday, "Blinken" needs
   Blinken. Number words count as their value ("two" matches "2"), thousands separators and
   case are ignored, a name may differ from the source by a possessive or a demonym ending
   ("Korea"/"Korean"). This is the check a fluent wrong answer fails most often: the right
   sentence, a wrong figure. And a claim must add something the cited sentences say, not
   only the title's words (`rests_on_title_alone`);
3. the cited sentences say it: a support probability from a logistic model over agreements
   between the claim and the cited text, at least `SUPPORT_MODEL["threshold"]`:
   - `lexical`: the idf-weighted share of the claim's content terms found in the cited text;
   - `novel`: the same share over the claim's terms that the question does not contain, i.e.
     over what the claim adds: its answer ("the aeolipile" in "The earliest steam engine was
     the aeolipile"), which is what a wrong answer with a right-looking citation gets wrong;
   - `cosine`: MiniLM cosine of the claim and the best cited sentence (the index's vectors);
   - `rerank`: the cross-encoder's logit for (claim, cited text), which reads both together.
   The coefficients and the threshold come from `benchmarks/tune_generative.py calibrate`,
   which prints them and says on what they were fitted (README, "Generative answers").

Small models cite badly: Qwen2.5-Coder-1.5B often writes no marker, or the number next to the
right one. A claim that fails 1-3 against what it cites (or cites nothing) is therefore checked
against each numbered sentence on its own; if one passes 2 and 3, the best such sentence
becomes its citation and the claim is kept, marked `cited_by="verifier"`. The model's own
numbers are never trusted either way: a kept claim always passed 2 and 3 against the sentence
it is finally shown with.

What it does not do: prove entailment. A claim that uses the cited words to say something
they do not say ("A did not do X" from "A did X") can pass 3; the calibration figures say how
often such pairs get through. So can a claim that puts the question's verb on the cited facts:
"8,000 North Korean troops died near the Ukrainian border", for "How many North Korean troops
died near the Ukrainian border?", against "... 8,000 of them are near the Ukrainian border"
scored 0.905 with the verifier of tests/test_verify.py (`novel` leaves out the question's
words, which an answer in other words needs).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from rag.text.lexical import nfkc, terms

# Fitted by `benchmarks/tune_generative.py calibrate` (which prints these lines) on 430 rule-labelled
# (claim, sentence) pairs from Qwen2.5-Coder-1.5B's answers to the natural tuning part and 200 SQuAD
# dev seed-1 questions; threshold: the lowest whose 5-fold cross-validated precision of "supported"
# reached 0.95 (0.961, recall 0.667). Without the reranker no threshold reached 0.95: the one with
# the best precision at recall >= 0.5 (0.941, recall 0.519). README, "Generative answers".
SUPPORT_MODEL = {"intercept": -4.03, "lexical": 0.613, "novel": 4.577, "cosine": -0.278, "rerank": 0.18,
                 "threshold": 0.9}
SUPPORT_MODEL_NO_RERANK = {"intercept": -4.782, "lexical": 1.53, "novel": 5.101, "cosine": 0.712, "threshold": 0.9}


class Embeds(Protocol):
    def embed_query(self, text: str) -> np.ndarray:
        """A unit vector of `text` (rag.embed.Embedder)."""
        ...


class Scores(Protocol):
    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One relevance logit per passage (rag.rerank.Reranker)."""
        ...


@dataclass(frozen=True)
class Source:
    """A numbered sentence as the verifier needs it."""

    n: int
    text: str
    title: str
    vector: np.ndarray | None  # the index's unit vector of (title + sentence), None if unknown


@dataclass(frozen=True)
class Verdict:
    supported: bool
    problem: str | None  # why not supported (the check against the model's own citations)
    support: float | None  # calibrated probability (None when an earlier check already failed)
    features: dict[str, float] | None = None
    cites: tuple[int, ...] = ()  # the numbered sentences a supported claim rests on
    cited_by: str = "model"  # "verifier": the model's numbers did not hold, the verifier found these


# -- 2: numbers, dates and names ---------------------------------------------------------------
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
    - numbers and dates by the cited sentences. The title's or the question's count only inside
      a name that the claim repeats ("Super Bowl 50", "Apollo 11"): the title "1973 oil crisis"
      let "The US abandoned the Gold Exchange Standard in 1973" pass (it was 1971), and a
      question's number is what a question near an article's topic changes ("Kenya's 2010 deal");
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


# -- 3: support ----------------------------------------------------------------------------
def lexical_support(claim: str, cited: str, idf: dict[str, float], unknown_idf: float,
                    ignore: set[str] | frozenset[str] = frozenset()) -> float:
    """Share of the claim's idf mass (its content terms, but `ignore`) that the cited text holds;
    1.0 when no term is left."""
    claim_terms = set(terms(claim)) - ignore
    if not claim_terms:
        return 1.0
    have = set(terms(cited))
    total = sum(idf.get(t, unknown_idf) for t in claim_terms)
    return sum(idf.get(t, unknown_idf) for t in claim_terms & have) / total if total > 0 else 0.0


def support_probability(features: dict[str, float]) -> float:
    m = SUPPORT_MODEL if "rerank" in features else SUPPORT_MODEL_NO_RERANK
    z = m["intercept"] + sum(m[k] * v for k, v in features.items() if k in m)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def support_threshold(features: dict[str, float]) -> float:
    return (SUPPORT_MODEL if "rerank" in features else SUPPORT_MODEL_NO_RERANK)["threshold"]


@dataclass
class Verifier:
    """Checks claims against numbered sentences. `reranker` None: the model without `rerank`."""

    embedder: Embeds
    reranker: Scores | None
    idf: dict[str, float]
    unknown_idf: float

    def features(self, claims: Sequence[str], cited: Sequence[list[Source]], question: str = "") -> list[dict[str, float]]:
        """The support features of each claim against its cited sources (one reranker batch a claim)."""
        out: list[dict[str, float]] = []
        asked = set(terms(question))
        for claim, sources in zip(claims, cited):
            text = cited_text(sources, titled=True)
            f = {"lexical": lexical_support(claim, text, self.idf, self.unknown_idf),
                 "novel": lexical_support(claim, text, self.idf, self.unknown_idf, ignore=asked)}
            vectors = [s.vector for s in sources if s.vector is not None]
            if vectors:
                q = np.asarray(self.embedder.embed_query(claim), dtype=np.float32)
                f["cosine"] = float(max(float(np.dot(q, v)) for v in vectors))
            else:
                f["cosine"] = 0.0
            out.append(f)
        if self.reranker is not None:
            # The claim reads as the query, the cited text as the passage: "does this passage
            # answer/say this?" is what the cross-encoder was trained to judge. One batch per claim.
            rows: dict[str, list[int]] = {}
            for i, claim in enumerate(claims):
                rows.setdefault(claim, []).append(i)
            for claim, idx in rows.items():
                logits = self.reranker.score(claim, [cited_text(cited[i], titled=True) for i in idx])
                for i, logit in zip(idx, logits):
                    out[i]["rerank"] = float(logit)
        return out

    def check(self, claims: Sequence[tuple[str, tuple[int, ...]]], sources: dict[int, Source],
              question: str = "") -> list[Verdict]:
        """A verdict for each (claim text, cited numbers) against the numbered `sources`."""
        verdicts = []
        for text, cites in claims:
            verdict = self._against(text, cites, sources, question)
            if not verdict.supported:
                verdict = self._attribute(text, sources, question) or verdict
            verdicts.append(verdict)
        return verdicts

    def _against(self, text: str, cites: tuple[int, ...], sources: dict[int, Source], question: str) -> Verdict:
        """Checks 1-3 of the claim against the sentences the model cited."""
        if not cites:
            return Verdict(False, "cites no sentence", None)
        unknown = [n for n in cites if n not in sources]
        if unknown:
            return Verdict(False, f"cites [{unknown[0]}], which is not one of the {len(sources)} sentences "
                                  f"it was given", None)
        cited = [sources[n] for n in cites]
        problem = facts_problem(text, cited, question)
        if problem:
            return Verdict(False, problem, None)
        [f] = self.features([text], [cited], question)
        p = support_probability(f)
        if p < support_threshold(f):
            return Verdict(False, f"the cited sentences do not say this (support {p:.2f})", p, f)
        return Verdict(True, None, p, f, tuple(cites))

    def _attribute(self, text: str, sources: dict[int, Source], question: str) -> Verdict | None:
        """The best single numbered sentence that passes checks 2 and 3 for the claim, or None."""
        passing = [s for s in sources.values() if facts_problem(text, [s], question) is None]
        if not passing:
            return None
        feats = self.features([text] * len(passing), [[s] for s in passing], question)
        best = None
        for s, f in zip(passing, feats):
            p = support_probability(f)
            if p >= support_threshold(f) and (best is None or p > best.support):
                best = Verdict(True, None, p, f, (s.n,), "verifier")
        return best


def facts_problem(claim: str, sources: Sequence[Source], question: str = "") -> str | None:
    """`fact_problem` of `claim` against the cited `sources` and their articles' titles."""
    return fact_problem(claim, cited_text(sources), question, " ".join(dict.fromkeys(s.title for s in sources)))


def cited_text(sources: Sequence[Source], titled: bool = False) -> str:
    """The cited sentences as one text; with `titled`, each distinct title in front."""
    parts: list[str] = []
    seen: set[str] = set()
    for s in sources:
        if titled and s.title and s.title not in seen:
            seen.add(s.title)
            parts.append(f"{s.title}.")
        parts.append(s.text)
    return " ".join(parts)
