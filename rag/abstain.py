"""Deciding whether the retrieved evidence answers the question at all.

A logistic model over two signals of the best evidence:
- `coverage`: the share of the question's idf mass whose terms occur in the best sentence
  (a question about a person or thing the articles never mention has low coverage);
- `dense`: the cosine similarity of the question and the best chunk.
The coefficients are fitted by `benchmarks/calibrate_abstention.py` on SQuAD dev questions
whose article was held out of the index (unanswerable) against questions whose article was
indexed (answerable), with held-out splits (seeds 1-3) other than the one the evaluation uses
(seed 0). The threshold is the probability cut the script reports; see README.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Fitted by benchmarks/calibrate_abstention.py; see the module docstring.
COEF_COVERAGE = 6.0
COEF_DENSE = 8.0
INTERCEPT = -7.5
COEF_COVERAGE_LEXICAL_ONLY = 8.0
INTERCEPT_LEXICAL_ONLY = -5.0
THRESHOLD = 0.5


@dataclass(frozen=True)
class Evidence:
    coverage: float
    dense: float | None

    def probability(self) -> float:
        """Calibrated probability that the articles answer the question."""
        if self.dense is None:
            z = INTERCEPT_LEXICAL_ONLY + COEF_COVERAGE_LEXICAL_ONLY * self.coverage
        else:
            z = INTERCEPT + COEF_COVERAGE * self.coverage + COEF_DENSE * self.dense
        return 1.0 / (1.0 + math.exp(-z))
