"""Does the unit of a measured answer help abstention?

"How fast did the missile fly?" asks for a number, and the sentence on the flight holds two
(86 minutes, 7,000 kilometers), so the answer-type check (rag/answer/answer_type.py, `holds`)
passes and the question is answered with a sentence that gives no speed. `expected_unit` and
`holds_unit` say what a measured answer is measured in (a speed, a length, a duration, money,
a frequency, a temperature, a mass) and whether a sentence holds one. Here abstention is refitted
on the fitting data only (tune_retrieval.py's sets) with the kind of answer alone (shipped),
with the unit folded into the type check (`type_miss`) and with the unit as a feature of its
own (`unit_miss`); rates in-sample and cross-validated by article, first model alone and with
the second opinion. The sentences and their ranking are the shipped ones: only whether to answer
changes. Not shipped: it gains one natural question of 33 and loses about one SQuAD one (README,
"Retrieval quality: what was measured"). Last, `holds_count`: whether the best sentence holds a
count for a "How many ...?" question, folded into the type check the same way; not shipped
either (it gains on the everyday sets and loses on SQuAD).

    .venv/bin/python benchmarks/answer_units.py
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import abstention_features as af  # noqa: E402
import tune_retrieval as tr  # noqa: E402
from rag.answer.abstain import SECOND_OPINION_MODEL  # noqa: E402
from rag.answer.answer_type import NUMBER, holds  # noqa: E402
from rag.rerank.bge_small import BgeSimilarity  # noqa: E402

SHIPPED, LIMITS = af.SHIPPED, af.LIMITS  # the shipped features and the false-abstention limits
BAND = SECOND_OPINION_MODEL["band"]  # where the second opinion decides

# "How fast did the missile fly?" wants a speed; a sentence that holds 7,000 kilometers and 86
# minutes holds numbers but no speed. Only question words whose answer has a unit are listed;
# "how many" counts things and "how big" can be any of several measures, so they have none.
SPEED, LENGTH, DURATION, MONEY, FREQUENCY, TEMPERATURE, MASS = (
    "speed", "length", "duration", "money", "frequency", "temperature", "mass")

_UNIT_Q = (
    (SPEED, re.compile(r"^\s*(?:how\s+(?:fast|quickly)|(?:at\s+)?what\s+(?:speed|velocity))\b", re.I)),
    (LENGTH, re.compile(r"^\s*(?:how\s+(?:high|tall|deep|wide|far|low)|what\s+(?:distance|height|altitude|depth))\b",
                        re.I)),
    (DURATION, re.compile(r"^\s*how\s+long\b", re.I)),  # a time or a length: both accepted below
    (MONEY, re.compile(r"^\s*how\s+much\b.*\b(?:cost|costs|costing|pay|paid|price|spend|spent|worth|earn|earned|"
                       r"charge|charged|tuition|fee|fees|sell|sold|budget|salary|money|dollars?|invest|invested)\b",
                       re.I)),
    (FREQUENCY, re.compile(r"^\s*how\s+often\b", re.I)),
    (TEMPERATURE, re.compile(r"^\s*(?:how\s+(?:hot|cold|warm)|what\s+temperature)\b", re.I)),
    (MASS, re.compile(r"^\s*(?:how\s+heavy|what\s+weight|how\s+much\s+(?:does|did|do)\b.*\bweigh)\b", re.I)),
)
_LENGTH_S = (r"\b(?:kilomet(?:er|re)s?|miles?|met(?:er|re)s?|feet|foot|inch(?:es)?|yards?|centimet(?:er|re)s?|"
             r"millimet(?:er|re)s?|light[- ]years?|leagues?|storeys?|stories)\b|\d\s?(?:km|m|ft|cm|mm)\b")
_DURATION_S = (r"\b(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?|centur(?:y|ies)|"
               r"millennia|millennium|generations?|lifetime)\b")
_UNIT_S = {
    SPEED: re.compile(r"\b(?:km/h|kph|mph|knots?|mach|m/s|speeds?|velocity)\b|\bper\s+(?:hour|second|minute)\b|"
                      r"\ban\s+hour\b|\ba\s+second\b", re.I),
    LENGTH: re.compile(_LENGTH_S, re.I),
    DURATION: re.compile(f"{_DURATION_S}|{_LENGTH_S}", re.I),
    MONEY: re.compile(r"[$€£¥₩]|\b(?:free|dollars?|euros?|pounds?|yen|won|yuan|rubles?|roubles?|rupees?|cents?|"
                      r"francs?|marks?|pesos?|usd|eur|gbp)\b", re.I),
    FREQUENCY: re.compile(r"\b(?:times|once|twice|every|daily|weekly|monthly|annually|yearly|hourly|nightly|"
                          r"always|often|usually|rarely|seldom|never)\b|\b(?:a|per|each)\s+(?:day|week|month|year|"
                          r"decade|century|hour|minute|night|season)\b", re.I),
    TEMPERATURE: re.compile(r"°|\b(?:degrees?|celsius|fahrenheit|kelvin)\b", re.I),
    MASS: re.compile(r"\b(?:kilograms?|grams?|tons?|tonnes?|pounds?|ounces?)\b|\d\s?(?:kg|g|lbs?|oz)\b", re.I),
}


def expected_unit(question: str) -> str | None:
    """What a measured answer to `question` is measured in (SPEED for "How fast ...?"), or None
    when its answer has no unit or the kind of unit is open ("How many ...?", "How big ...?")."""
    for unit, pattern in _UNIT_Q:
        if pattern.search(question):
            return unit
    return None


# "How long ...?" is also answered by a span of years or a starting point.
_SPAN_S = re.compile(r"\b(?:from|between)\s+(?:\S+\s+){0,2}?\d{3,4}s?\s*(?:to|and|until|till|-|–)\s*\d{2,4}s?\b|"
                     r"\bsince\b", re.I)


def holds_unit(unit: str | None, sentence: str, question: str) -> bool:
    """True when `sentence` holds something measured in `unit` (True for None): "It flew 1,000
    kilometers" holds a LENGTH and no SPEED. A length, speed, mass or temperature needs a number
    with it; a duration, frequency or price may go without ("within seconds", "every year",
    "entry is free"), and a span of years or "since" answers "How long ...?" too."""
    if unit is None:
        return True
    if _UNIT_S[unit].search(sentence) is None:
        return unit == DURATION and _SPAN_S.search(sentence) is not None
    return unit in (DURATION, FREQUENCY, MONEY) or holds(NUMBER, sentence, question)


# "How many bridges cross the Rhine?" wants a count of bridges; "the 400 m wide river" holds a
# length, "the $1.2 billion stadium" a price and "nearly three times the rate" a ratio, none a
# count. A number is a count unless a unit, a currency, a percentage or "times" goes with it, or
# it is a year; a unit the question itself counts ("How many kilometers ...") is a count.
_HOW_MANY_Q = re.compile(r"^\s*how\s+many\b", re.I)
_NUMBER_TOKEN = re.compile(r"(?P<currency>[$€£¥₩]\s?)?(?P<n>\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|"
                           r"ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
                           r"thousands?|millions?|billions?|dozens?)\b)(?:\s+(?:million|billion|thousand|hundred))?"
                           r"\s*(?P<next>[%°]|[A-Za-z/]+)?", re.I)
_NOT_COUNT = re.compile(rf"^(?:{_LENGTH_S}|km|m|ft|cm|mm|kg|g|lbs?|oz|percent|per|times|degrees?|°|%|"
                        r"kilograms?|grams?|tons?|tonnes?|pounds?|ounces?|dollars?|euros?|yen|won|yuan|cents?|"
                        r"francs?|marks?|pesos?|km/h|mph|knots?)$", re.I)
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})s?$")


def holds_count(sentence: str, question: str) -> bool:
    """True when `sentence` holds a count for a "How many ...?" question (True for any other)."""
    if not _HOW_MANY_Q.search(question):
        return True
    asked = {w.lower() for w in re.findall(r"[a-z]+", question, re.I)}
    for m in _NUMBER_TOKEN.finditer(sentence):
        n, after = m.group("n").rstrip(".,"), (m.group("next") or "")
        if m.group("currency") or _YEAR.match(n) or n.lower() in asked:
            continue
        if _NOT_COUNT.match(after) and after.lower() not in asked:
            continue
        return True
    return False


def rates_both(rows: list[dict], first: list[str]) -> str:
    """In-sample and cross-validated rates of the first model on `first`, and with the second
    opinion (the same features with bge's cosine in place of MiniLM's)."""
    second = [c if c != "cosine" else "second_opinion" for c in first]
    _, p1, _ = tr.fit_abstention(rows, first, LIMITS)
    _, p2, _ = tr.fit_abstention(rows, second, LIMITS)
    _, p = tr.with_second_opinion(p1, p2, BAND)
    o1, o2 = tr.out_of_fold(rows, first), tr.out_of_fold(rows, second)
    _, o = tr.with_second_opinion(o1, o2, BAND)
    th = tr.highest_threshold
    return (f"    in-sample, first model      {tr.rates(p1, th(p1, rows, LIMITS), rows)}\n"
            f"    in-sample, second opinion   {tr.rates(p, th(p, rows, LIMITS), rows)}\n"
            f"    cross-validated, first      {tr.rates(o1, th(o1, rows, LIMITS), rows)}\n"
            f"    cross-validated, second     {tr.rates(o, th(o, rows, LIMITS), rows)}")


def main() -> None:
    items, reranker, shipped = tr.fitting_answerer()
    bge = BgeSimilarity()
    rows = []
    for it, ranked, row in tr.shipped_rows(items, shipped):
        asked, best = it.query.asked, ranked[0].sentence.text
        unit = expected_unit(asked)
        unit_miss = float(not holds_unit(unit, best, asked))
        type_miss = float(not ranked[0].type_ok)  # the kind of answer alone, as shipped
        count_miss = float(not holds_count(best, asked))
        rows.append({**row, "unit": unit or "-", "unit_miss": unit_miss, "type_miss": type_miss,
                     "type_or_unit_miss": max(type_miss, unit_miss), "count_miss": count_miss,
                     "type_or_count_miss": max(type_miss, count_miss),
                     "second_opinion": bge.similarity(asked, best), "question": asked, "best": best})
    reranker.save()
    print("questions with a unit, and how many of them miss it (best sentence), by set and answerability:")
    counts = Counter((r["set"], r["y"], r["unit"], r["unit_miss"]) for r in rows if r["unit"] != "-")
    for key in sorted(counts):
        print(f"    {key[0]:8s} {'answerable' if key[1] else 'unanswerable':13s} {key[2]:12s} "
              f"{'miss' if key[3] else 'holds'}  {counts[key]}")
    print("questions whose best sentence misses the unit (natural; SQuAD answerable):")
    for r in rows:
        if r["unit_miss"] and (r["set"] == "natural" or r["y"]):
            label = "answerable  " if r["y"] else "unanswerable"
            print(f"    {r['set']:8s} {label} {r['question']}  <- {r['best'][:150]!r}")
    print(f"\nshipped: the kind of answer alone {SHIPPED}:\n{rates_both(rows, SHIPPED)}")
    folded = ["rerank", "type_or_unit_miss", "name_miss", "cosine"]
    print(f"the unit folded into the type check {folded}:\n{rates_both(rows, folded)}")
    extra = SHIPPED + ["unit_miss"]
    print(f"unit as a feature of its own {extra}:\n{rates_both(rows, extra)}")
    counted = Counter((r["set"], r["y"], r["count_miss"]) for r in rows if _HOW_MANY_Q.search(r["question"]))
    print("'How many' questions whose best sentence holds no count, by set and answerability:",
          {f"{s} {'answerable' if y else 'unanswerable'} {'miss' if m else 'holds'}": n
           for (s, y, m), n in sorted(counted.items())})
    folded = ["rerank", "type_or_count_miss", "name_miss", "cosine"]
    print(f"a count for 'how many' folded into the type check {folded}:\n{rates_both(rows, folded)}")


if __name__ == "__main__":
    main()
