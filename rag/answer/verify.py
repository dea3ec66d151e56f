"""Checking each sentence a language model wrote against the sentences it cites.

A claim (one sentence of the reply, with the numbers it cites) is kept only when all of these hold:
1. it cites something, and every number it cites is one of the sentences the model was shown;
2. every number and date in it occurs in the cited sentences, and every name and every rank
   it gives a thing ("Harvard's first president") there or in their article's title; what
   the question says is not evidence (rag/answer/facts.py, `fact_problem`, says why). And a
   claim must add something the cited sentences say, not only the title's words;
3. the cited sentences say it: a support probability from a logistic model over agreements
   between the claim and the cited text, at least `SUPPORT_MODEL["threshold"]`:
   - `lexical`: the idf-weighted share of the claim's content terms found in the cited text;
   - `novel`: the same share over the claim's terms that the question does not contain, i.e.
     over what the claim adds: its answer ("the aeolipile" in "The earliest steam engine was
     the aeolipile"), which is what a wrong answer with a right-looking citation gets wrong;
   - `cosine`: MiniLM cosine of the claim and the best cited sentence (the index's vectors);
   - `rerank`: the cross-encoder's logit for (claim, cited text), which reads both together.
   The coefficients and the threshold come from `benchmarks/tune_generative.py calibrate`,
   which prints them and says on what they were fitted (README, "Generative answers").

Small models cite badly: Qwen2.5-Coder-1.5B often writes no marker, or the number next to the
right one. A claim that fails 1-3 against what it cites (or cites nothing) is therefore checked
against each numbered sentence on its own; if one passes 2 and 3, the best such sentence
becomes its citation and the claim is kept, marked `cited_by="verifier"`. The model's own
numbers are never trusted either way: a kept claim always passed 2 and 3 against the sentence
it is finally shown with.

What it does not do: prove entailment. A claim that uses the cited words to say something
they do not say ("A did not do X" from "A did X") can pass 3; the calibration figures say how
often such pairs get through. So can a claim that puts the question's verb on the cited facts:
"8,000 North Korean troops died near the Ukrainian border", for "How many North Korean troops
died near the Ukrainian border?", against "... 8,000 of them are near the Ukrainian border"
scored 0.905 with the verifier of tests/test_verify.py (`novel` leaves out the question's
words, which an answer in other words needs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from rag.answer.facts import fact_problem
from rag.text.lexical import terms

# Fitted by `benchmarks/tune_generative.py calibrate` (which prints these lines) on 430 rule-labelled
# (claim, sentence) pairs from Qwen2.5-Coder-1.5B's answers to the natural tuning part and 200 SQuAD
# dev seed-1 questions; threshold: the lowest whose 5-fold cross-validated precision of "supported"
# reached 0.95 (0.961, recall 0.667). Without the reranker no threshold reached 0.95: the one with
# the best precision at recall >= 0.5 (0.941, recall 0.519). README, "Generative answers".
SUPPORT_MODEL = {"intercept": -4.03, "lexical": 0.613, "novel": 4.577, "cosine": -0.278, "rerank": 0.18,
                 "threshold": 0.9}
SUPPORT_MODEL_NO_RERANK = {"intercept": -4.782, "lexical": 1.53, "novel": 5.101, "cosine": 0.712, "threshold": 0.9}


class Embeds(Protocol):
    def embed_query(self, text: str) -> np.ndarray:
        """A unit vector of `text` (rag.embed.Embedder)."""
        ...


class Scores(Protocol):
    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One relevance logit per passage (rag.rerank.Reranker)."""
        ...


@dataclass(frozen=True)
class Source:
    """A numbered sentence as the verifier needs it."""

    n: int
    text: str
    title: str
    vector: np.ndarray | None  # the index's unit vector of (title + sentence), None if unknown


@dataclass(frozen=True)
class Verdict:
    supported: bool
    problem: str | None  # why not supported (the check against the model's own citations)
    support: float | None  # calibrated probability (None when an earlier check already failed)
    features: dict[str, float] | None = None
    cites: tuple[int, ...] = ()  # the numbered sentences a supported claim rests on
    cited_by: str = "model"  # "verifier": the model's numbers did not hold, the verifier found these


# -- 3: support ----------------------------------------------------------------------------
def lexical_support(claim: str, cited: str, idf: dict[str, float], unknown_idf: float,
                    ignore: set[str] | frozenset[str] = frozenset()) -> float:
    """Share of the claim's idf mass (its content terms, but `ignore`) that the cited text holds;
    1.0 when no term is left."""
    claim_terms = set(terms(claim)) - ignore
    if not claim_terms:
        return 1.0
    have = set(terms(cited))
    total = sum(idf.get(t, unknown_idf) for t in claim_terms)
    return sum(idf.get(t, unknown_idf) for t in claim_terms & have) / total if total > 0 else 0.0


