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

    .venv/bin/python benchmarks/answer_type_rank.py
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import abstention_features as af  # noqa: E402
import tune_retrieval as tr  # noqa: E402
from rag.answer.answer_type import expected_type  # noqa: E402
from rag.answer.extractive import AnswerConfig, Candidate, ExtractiveAnswerer  # noqa: E402


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


def main() -> None:
    items, reranker, shipped = tr.fitting_answerer()
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


if __name__ == "__main__":
    main()
