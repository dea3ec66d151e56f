"""Deciding whether the best evidence answers the question at all.

A logistic model over what the answerer knows of its best sentence:
- `rerank`: the cross-encoder's logit for (question, best sentence) (rag/rerank/). It was trained
  to tell passages that answer a search question from passages on the same topic, which is the
  question here, and it does not care whether the words match;
- `type_ok`: whether that sentence holds the kind of thing the question asks for (a number for
  "how many", a date for "when", a name for "who": rag/answer/answer_type.py);
- `names_ok`: whether the chunk of that sentence mentions every name and year the question asks
  about ("How many Chinese troops are in Russia?" against a passage on North Korean troops);
- `cosine`: the best cosine of the question and a candidate sentence (dense modes only).
When that model is unsure (its probability inside `band`), a second one decides: the same
features with a stronger bi-encoder's cosine of the question and the best sentence in place of
MiniLM's (`second_opinion`: bge-small-en-v1.5, rag/rerank/bge_small.py). Only the unsure
questions pay for its forward passes; outside the band the two models agree on the fitting sets.
In lexical mode the reranker model goes without the cosine. Without a reranker
(RAG_RERANKER=none) another model uses the cheap score, the cosine and `type_ok` instead; in
lexical mode without a reranker, coverage alone.

The coefficients and thresholds are fitted by benchmarks/tune_retrieval.py on two sets
together: SQuAD dev questions whose article was held out of the index (unanswerable) against
those whose article was indexed, on the seed-1 split, and everyday questions: the tuning part
of eval/natural with all of eval/fresh (their unanswerable questions include ones near an
article's topic). `rag eval` reports on the seed-0 split, the natural reporting part and
eval/fresh2, which the fit never saw. With eval/fresh in the fit (2026-11-27 evening) the
cosine's weight went from 2.386 to -0.416: on everyday questions a close cosine is as often a
sentence on the same topic that does not answer, and the cross-encoder already carries what it
told. Each threshold is the highest that kept false abstentions within the issue's targets on
each fitting set (SQuAD 0.07, natural 0.10); the natural set binds, and SQuAD's
held-out-article questions are then abstained on less often than before (README, "Known gaps").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Fitted by benchmarks/tune_retrieval.py (part "abstain"), which prints these lines.
RERANK_MODEL = {"intercept": 0.393, "rerank": 0.355, "type_miss": -1.382, "name_miss": -0.917, "cosine": -0.416,
                "threshold": 0.30}
SECOND_OPINION_MODEL = {"intercept": -3.526, "rerank": 0.281, "type_miss": -1.543, "name_miss": -0.792,
                        "second_opinion": 5.829, "threshold": 0.40, "band": (0.15, 0.8)}
RERANK_LEXICAL_MODEL = {"intercept": 0.166, "rerank": 0.347, "type_miss": -1.389, "name_miss": -0.913, "threshold": 0.31}
CHEAP_MODEL = {"intercept": -8.663, "cheap": 8.91, "type_miss_cheap": -1.874, "cosine": 0.505, "threshold": 0.29}
COVERAGE_MODEL = {"intercept": -1.931, "coverage": 4.667, "threshold": 0.21}


@dataclass(frozen=True)
class Evidence:
    rerank: float | None  # reranker logit of the best sentence (None without a reranker)
    type_ok: bool  # the best sentence holds the kind of answer the question asks for
    cosine: float | None  # best question-sentence cosine (None in lexical mode)
    coverage: float  # idf share of the question's terms in the best sentence
    cheap: float  # the best sentence's cheap score (rag/answer/extractive.py)
    names_ok: bool = True  # its chunk mentions every name and year the question asks about
    second_opinion: float | None = None  # bge's cosine of question and best sentence, when unsure

    def unsure(self) -> bool:
        """True when the reranker model's probability lies in the band where the second opinion
        decides (only then is it worth computing)."""
        if self.rerank is None or self.cosine is None:
            return False
        low, high = SECOND_OPINION_MODEL["band"]
        return low <= _logistic(_weighted(RERANK_MODEL, self._features())) <= high

    def _model(self) -> tuple[dict[str, float], float]:
        if self.rerank is not None and self.second_opinion is not None:
            m = SECOND_OPINION_MODEL
        elif self.rerank is not None and self.cosine is not None:
            m = RERANK_MODEL
        elif self.rerank is not None:
            m = RERANK_LEXICAL_MODEL
        elif self.cosine is not None:
            m = CHEAP_MODEL
        else:
            m = COVERAGE_MODEL
        return m, _weighted(m, self._features())

    def _features(self) -> dict[str, float | None]:
        """Every feature a model above reads, by the name of its coefficient."""
        type_miss = float(not self.type_ok)
        return {"rerank": self.rerank, "type_miss": type_miss, "type_miss_cheap": type_miss,
                "name_miss": float(not self.names_ok), "cosine": self.cosine, "cheap": self.cheap,
                "coverage": self.coverage, "second_opinion": self.second_opinion}

    def probability(self) -> float:
        """Calibrated probability that the articles answer the question."""
        _, z = self._model()
        return _logistic(z)

    def answerable(self) -> bool:
        model, z = self._model()
        return _logistic(z) >= model["threshold"]


def _weighted(model: dict, features: dict[str, float | None]) -> float:
    """The model's intercept plus each of its coefficients times its feature, in the model's order."""
    z = model["intercept"]
    for name, weight in model.items():
        if name not in ("intercept", "threshold", "band"):
            z += weight * features[name]
    return z


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