def support_probability(features: dict[str, float]) -> float:
    m = SUPPORT_MODEL if "rerank" in features else SUPPORT_MODEL_NO_RERANK
    z = m["intercept"] + sum(m[k] * v for k, v in features.items() if k in m)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def support_threshold(features: dict[str, float]) -> float:
    return (SUPPORT_MODEL if "rerank" in features else SUPPORT_MODEL_NO_RERANK)["threshold"]


@dataclass
class Verifier:
    """Checks claims against numbered sentences. `reranker` None: the model without `rerank`."""

    embedder: Embeds
    reranker: Scores | None
    idf: dict[str, float]
    unknown_idf: float

    def features(self, claims: Sequence[str], cited: Sequence[list[Source]], question: str = "") -> list[dict[str, float]]:
        """The support features of each claim against its cited sources (one reranker batch a claim)."""
        out: list[dict[str, float]] = []
        asked = set(terms(question))
        for claim, sources in zip(claims, cited):
            text = cited_text(sources, titled=True)
            f = {"lexical": lexical_support(claim, text, self.idf, self.unknown_idf),
                 "novel": lexical_support(claim, text, self.idf, self.unknown_idf, ignore=asked)}
            vectors = [s.vector for s in sources if s.vector is not None]
            if vectors:
                q = np.asarray(self.embedder.embed_query(claim), dtype=np.float32)
                f["cosine"] = float(max(float(np.dot(q, v)) for v in vectors))
            else:
                f["cosine"] = 0.0
            out.append(f)
        if self.reranker is not None:
            # The claim reads as the query, the cited text as the passage: "does this passage
            # answer/say this?" is what the cross-encoder was trained to judge. One batch per claim.
            rows: dict[str, list[int]] = {}
            for i, claim in enumerate(claims):
                rows.setdefault(claim, []).append(i)
            for claim, idx in rows.items():
                logits = self.reranker.score(claim, [cited_text(cited[i], titled=True) for i in idx])
                for i, logit in zip(idx, logits):
                    out[i]["rerank"] = float(logit)
        return out

    def check(self, claims: Sequence[tuple[str, tuple[int, ...]]], sources: dict[int, Source],
              question: str = "") -> list[Verdict]:
        """A verdict for each (claim text, cited numbers) against the numbered `sources`."""
        verdicts = []
        for text, cites in claims:
            verdict = self._against(text, cites, sources, question)
            if not verdict.supported:
                verdict = self._attribute(text, sources, question) or verdict
            verdicts.append(verdict)
        return verdicts

    def _against(self, text: str, cites: tuple[int, ...], sources: dict[int, Source], question: str) -> Verdict:
        """Checks 1-3 of the claim against the sentences the model cited."""
        if not cites:
            return Verdict(False, "cites no sentence", None)
        unknown = [n for n in cites if n not in sources]
        if unknown:
            return Verdict(False, f"cites [{unknown[0]}], which is not one of the {len(sources)} sentences "
                                  f"it was given", None)
        cited = [sources[n] for n in cites]
        problem = facts_problem(text, cited, question)
        if problem:
            return Verdict(False, problem, None)
        [f] = self.features([text], [cited], question)
        p = support_probability(f)
        if p < support_threshold(f):
            return Verdict(False, f"the cited sentences do not say this (support {p:.2f})", p, f)
        return Verdict(True, None, p, f, tuple(cites))

    def _attribute(self, text: str, sources: dict[int, Source], question: str) -> Verdict | None:
        """The best single numbered sentence that passes checks 2 and 3 for the claim, or None."""
        passing = [s for s in sources.values() if facts_problem(text, [s], question) is None]
        if not passing:
            return None
        feats = self.features([text] * len(passing), [[s] for s in passing], question)
        best = None
        for s, f in zip(passing, feats):
            p = support_probability(f)
            if p >= support_threshold(f) and (best is None or p > best.support):
                best = Verdict(True, None, p, f, (s.n,), "verifier")
        return best


def facts_problem(claim: str, sources: Sequence[Source], question: str = "") -> str | None:
    """`fact_problem` of `claim` against the cited `sources` and their articles' titles."""
    return fact_problem(claim, cited_text(sources), question, " ".join(dict.fromkeys(s.title for s in sources)))


def cited_text(sources: Sequence[Source], titled: bool = False) -> str:
    """The cited sentences as one text; with `titled`, each distinct title in front."""
    parts: list[str] = []
    seen: set[str] = set()
    for s in sources:
        if titled and s.title and s.title not in seen:
            seen.add(s.title)
            parts.append(f"{s.title}.")
        parts.append(s.text)
    return " ".join(parts)
