"""Which questions the name rule of rag/text/spelling.py changes, on every question we have.

A word capitalised inside a sentence is read as a name: corrected only by a swap of two
neighbouring letters or by one letter left out ("Goverment"), never by another one-letter edit,
which too often makes it another name or word ("Pilica" -> "Silica", "Meggers" -> "Mergers").
This asks every question of SQuAD dev (against the seed-0 and seed-1 evaluation indexes, as
`make eval` and tune_retrieval.py build them), eval/natural and eval/fresh, corrected with the
rule and without it (`name=False`, the previous behaviour), and prints each word the two read
differently: typed, without the rule, with it. Judging which is right is left to the reader.

    .venv/bin/python benchmarks/spelling_names.py     # after `make eval` built the indexes
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.store import IndexFolder  # noqa: E402
from rag.text.spelling import _WORD, Speller  # noqa: E402


class WithoutNames(Speller):
    """The corrector as it was before the name rule: every word as if it were no name."""

    def correct(self, text: str, idf) -> str:
        parts, last = [], 0
        for m in _WORD.finditer(text):
            fixed = self.correct_word(m.group(), idf, name=False)
            if fixed != m.group():
                parts += [text[last:m.start()], fixed]
                last = m.end()
        return "".join(parts) + text[last:] if parts else text


def questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    squad = questions(ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "questions.jsonl")
    runs = [("natural", "build/eval-index-natural-h0-s0", questions(ROOT / "eval" / "natural" / "questions.jsonl")),
            ("fresh", "build/eval-index-fresh-h0-s0", questions(ROOT / "eval" / "fresh" / "questions.jsonl")),
            ("SQuAD, seed-0 index", "build/eval-index-squad-v1.1-dev-h0.15-s0", squad),
            ("SQuAD, seed-1 index", "build/eval-index-squad-v1.1-dev-h0.15-s1", squad)]
    with_rule, without = Speller(), WithoutNames()
    for name, index, qs in runs:
        idf = IndexFolder(ROOT / index).load().idf
        changed = []
        for q in qs:
            a, b = without.correct(q, idf), with_rule.correct(q, idf)
            if a != b:
                changed.append(" / ".join(f"{x} -> {y} | {z}" for x, y, z in zip(q.split(), a.split(), b.split())
                                          if not x == y == z))
        print(f"{name}: {len(qs)} questions, {len(changed)} read differently (typed -> without the rule | with it)")
        for line in dict.fromkeys(changed):
            print(f"    {line}")


if __name__ == "__main__":
    main()
