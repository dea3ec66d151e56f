"""Does the reranker's logit rise when one word of the question is left out? (development try)

A question near an article's topic that the article does not answer ("How many North Korean
soldiers have been killed in Ukraine?" against "10,000 North Korean troops are in Russia") holds
a word the best sentence does not support; leaving that word out should raise the cross-encoder's
logit for (question, best sentence), while leaving out any word of an answered question should
not. Features of the best sentence, each added to the shipped abstention model and refitted at
the same limits as benchmarks/abstention_features.py (in-sample and cross-validated by article).
Not shipped (README "Retrieval quality: what was measured" quotes the output):
  ablation_max   the largest rise of the logit over the question's content words
  ablation_mean  the mean change

    .venv/bin/python benchmarks/question_ablation.py
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import abstention_features as af  # noqa: E402
import tune_retrieval as tr  # noqa: E402
from rag.answer.extractive import rerank_text  # noqa: E402
from rag.text.lexical import _WORD, question_terms  # noqa: E402


def without_each_word(question: str) -> list[str]:
    """The question once without each of its content words."""
    out = []
    for m in _WORD.finditer(question):
        if question_terms(m.group()):
            out.append(re.sub(r"\s+", " ", question[: m.start()] + question[m.end():]).strip())
    return out


def main() -> None:
    items, reranker, answerer = tr.fitting_answerer()
    rows = []
    t0, pairs = time.perf_counter(), 0
    for it, ranked, row in tr.shipped_rows(items, answerer):
        best = ranked[0]
        passage = rerank_text(best)
        full = row["rerank"]
        qs = without_each_word(it.query.asked)
        changes = [float(reranker.score(q, [passage])[0]) - full for q in qs] or [0.0]
        pairs += len(qs)
        rows.append({**row, "ablation_max": max(changes), "ablation_mean": float(np.mean(changes)),
                     "ablation_min": min(changes), "n_words": len(qs)})
    reranker.save()
    print(f"{len(rows)} questions, {pairs} ablated questions scored in {time.perf_counter() - t0:.0f} s")
    for s in ("squad", "natural"):
        for label in (1, 0):
            sel = [r for r in rows if (r["set"], r["y"]) == (s, label)]
            print(f"  {s} {'answerable' if label else 'unanswerable'} (n={len(sel)}): ablation_max mean "
                  f"{np.mean([r['ablation_max'] for r in sel]):.2f}, ablation_mean mean "
                  f"{np.mean([r['ablation_mean'] for r in sel]):.2f}")
    from sklearn.metrics import roc_auc_score
    for s in ("squad", "natural"):
        sel = [r for r in rows if r["set"] == s]
        y = [r["y"] for r in sel]
        print(f"  {s} AUC (answerable high): rerank {roc_auc_score(y, [r['rerank'] for r in sel]):.3f}  "
              f"-ablation_max {roc_auc_score(y, [-r['ablation_max'] for r in sel]):.3f}  "
              f"-ablation_mean {roc_auc_score(y, [-r['ablation_mean'] for r in sel]):.3f}")
    variants = {"shipped": af.SHIPPED, "+ ablation_max": af.SHIPPED + ["ablation_max"],
                 "+ ablation max, mean": af.SHIPPED + ["ablation_max", "ablation_mean"],
                 "+ ablation max, mean, min": af.SHIPPED + ["ablation_max", "ablation_mean", "ablation_min"]}
    for name, cols in variants.items():
        print(f"  {name}\n      in-sample        {tr.fitted_rates(rows, cols, af.LIMITS)}\n"
              f"      cross-validated  {af.cross_validated(rows, cols)}")


if __name__ == "__main__":
    main()
