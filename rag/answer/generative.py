"""Answers in a language model's own words, every sentence checked against what it cites.

The extractive answerer (rag/answer/extractive.py) stays the default and is the fallback: this
answerer runs it first (its ranking and its abstention gate are the input here, and its answer
is what is shown whenever the model's cannot be).

    question -> retrieval -> extractive answer + the gate's probability p that the articles answer
      p < gate_floor ("sure that retrieval found nothing"): the model is not asked; abstain
      else: the best sentences, numbered, go to the model (rag/answer/prompt.py), which writes
            1-4 sentences with the numbers they rest on, or declines
            -> each sentence is verified against the sentences it cites (rag/answer/verify.py)
            -> supported sentences are the answer; their citations are the exact raw spans of the
               cited sentences, numbered by first use; unsupported ones are left out of the
               answer text and listed in `Answer.sentences` with the reason
      the model declines: abstain when the gate was unsure too; when the gate said the articles
            answer, show the extractive answer (fallback "declined")
      nothing survives verification, the server is down, times out or sends garbage: the
            extractive answer, with `Answer.answerer.fallback` and a message saying why

Between gate_floor and the gate's own threshold (where the extractive answerer abstains) the
model may still answer: that is where paraphrased questions the gate is unsure about get
answered, and whatever the model writes there must pass the same verification.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from rag.answer.answer_type import expected_type, holds
from rag.answer.extractive import AnswerConfig, Candidate, ExtractiveAnswerer, SentenceIndex, citation_of
from rag.answer.llm import ChatModel, ModelError
from rag.answer.prompt import (FORMATS, SYSTEM_JSON, SYSTEM_TEXT, DraftStream, PromptConfig, Shown, is_decline,
                               number_sentences, parse_reply, reply_schema, user_message)
from rag.errors import InputError
from rag.answer.verify import Embeds, Source, Verifier
from rag.text.references import without_reference_marks
from rag.types import EXTRACTIVE, GENERATIVE, Answer, Answerer, AnswerSentence, Citation, Hit, Query

# Why an answer that a model was asked for is the extractive one (Answer.answerer.fallback).
NOT_ASKED = "not_asked"  # the gate is sure the articles do not answer: an abstention, the model never asked
FALLBACKS = ("unreachable", "timeout", "bad_response", "unsupported", "off_question", "declined", NOT_ASKED)


@dataclass(frozen=True)
class GenerativeConfig:
    prompt: PromptConfig = field(default_factory=PromptConfig)
    format: str = "text"  # the reply format asked for: "text" ([n] markers) or "json" (structured output)
    rerank_top: int = 8  # sentences the cross-encoder orders for the prompt (the extractive answer reads 4)
    max_tokens: int = 220  # 4 short sentences in JSON
    # Below this gate probability the model is not asked (fitted with the support model:
    # benchmarks/tune_generative.py, with an earlier gate). The gate's own threshold is 0.21 since
    # the refit with eval/fresh2 (rag/answer/abstain.py); it was 0.30 or more when this was fitted.
    gate_floor: float = 0.1
    # The kept sentences must hold the kind of answer the question asks for (a number for "how
    # many", a date for "when", a name for "who": rag/answer/answer_type.py); else the model
    # answered something else, and the extractive answer is shown (fallback "off_question").
    require_answer_type: bool = True
    # The answer must rest on a sentence that answers the question nearly as well as the best one
    # shown: at least one kept sentence cites a sentence whose reranked score (`Candidate.final`,
    # what orders the extractive answer) is within this margin of the best. Else the model answered
    # from a side sentence (a true statement that does not answer: "10 to 100 chloroplasts" to "How
    # big is a chloroplast?", or the question's words pinned on another person), and the extractive
    # answer is shown (fallback "off_question"). None: no check (also when there is no reranker).
    # Chosen on the fitting sets by replaying stored replies (benchmarks/tune_generative.py).
    relevance_margin: float | None = 2.0


@dataclass(frozen=True)
class Asked:
    """A question the model is about to be asked: the extractive answer (fallback and gate), the
    numbered sentences it is shown and the message that shows them."""

    query: Query
    hits: tuple[Hit, ...]
    index: SentenceIndex
    extractive: Answer
    shown: tuple[Shown, ...]
    by_key: dict[tuple[str, int, int], Candidate]
    user: str


@dataclass
class GenerativeAnswerer:
    """The Answerer that asks a ChatModel and verifies its sentences."""

    base: ExtractiveAnswerer
    chat: ChatModel
    embedder: Embeds
    config: GenerativeConfig = field(default_factory=GenerativeConfig)

    def __post_init__(self) -> None:
        if self.config.format not in FORMATS:
            raise InputError(f"unknown reply format {self.config.format!r}; use one of {', '.join(FORMATS)} "
                             f"(RAG_LLM_FORMAT)")
        # Ranks more sentences with the cross-encoder than the extractive answer needs: the
        # model reads up to `prompt.max_sentences` of them, whatever their cheap score.
        self._ranker = ExtractiveAnswerer(self.base.reranker, replace(
            self.base.config, rerank_top=self.config.rerank_top, rerank_within=math.inf))

    @property
    def model_id(self) -> str:
        return self.chat.model_id

    def warm_up(self) -> None:
        """Loads the extractive answerer's models (the server is not contacted: it may start later)."""
        self.base.warm_up()

    def answer(self, query: Query, hits: Sequence[Hit], index: SentenceIndex,
               on_draft: Callable[[str], None] | None = None) -> Answer:
        asked = self.prepare(query, hits, index)
        if isinstance(asked, Answer):
            return asked
        draft = DraftStream()

        def on_text(piece: str) -> None:
            delta = draft.feed(piece)
            if delta and on_draft is not None:
                on_draft(delta)

        t0 = time.perf_counter()
        try:
            if self.config.format == "json":
                completion = self.chat.complete(SYSTEM_JSON, asked.user, reply_schema(len(asked.shown)),
                                                self.config.max_tokens, on_text=on_text)
            else:
                completion = self.chat.complete(SYSTEM_TEXT, asked.user, None, self.config.max_tokens, on_text=on_text)
        except ModelError as e:
            return self._fallback(asked.extractive, e.code, f"{e}. This is the extractive answer instead.")
        timings = {"llm": (time.perf_counter() - t0) * 1000}
        if completion.first_token_ms is not None:
            timings["first_token"] = completion.first_token_ms
        return self.finish(asked, completion.text, timings, {"structured": completion.structured,
                                                             "finish": completion.finish_reason})

    def prepare(self, query: Query, hits: Sequence[Hit], index: SentenceIndex) -> Asked | Answer:
        """What the model is to be asked, or the answer when it is not asked at all (the gate is
        sure there is nothing to answer with)."""
        extractive = self.base.answer(query, hits, index)
        if not hits or extractive.confidence < self.config.gate_floor:
            return self._fallback(extractive, NOT_ASKED, "Retrieval found nothing that answers this, so the "
                                                         "language model was not asked.")
        ranked = self._ranker.rank(query, hits, index)
        # Without the articles' reference marks ("[2]"): the model's own [n] must be the only ones.
        shown = number_sentences([(c.key, c.hit.chunk.title, without_reference_marks(c.sentence.text))
                                  for c in ranked], self.config.prompt)
        # The question as the models read it (Query.asked): a bare follow-up ("And how high?") is
        # already the whole question it stands for. The search text differs from it only for a
        # follow-up that refers back ("How far did it fly?"), which the model reads with it.
        context = query.text if query.text != query.asked else None
        return Asked(query, tuple(hits), index, extractive, tuple(shown), {c.key: c for c in ranked},
                     user_message(query.asked, shown, context))

    def finish(self, asked: Asked, reply_text: str, timings: dict[str, float] | None = None,
               trace: dict[str, Any] | None = None) -> Answer:
        """The answer from the model's reply: verified sentences with citations, an abstention,
        or the extractive answer with the reason. (benchmarks/tune_generative.py replays stored
        replies through this.)"""
        extractive, shown, index = asked.extractive, asked.shown, asked.index
        timings = timings or {}
        trace = {"shown": [[s.n, s.key[0], s.key[1], s.key[2]] for s in shown], "reply": reply_text,
                 "gate": extractive.confidence, **(trace or {})}
        reply = parse_reply(reply_text)
        claims = list({c.text.lower(): c for c in reply.claims if not is_decline(c.text)}.values())
        if not claims:
            if reply.declined or reply.claims:  # said there is no answer, as asked or in its own words
                if extractive.abstained:
                    return replace(extractive, answerer=Answerer(GENERATIVE, self.model_id), timings_ms=timings,
                                   trace=trace)
                return self._fallback(extractive, "declined", "The language model found no answer in the passages, "
                                      "but the closest sentences look like one: this is the extractive answer.",
                                      timings, trace)
            return self._fallback(extractive, "bad_response", f"The language model's reply could not be read "
                                  f"({_snippet(reply_text)}). This is the extractive answer instead.", timings, trace)
        sources = {s.n: _source(s, asked.by_key[s.key], index) for s in shown}
        verifier = Verifier(self.embedder, self.base.reranker, index.idf, index.unknown_idf)
        verdicts = verifier.check([(c.text, c.cites) for c in claims], sources, asked.query.question)
        trace["claims"] = [{"text": c.text, "cites": list(c.cites), "supported": v.supported, "problem": v.problem,
                            "support": v.support, "features": v.features, "final": list(v.cites),
                            "cited_by": v.cited_by} for c, v in zip(claims, verdicts)]
        key_of = {s.n: s.key for s in shown}
        numbers: dict[tuple[str, int, int], int] = {}
        citations: list[Citation] = []
        cited_keys: set[tuple[str, int, int]] = set()
        sentences: list[AnswerSentence] = []
        parts: list[str] = []
        for claim, verdict in zip(claims, verdicts):
            if not verdict.supported:
                sentences.append(AnswerSentence(claim.text, False, (), verdict.problem, verdict.support))
                continue
            ns: list[int] = []
            for n in verdict.cites:
                key = key_of[n]
                cited_keys.add(key)
                if key not in numbers:
                    numbers[key] = len(numbers) + 1
                    citations.append(citation_of(numbers[key], asked.by_key[key], index))
                if numbers[key] not in ns:
                    ns.append(numbers[key])
            sentences.append(AnswerSentence(claim.text, True, tuple(ns), None, verdict.support, verdict.cited_by))
            parts.append(f"{claim.text} {''.join(f'[{n}]' for n in ns)}")
        if not parts:
            return self._fallback(extractive, "unsupported", f"None of the language model's {len(claims)} sentences is "
                                  "supported by the numbered sentences. This is the extractive answer instead.",
                                  timings, trace, tuple(sentences))
        if not self._rests_on_an_answer(asked, cited_keys):
            return self._fallback(extractive, "off_question", "The language model's answer rests on sentences that "
                                  "answer the question less well than the best one found. This is the extractive "
                                  "answer instead.", timings, trace, tuple(sentences))
        question = asked.query.asked
        kind = expected_type(question)
        if self.config.require_answer_type and not holds(kind, " ".join(s.text for s in sentences if s.supported),
                                                         question):
            return self._fallback(extractive, "off_question", f"The language model's answer does not give the kind of "
                                  f"answer asked for (a {kind}). This is the extractive answer instead.",
                                  timings, trace, tuple(sentences))
        return Answer(asked.query.question, " ".join(parts), False, tuple(citations), asked.hits, timings,
                      extractive.confidence, Answerer(GENERATIVE, self.model_id), tuple(sentences), trace)

    def _rests_on_an_answer(self, asked: Asked, cited_keys: set[tuple[str, int, int]]) -> bool:
        margin = self.config.relevance_margin
        finals = [c.final for c in asked.by_key.values() if c.final is not None]
        # Where the gate alone would abstain, the best-ranked sentence is itself doubtful, and the
        # fallback would be an abstention: the model's pick, verified, is trusted over the ranking.
        if margin is None or not finals or asked.extractive.abstained:
            return True
        best = max(finals)
        return any((f := asked.by_key[key].final) is not None and f >= best - margin for key in cited_keys)

    def _fallback(self, extractive: Answer, code: str, message: str, timings: dict[str, float] | None = None,
                  trace: dict[str, Any] | None = None, sentences: tuple[AnswerSentence, ...] = ()) -> Answer:
        """The extractive answer, saying why; the model's `sentences` are listed but not shown, so
        none keeps citation numbers: those were numbers of the discarded answer, and the same
        numbers name other sentences in the extractive one."""
        hidden = tuple(replace(s, citations=(), problem=s.problem or f"not shown ({code})") for s in sentences)
        return replace(extractive, answerer=Answerer(EXTRACTIVE, self.model_id, code, message),
                       timings_ms=timings or {}, sentences=hidden, trace=trace)


def _source(shown: Shown, c: Candidate, index: SentenceIndex) -> Source:
    vectors = index.sentence_vectors_of(c.hit.row) if c.hit.row >= 0 else None
    vector = vectors[c.index] if vectors is not None and len(vectors) > c.index else None
    # The text the model read (reference marks left out), so the check is against what it saw.
    return Source(shown.n, shown.text, c.hit.chunk.title, vector)


def _snippet(text: str, n: int = 80) -> str:
    one_line = re.sub(r"\s+", " ", text).strip()
    return repr(one_line[:n] + ("…" if len(one_line) > n else "")) if one_line else "an empty reply"


__all__ = ["FALLBACKS", "NOT_ASKED", "GenerativeAnswerer", "GenerativeConfig", "AnswerConfig"]
