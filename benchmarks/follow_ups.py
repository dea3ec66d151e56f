"""Bare follow-ups ("And how high?") against the question they stand for.

People in a chat ask "How far did the missile travel?" and then "And how high?". The second
question names nothing the reranker, the answer-type rules or abstention can judge a sentence by,
so before rag/conversation.py `elliptical_question` such follow-ups were often refused or cited
the wrong sentence, though the earlier question's words found the passage.

No question set has conversations, so this one is made from the everyday sets: every question
that asks about a circumstance with an auxiliary after it ("How high did the missile go?", "When
was the treaty signed?") becomes a conversation of two turns,
- first: the same question about another circumstance, which is what the person asked before:
  "How long did the missile go?" for "how" with an adjective ("How far ..." for "how long"),
  "When ..." for any other, "Where ..." for "when";
- then: the bare follow-up ("And how high?"), whose gold is the original question's.
Three ways of asking it are measured on the same index, hybrid mode:
- `alone`: the original question, typed whole, without history (what a rewrite can reach);
- `before`: the follow-up as answered before, read alone by every model that judges a sentence;
- `shipped`: the follow-up read as the whole question it stands for (`standalone_question`).
The rewrite has no parameter fitted to anything, so every set here reports. Unanswerable
questions of the same shape are made into conversations too: abstention on them must not fall
below `alone`.

    .venv/bin/python benchmarks/follow_ups.py
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import rag.assistant as assistant_module  # noqa: E402
from common import stamp, table  # noqa: E402
from rag.conversation import _ASKS_CIRCUMSTANCE, _CIRCUMSTANCE, elliptical_question  # noqa: E402
from rag.eval.metrics import citation_supports, holds_gold  # noqa: E402
from rag.eval.run import prepare  # noqa: E402

SETS = {  # name -> (folder, split)
    "natural tune": ("eval/natural", "tune"),
    "natural report": ("eval/natural", "report"),
    "fresh": ("eval/fresh", None),
    "fresh2": ("eval/fresh2", None),
    "fresh3": ("eval/fresh3", None),
}
_OPENING = re.compile(rf"\s*({_CIRCUMSTANCE})\s+", re.IGNORECASE)


def conversation(question: str) -> tuple[str, str] | None:
    """(first turn, bare follow-up) made from `question`, or None when it has another shape."""
    if _ASKS_CIRCUMSTANCE.fullmatch(question) is None:
        return None
    m = _OPENING.match(question)
    asked = " ".join(m.group(1).split()).lower()
    if asked.startswith("how "):  # "How long did it fly?" + "And how high?" (how + an adjective follows one)
        other = "How long" if asked != "how long" else "How far"
    else:
        other = "Where" if asked == "when" else "When"
    first, follow_up = f"{other} {question[m.end():]}", f"And {asked}?"
    return (first, follow_up) if elliptical_question(follow_up, first) else None


def measure(name: str, folder: str, split: str | None) -> list[dict]:
    prepared = prepare(ROOT / folder, ROOT / "build" / f"eval-index-{Path(folder).name}-h0-s0", split=split)
    assistant = prepared.assistant
    made = [(q, c) for q in prepared.dataset.questions if (c := conversation(q.question)) is not None]
    rows = []
    for variant in ("alone", "before", "shipped"):
        original = assistant_module.standalone_question
        if variant == "before":
            assistant_module.standalone_question = lambda question, history: question
        try:
            results = []
            for q, (first, follow_up) in made:
                answer = (assistant.ask(q.question, mode="hybrid") if variant == "alone"
                          else assistant.ask(follow_up, history=[first], mode="hybrid"))
                results.append((q, answer))
        finally:
            assistant_module.standalone_question = original
        rows.append({"set": name, "variant": variant, **rates(results)})
    return rows


def rates(results: list) -> dict:
    """What a person gets, over (question, answer) pairs: first citations, answers that hold a
    gold answer, refusals of answerable questions, abstention on the others."""
    ans = [(q, a) for q, a in results if q.answerable]
    una = [(q, a) for q, a in results if not q.answerable]
    n = max(1, len(ans))
    return {"answerable": len(ans), "unanswerable": len(una),
            "citation_support@1": sum(citation_supports(q, a)[:1] == [True] for q, a in ans) / n,
            "answer_contains_gold": sum(not a.abstained and holds_gold(q, a.answer) for q, a in ans) / n,
            "false_abstain": sum(a.abstained for _, a in ans) / n,
            "abstain_unanswerable": (sum(a.abstained for _, a in una) / len(una)) if una else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    args = parser.parse_args()
    st = stamp()
    print(f"follow_ups: bare follow-ups ('And how high?') made from the everyday sets, hybrid ({st['date']}, {st['machine']})")
    rows = [r for name in args.sets.split(",") for r in measure(name, *SETS[name])]
    print(table(rows, ["set", "variant", "answerable", "unanswerable", "citation_support@1",
                       "answer_contains_gold", "false_abstain", "abstain_unanswerable"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
