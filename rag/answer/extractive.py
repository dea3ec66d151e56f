"""Composing a short extractive answer with numbered citations, or abstaining.

Extractive on purpose: every word of an answer is a verbatim sentence of an article, so an
answer can be wrong only by choosing the wrong sentence, never by saying something no
article says. The Answerer seam is where a generative (LLM) answerer would plug in.

Sentence choice: each sentence of the top hits is scored by the idf-weighted share of the
question's terms it contains (half on the sentence alone, half on the sentence with the one
before it, which is where "it" and "they" get their meaning), plus its cosine similarity to
the question (a sentence vector pooled from the chunk's token embeddings at ingest), plus a
prior from its chunk's retrieval score. Weights were measured on a SQuAD split the evaluation
does not use (README, "Retrieval quality"). The best sentence leads; up to two more follow when
they score close to it and add new terms.
Citation numbers start at 1, follow the order of first use, and one raw span has one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.answer.abstain import Evidence
from rag.text.lexical import coverage, question_terms
from rag.types import Answer, Citation, Hit, Sentence

NO_ANSWER = "The articles do not say. The closest passages are listed under the answer."


class Answerer(Protocol):
    def answer(self, question: str, hits: list[Hit]) -> Answer: ...


class SentenceIndex(Protocol):
    """What the answerer needs to know about indexed sentences (`rag.store.Snapshot` has it)."""

    idf: dict[str, float]
    unknown_idf: float

    def source_of(self, doc_id: str) -> str: ...

    def sentence_terms(self, row: int) -> list[frozenset[str]]: ...

    def sentence_vectors_of(self, row: int) -> np.ndarray | None: ...


@dataclass(frozen=True)
class AnswerConfig:
    hits_considered: int = 3  # sentences come from this many top hits
    max_sentences: int = 3
    follow_ratio: float = 0.85  # a further sentence must score at least this share of the best
    chunk_prior: float = 0.3  # weight of the chunk's (relative) retrieval score
    dense_weight: float = 1.0  # weight of the sentence's cosine similarity to the question
    context_share: float = 0.5  # share of coverage measured on (previous sentence + sentence)


@dataclass(frozen=True)
class _Scored:
    score: float
    coverage: float
    dense: float | None
    hit: Hit
    sentence: Sentence
    terms: frozenset[str]


class ExtractiveAnswerer:
    def __init__(self, index: SentenceIndex, config: AnswerConfig = AnswerConfig()) -> None:
        self.index = index
        self.config = config

    def answer(self, question: str, hits: list[Hit], query: str | None = None,
               query_vector: np.ndarray | None = None, question_vector: np.ndarray | None = None) -> Answer:
        """`query` is what retrieval used (the question with its conversation context).

        For a follow-up, `question_vector` (the question alone) also scores sentences: the
        context found the passage, the question itself picks the sentence ("how far did it fly").
        """
        scored = self.score_sentences(query or question, hits, query_vector, question_vector)
        best = scored[0] if scored else None
        evidence = Evidence(best.coverage if best else 0.0, hits[0].dense if hits else None,
                            max((s.dense for s in scored if s.dense is not None), default=None))
        p = evidence.probability() if best else 0.0
        if best is None or not evidence.answerable():
            return Answer(question, NO_ANSWER, True, (), tuple(hits), {}, p)
        chosen = self._choose(scored)
        text, citations = self._compose(chosen)
        return Answer(question, text, False, tuple(citations), tuple(hits), {}, p)

    def score_sentences(self, query: str, hits: list[Hit], query_vector: np.ndarray | None = None,
                        question_vector: np.ndarray | None = None) -> list[_Scored]:
        q_terms = question_terms(query)
        idf, unknown = self.index.idf, self.index.unknown_idf
        top_score = max((h.score for h in hits), default=0.0)
        cfg = self.config
        out = []
        for hit in hits[: cfg.hits_considered]:
            prior = hit.score / top_score if top_score > 0 else 0.0
            vectors = self.index.sentence_vectors_of(hit.row) if query_vector is not None else None
            sims = None
            if vectors is not None:
                vectors = np.asarray(vectors, dtype=np.float32)  # stored as float16
                sims = vectors @ query_vector
                if question_vector is not None:
                    sims = np.maximum(sims, vectors @ question_vector)
            sentence_terms = self.index.sentence_terms(hit.row)
            for j, sentence in enumerate(hit.chunk.sentences):
                s_terms = sentence_terms[j]
                with_previous = s_terms | sentence_terms[j - 1] if j else s_terms
                cov = ((1 - cfg.context_share) * coverage(q_terms, s_terms, idf, unknown)
                       + cfg.context_share * coverage(q_terms, with_previous, idf, unknown))
                dense = float(sims[j]) if sims is not None else None
                score = cov + cfg.chunk_prior * prior + (cfg.dense_weight * dense if dense is not None else 0.0)
                out.append(_Scored(score, cov, dense, hit, sentence, s_terms))
        out.sort(key=lambda s: (-s.score, s.hit.rank, s.sentence.start))
        return out

    def _choose(self, scored: list[_Scored]) -> list[_Scored]:
        best = scored[0]
        chosen = [best]
        seen_spans = {(best.hit.chunk.doc_id, best.sentence.start)}
        covered = set(best.terms)
        for s in scored[1:]:
            if len(chosen) >= self.config.max_sentences or s.score < self.config.follow_ratio * best.score:
                break
            key = (s.hit.chunk.doc_id, s.sentence.start)
            if key in seen_spans or not (s.terms - covered):
                continue
            chosen.append(s)
            seen_spans.add(key)
            covered |= s.terms
        return chosen

    def _compose(self, chosen: list[_Scored]) -> tuple[str, list[Citation]]:
        numbers: dict[tuple[str, int, int], int] = {}
        citations: list[Citation] = []
        parts = []
        for s in chosen:
            chunk = s.hit.chunk
            key = (chunk.doc_id, s.sentence.start, s.sentence.end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(Citation(n=numbers[key], doc_id=chunk.doc_id, title=chunk.title,
                                          source=self.index.source_of(chunk.doc_id), start=s.sentence.start,
                                          end=s.sentence.end, quote=s.sentence.text))
            parts.append(f"{s.sentence.text} [{numbers[key]}]")
        return " ".join(parts), citations
