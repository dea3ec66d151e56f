"""Fit the abstention model (rag/answer/abstain.py) on SQuAD dev with articles held out.

Questions whose article was held out of the index are unanswerable; the rest are answerable.
Uses seed 1 (the split `rag eval` does not report on; it uses seed 0), fits a logistic
regression on the evidence features the answerer computes, and prints the coefficients and
the probability threshold that keeps false abstentions at or below --max-false-abstain.

    .venv/bin/python benchmarks/calibrate_abstention.py [--limit 3000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def features(assistant, question: str, mode: str) -> list[float] | None:
    from rag.answer.abstain import Evidence

    captured: dict[str, Evidence] = {}
    original = Evidence.probability

    def spy(self):  # record the evidence the answerer built, then score as usual
        captured["e"] = self
        return original(self)

    Evidence.probability = spy
    try:
        assistant.ask(question, k=10, mode=mode)
    finally:
        Evidence.probability = original
    e = captured.get("e")
    if e is None:
        return None
    return [e.coverage, e.dense or 0.0, e.sentence_dense or 0.0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared/data/squad-v1.1-dev"))
    ap.add_argument("--limit", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-false-abstain", type=float, default=0.06)
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    from rag.eval.datasets import load_folder, sample
    from rag.eval.run import evaluate
    from rag.assistant import Assistant

    index = ROOT / "build" / f"eval-index-squad-v1.1-dev-h0.15-s{args.seed}"
    evaluate(args.dataset, index, limit=1, seed=args.seed, holdout_docs=0.15)
    assistant = Assistant.open(index)
    ds = load_folder(Path(args.dataset), 0.15, args.seed, Path(f"{index}.articles"))
    qs = sample(ds.questions, args.limit, args.seed)
    for mode, cols in (("hybrid", [0, 1, 2]), ("lexical", [0])):
        X, y = [], []
        for q in qs:
            f = features(assistant, q.question, mode)
            if f is not None:
                X.append([f[c] for c in cols])
                y.append(1 if q.answerable else 0)
        X, y = np.array(X), np.array(y)
        model = LogisticRegression(C=10.0).fit(X, y)
        p = model.predict_proba(X)[:, 1]
        best = None
        for t in np.linspace(0.05, 0.95, 91):
            false_abstain = np.mean(p[y == 1] < t)
            if false_abstain <= args.max_false_abstain:
                best = (t, false_abstain, np.mean(p[y == 0] < t))
        print(f"mode={mode} n={len(y)} unanswerable={int((y == 0).sum())}")
        print(f"  coefficients {dict(zip(['coverage', 'dense', 'sentence_dense'][:len(cols)], model.coef_[0].round(3)))}"
              f" intercept {model.intercept_[0]:.3f}")
        if best:
            print(f"  threshold {best[0]:.2f}: false_abstain {best[1]:.3f}, abstain_unanswerable {best[2]:.3f}")


if __name__ == "__main__":
    main()
