"""Follow-ups with a pronoun ("Where are they now?") against the question they stand for.

People in a chat ask "How many North Korean troops are in Russia?" and then "Where are they
now?". Retrieval searches the follow-up together with the earlier question, but the reranker,
the answer-type rules and abstention read the follow-up alone, and "Where are they now?" names
nothing they can judge a sentence by. benchmarks/pronouns.py reads the pronoun as what the
earlier question was about, when the earlier question's shape says so plainly (tried, not
shipped: README, "Known gaps").

Two sets of two-turn conversations written by hand for this, each with the earlier question in
`history`, the follow-up in `question`, and `whole`, the follow-up as a person would type it
alone, and follow-ups the articles do not answer (`answers: []`):
- eval/conversations (56, over the seed article and six SQuAD dev articles): the rules were
  developed on it. Written before the rewrite was first run on it; that first run (the subject,
  the thing asked about and the last noun phrase, with no number agreement) rewrote 0.321 of its
  follow-ups and gave first citations 0.708, refusals of answerable follow-ups 0.083; then its
  misses shaped number agreement, "they" for a country or company that acts, and the checks
  that leave a follow-up as typed. It is a tuning set.
- eval/conversations2 (56, over eight other SQuAD dev articles): written by someone who had not
  seen the rules or the first set, after the rules were final, and run once: it reports.
Three ways of asking, hybrid mode, on one index per set:
- `whole`: the follow-up typed whole, without history (what a rewrite can reach);
- `shipped`: the follow-up after its history, as `Assistant.ask` reads it (as typed);
- `pronouns`: the follow-up after its history, read by benchmarks/pronouns.py, the reranker
  reading both the rewrite and the follow-up as typed (the better logit of each sentence).
`read_as_whole` is the share of follow-ups whose rewrite is the hand-written `whole` exactly,
`rewritten` the share rewritten at all; the follow-ups not read as their `whole` are listed.

    .venv/bin/python benchmarks/pronoun_follow_ups.py [--sets conversations,conversations2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

import pronouns  # noqa: E402
import rag.assistant as assistant_module  # noqa: E402
from common import stamp, table  # noqa: E402
from follow_ups import rates  # noqa: E402
from rag.conversation import as_question  # noqa: E402
from rag.eval.natural import read_jsonl  # noqa: E402
from rag.eval.run import prepare  # noqa: E402

SETS = ("conversations", "conversations2")


class BothReadings:
    """The reranker, also reading `typed` (the follow-up as typed) when it is set, and keeping
    the better logit of each sentence."""

    def __init__(self, reranker) -> None:
        self.inner, self.typed = reranker, None

    def score(self, question, passages):
        scores = self.inner.score(question, passages)
        if self.typed is None or self.typed == question:
            return scores
        return np.maximum(scores, self.inner.score(self.typed, passages))

    def __getattr__(self, name):
        return getattr(self.inner, name)


def measure(name: str) -> None:
    folder = ROOT / "eval" / name
    prepared = prepare(folder, ROOT / "build" / f"eval-index-{name}-h0-s0")
    assistant = prepared.assistant
    rows = {row["id"]: row for row in read_jsonl(folder / "questions.jsonl")}
    questions = prepared.dataset.questions
    read = [pronouns.standalone_question(as_question(q.question), rows[q.id]["history"]) for q in questions]
    out = []
    for variant in ("whole", "shipped", "pronouns"):
        shipped_reading, shipped_reranker = assistant_module.standalone_question, assistant.answerer.reranker
        both = BothReadings(shipped_reranker)
        if variant == "pronouns":
            assistant_module.standalone_question = pronouns.standalone_question
            assistant.answerer.reranker = both
        try:
            results = []
            for q, r in zip(questions, read):
                row = rows[q.id]
                both.typed = pronouns.pronoun_follow_up(as_question(q.question), r)
                answer = (assistant.ask(row["whole"], mode="hybrid") if variant == "whole"
                          else assistant.ask(q.question, history=row["history"], mode="hybrid"))
                results.append((q, answer))
        finally:
            assistant_module.standalone_question, assistant.answerer.reranker = shipped_reading, shipped_reranker
        out.append({"set": name, "variant": variant, **rates(results)})
    whole = [as_question(rows[q.id]["whole"]) for q in questions]
    print(table(out, ["set", "variant", "answerable", "unanswerable", "citation_support@1", "answer_contains_gold",
                      "false_abstain", "abstain_unanswerable"]))
    n = len(questions)
    print(f"{name}: rewritten {sum(r != as_question(q.question) for r, q in zip(read, questions)) / n:.3f}, "
          f"read_as_whole {sum(r == w for r, w in zip(read, whole)) / n:.3f} of {n} follow-ups; not read as whole:")
    for q, r, w in zip(questions, read, whole):
        if r != w:
            print(f"  {rows[q.id]['history'][-1]!r} + {q.question!r}\n      read as {r!r}; whole {w!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    args = parser.parse_args()
    st = stamp()
    print(f"pronoun_follow_ups: hybrid ({st['date']}, {st['machine']})")
    for name in args.sets.split(","):
        measure(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
