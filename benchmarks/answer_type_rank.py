"""Does the answer type help choose the sentence?

"How many troops did North Korea send?" asks for a number, yet the sentences the cross-encoder
reads first can all be number-free ones on the same topic, and the one that says "10,000" never
reaches it. Here a sentence that holds the kind of thing asked for (rag/answer/answer_type.py,
`holds`) gets a bonus in the cheap score (`AnswerConfig.type_bonus`: which sentences the
cross-encoder reads) and in the final score (which is cited first). A question of no known type
is unchanged. Printed on the fitting data only (tune_retrieval.py's sets): first citation,
answer_contains_gold, and abstention refitted on the new best sentence, in-sample and
cross-validated by article. The shipped cheap bonus is the smallest that changes neither first
citation and answers more; the final bonus is not shipped (README "Retrieval quality: what was
measured").

Part "slot" (2026-11-29): instead of a bonus, when none of the sentences the cross-encoder would
read holds the asked-for kind, the best one by cheap score that does is read too (`TypeSlot`);
and, when none of the sentences an answer shows holds that kind, one that follows the best
closely enough and does takes the last place (`TypedFollow`: it changes what is shown, not the
first citation nor abstention). Printed the same way, plus the abstentions of the shipped
abstention model, unrefitted, on each ranking's best sentence, and the share of fitting
questions whose shown sentences each variant changes. Neither is shipped (README "Retrieval
quality: what was measured").

    .venv/bin/python benchmarks/answer_type_rank.py [--parts bonus,slot]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import abstention_features as af  # noqa: E402
import tune_retrieval as tr  # noqa: E402
from rag.answer.abstain import Evidence  # noqa: E402
from rag.answer.answer_type import expected_type  # noqa: E402
from rag.answer.extractive import AnswerConfig, Candidate, ExtractiveAnswerer, rerank_text  # noqa: E402


@dataclass
class TypeBonus(ExtractiveAnswerer):
    """The shipped ranking with `final_bonus` added to the final score of the reranked sentences
    that hold the asked-for kind of answer (the cheap score's bonus is `config.type_bonus`)."""

    final_bonus: float = 0.0

    def rank(self, query, hits, index) -> list[Candidate]:
        ranked = super().rank(query, hits, index)
        head = [c for c in ranked if c.final is not None]
        tail = ranked[len(head):]
        typed = expected_type(query.asked) is not None
        head = [replace(c, final=c.final + self.final_bonus * (typed and c.type_ok)) for c in head]
        head.sort(key=lambda c: (-c.final, c.hit.rank, c.sentence.start))
        return head + tail


@dataclass
class TypedFollow(ExtractiveAnswerer):
    """The shipped choice, where an answer none of whose sentences holds the asked-for kind gives
    its last place to the first sentence that follows the best closely enough and does."""

    def choose(self, ranked: list[Candidate]) -> list[Candidate]:
        chosen = super().choose(ranked)
        if any(c.type_ok for c in chosen):  # also every question of no known type
            return chosen
        typed = next((c for c in ranked[1:] if self._follows(c, ranked[0]) and c.type_ok), None)
        return chosen if typed is None else chosen[: self.config.max_sentences - 1] + [typed]


@dataclass
class TypeSlot(ExtractiveAnswerer):
    """The shipped ranking, where a question of a known type whose reranked sentences hold none
    of that type also has the best such sentence by cheap score reranked."""

    def rank(self, query, hits, index) -> list[Candidate]:
        ranked = super().rank(query, hits, index)
        head = [c for c in ranked if c.final is not None]
        tail = ranked[len(head):]
        if expected_type(query.asked) is None or any(c.type_ok for c in head):
            return ranked
        typed = next((c for c in tail if c.type_ok), None)
        if typed is None:
            return ranked
        logit = float(self.reranker.score(query.asked, [rerank_text(typed)])[0])
        head.append(replace(typed, rerank=logit, final=logit + self.config.rerank_blend * typed.cheap))
        head.sort(key=lambda c: (-c.final, c.hit.rank, c.sentence.start))
        return head + [c for c in tail if c is not typed]


@dataclass
class SlotAndTypedFollow(TypeSlot, TypedFollow):
    """TypeSlot's ranking and TypedFollow's choice of what is shown."""


def bonus_part(items, reranker) -> None:
    answerable = [it for it in items if it.question.answerable]
    typed = [it for it in answerable if expected_type(it.query.asked)]
    print(f"answerable: squad {sum(it.set == 'squad' for it in answerable)}, natural "
          f"{sum(it.set == 'natural' for it in answerable)}; of them of a known type: squad "
          f"{sum(it.set == 'squad' for it in typed)}, natural {sum(it.set == 'natural' for it in typed)}")
    print("== cheap bonus, final bonus -> first citation gold / contains gold (answerable); pairs read a question ==")
    for cb, fb in itertools.product((0.0, 0.05, 0.1, 0.15), (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)):
        a = TypeBonus(reranker, AnswerConfig(type_bonus=cb), final_bonus=fb)
        reranker.pairs_read = 0
        first = tr.by_set(answerable, lambda it: tr.first_gold(it, a))
        pairs = reranker.pairs_read / len(answerable)
        contains = tr.by_set(answerable, lambda it: tr.contains_gold(it, a))
        print(f"  {cb:<4} {fb:<4} first {tr.fmt(first)}   contains {tr.fmt(contains)}   pairs {pairs:.2f}")
    reranker.save()
    print("== abstention refitted on each ranking's best sentence (shipped features) ==")
    for cb, fb in itertools.product((0.0, 0.05, 0.1), (0.0, 0.5, 1.0)):
        a = TypeBonus(reranker, AnswerConfig(type_bonus=cb), final_bonus=fb)
        rows = [row for _, _, row in tr.shipped_rows(items, a)]
        print(f"  {cb} {fb}\n      in-sample        {tr.fitted_rates(rows, af.SHIPPED, af.LIMITS)}\n"
              f"      cross-validated  {af.cross_validated(rows, af.SHIPPED)}")
    reranker.save()


def slot_part(items, reranker) -> None:
    answerable = [it for it in items if it.question.answerable]
    print("== type slot -> first citation gold / contains gold (answerable); pairs read a question ==")
    variants = {"shipped": ExtractiveAnswerer(reranker, AnswerConfig()),
                "typed follow": TypedFollow(reranker, AnswerConfig()),
                "slot": TypeSlot(reranker, AnswerConfig()),
                "slot, typed follow": SlotAndTypedFollow(reranker, AnswerConfig())}
    before = variants["shipped"]
    for name, a in variants.items():
        reranker.pairs_read = 0
        first = tr.by_set(answerable, lambda it: tr.first_gold(it, a))
        pairs = reranker.pairs_read / len(answerable)
        contains = tr.by_set(answerable, lambda it: tr.contains_gold(it, a))
        changed = tr.by_set([it for it in items if it.hits], lambda it: float(shown(it, a) != shown(it, before)))
        print(f"  {name:18s} first {tr.fmt(first)}   contains {tr.fmt(contains)}   pairs {pairs:.2f}   "
              f"shown sentences changed {tr.fmt(changed)}")
    reranker.save()
    print("== abstention on each ranking's best sentence: shipped model unrefitted (no second opinion), "
          "then refitted ==")
    for name, a in variants.items():
        rows = []
        for it, ranked, row in tr.shipped_rows(items, a):
            e = Evidence(rerank=row["rerank"], type_ok=not row["type_miss"], cosine=row["cosine"],
                         coverage=0.0, cheap=0.0, names_ok=not row["name_miss"])
            row["shipped_answers"] = e.answerable()
            rows.append(row)
        shipped = {}
        for s in ("squad", "natural"):
            mine = [r for r in rows if r["set"] == s]
            un = [r for r in mine if not r["y"]]
            ans = [r for r in mine if r["y"]]
            shipped[s] = (f"abstain {sum(not r['shipped_answers'] for r in un) / max(1, len(un)):.3f} "
                          f"false {sum(not r['shipped_answers'] for r in ans) / max(1, len(ans)):.3f}")
        print(f"  {name}\n      shipped model    squad {shipped['squad']}  natural {shipped['natural']}\n"
              f"      in-sample        {tr.fitted_rates(rows, af.SHIPPED, af.LIMITS)}\n"
              f"      cross-validated  {af.cross_validated(rows, af.SHIPPED)}")
    reranker.save()


def shown(it, a: ExtractiveAnswerer) -> list[tuple[str, int, int]]:
    """The sentences `a` would show for a fitting question, were it answered."""
    return [c.key for c in a.choose(a.rank(it.query, it.hits, it.snap))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", default="bonus,slot")
    parts = parser.parse_args().parts.split(",")
    items, reranker, _ = tr.fitting_answerer()
    if "bonus" in parts:
        bonus_part(items, reranker)
    if "slot" in parts:
        slot_part(items, reranker)


if __name__ == "__main__":
    main()
