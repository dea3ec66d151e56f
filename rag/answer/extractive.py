"""Composing a short extractive answer with numbered citations, or abstaining.

Extractive on purpose: every word of an answer is a verbatim sentence of an article, so an
answer can be wrong only by choosing the wrong sentence, never by saying something no
article says.

Choosing the sentence, in two stages:
1. Every sentence of the top hits gets a cheap score: its cosine with the question (each
   sentence has its own vector, rag/indexer.py), the idf-weighted share of the question's terms
   it holds (half on the sentence alone, half with the one before it, where "it" and "they" get
   their meaning), and a prior from its chunk's retrieval score. Headings ("Ukraine outrage",
   rag/text/sentences.py `is_heading`) are left out: they state nothing, yet the reranker
   scores a topic high for any question on it.
2. The best few by that score go to the reranker (rag/rerank/), a cross-encoder that reads the
   question and the sentence together; its score decides. Without a reranker
   (RAG_RERANKER=none) the cheap score decides. A sentence whose cheap score is far below the
   best's is not read: the reranker costs most of a question's time, and on the fitting sets
   such a sentence never won (`AnswerConfig.rerank_within`).
The best sentence leads; up to two more follow when they score close to it and add new terms.
Whether to answer at all is rag/answer/abstain.py's call, on the evidence of the best sentence.
All weights were fitted on the SQuAD dev seed-1 split and the tuning part of eval/natural
(benchmarks/tune_retrieval.py, README "Retrieval quality"), never on what is reported.
Citation numbers start at 1, follow the order of first use, and one raw span has one number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Protocol, Sequence

import numpy as np

from rag.answer.abstain import Evidence
from rag.answer.answer_type import expected_type, holds, question_names
from rag.answer.overview import is_overview_request, lead
from rag.rerank import Reranker, Similarity
from rag.text.lexical import Coverage, question_terms, terms
from rag.text.references import without_reference_marks
from rag.text.sentences import is_heading
from rag.text.titles import title_topic
from rag.types import Answer, Chunk, Citation, Hit, Query, Sentence

NO_ANSWER = "The articles do not say. The closest passages are listed under the answer."


class SentenceIndex(Protocol):
    """What the answerer needs to know about indexed sentences (`rag.store.Snapshot` has it)."""

    idf: dict[str, float]
    unknown_idf: float
    chunks: Sequence[Chunk]  # row order (an overview request reads an article's first chunk)

    def source_of(self, doc_id: str) -> str:
        """The path of the document's original file (citations point into it)."""
        ...

    def sentence_terms(self, row: int) -> list[frozenset[str]]:
        """Analysed terms of each sentence of chunk `row` (rag.text.lexical.terms)."""
        ...

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """(sentences of chunk `row`, dim) unit vectors, each sentence embedded alone."""
        ...


@dataclass(frozen=True)
class AnswerConfig:
    hits_considered: int = 5  # sentences come from this many top hits
    rerank_top: int = 4  # at most this many sentences, best by the cheap score, go to the reranker
    # ... and only those within this of the best cheap score. On the fitting sets this reads 3.2
    # sentences a question instead of 4 with the same first citation, answers and abstentions
    # (benchmarks/tune_retrieval.py, part "answer"); the reranker's time is about proportional.
    rerank_within: float = 0.3
    max_sentences: int = 3
    # Cheap score = cosine + coverage_weight x coverage + prior_weight x (chunk score / best)
    # [+ type_bonus when the question asks for a number, date, name or place and the sentence
    # holds one: "How many troops did North Korea send?" then reads the sentence that says
    # "10,000" beside those on the topic that hold no number]. On the fitting sets the bonus
    # keeps the first citation, answers 2 more natural questions of 117 and abstains on a few
    # more SQuAD ones (benchmarks/answer_type_rank.py, README "Retrieval quality").
    coverage_weight: float = 0.25
    prior_weight: float = 0.3
    type_bonus: float = 0.05
    context_share: float = 0.5  # share of coverage measured on (previous sentence + sentence)
    # With a reranker, a sentence's score is its logit + rerank_blend x its cheap score.
    rerank_blend: float = 2.0
    # A further sentence follows the best when it scores at least this close to it (with a
    # reranker; without one, `follow_ratio` of the best cheap score).
    follow_margin: float = 2.0
    follow_ratio: float = 0.85


@dataclass
class Candidate:
    """One sentence of a hit with every score the answerer computed for it."""

    hit: Hit
    index: int  # position of the sentence in its chunk
    sentence: Sentence
    terms: frozenset[str]
    cosine: float | None
    coverage: float
    prior: float
    cheap: float = 0.0
    rerank: float | None = None  # the reranker's logit, for the few it read
    final: float | None = None  # rerank + rerank_blend x cheap: what orders the reranked few
    type_ok: bool = True

    @property
    def key(self) -> tuple[str, int, int]:
        return self.hit.chunk.doc_id, self.sentence.start, self.sentence.end



class Answerer(Protocol):
    def warm_up(self) -> None:
        """Load any model the answerer needs now (a server does this before its first request).
        Raises InputError when a model cannot be loaded."""
        ...

    def answer(self, query: Query, hits: Sequence[Hit], index: SentenceIndex,
               on_draft: Callable[[str], None] | None = None) -> Answer:
        """An answer to `query` from `hits` (best first), with citations into `index`'s
        documents, or an abstention that lists the hits. `on_draft`, when given, is called with
        each piece of a draft as a generative answerer's model writes it (the returned, verified
        answer replaces the draft; an extractive answerer never calls it). Never raises for an
        unanswerable question or an unavailable language model (the answer says what happened);
        raises InputError only when a local model it needs cannot be loaded."""
        ...


@dataclass
class ExtractiveAnswerer:
    reranker: Reranker | None = None
    config: AnswerConfig = field(default_factory=AnswerConfig)
    # Asked by abstention when unsure (rag/answer/abstain.py); None: the reranker model decides alone.
    second_opinion: Similarity | None = None

    def warm_up(self) -> None:
        for model in (self.reranker, self.second_opinion):
            if model is not None:
                model.warm_up()

    def answer(self, query: Query, hits: Sequence[Hit], index: SentenceIndex,
               on_draft: Callable[[str], None] | None = None) -> Answer:
        if hits and is_overview_request(query.asked):
            return self.overview(query, hits, index)
        if hits and query.parts:
            return self.compound(query, hits, index)
        ranked = self.rank(query, hits, index)
        if not ranked:
            return answer_of(query, hits, [], index, 0.0)
        evidence = self.evidence(query, ranked, index)
        chosen = self.choose(ranked) if evidence.answerable() else []
        return answer_of(query, hits, chosen, index, evidence.probability())

    def overview(self, query: Query, hits: Sequence[Hit], index: SentenceIndex) -> Answer:
        """"What is this article about?": the article's first sentences (rag/answer/overview.py).
        Its confidence is 1: an indexed article always has a lead."""
        chosen = [Candidate(hit, j, sentence, frozenset(), None, 0.0, 0.0) for hit, j, sentence in
                  lead(hits, index, query.text)]
        return answer_of(query, hits, chosen, index, 1.0 if chosen else 0.0)

    def compound(self, query: Query, hits: Sequence[Hit], index: SentenceIndex) -> Answer:
        """"How high and how far did the missile go?": each of `query.parts` (rag/answer/
        compound.py) ranked and judged as a question of its own over the hits of the whole; the
        answer is the sentences each part the articles answer would be answered with, in the
        parts' order (one sentence once). Its confidence is the highest part's: the probability
        that the articles answer some of it."""
        chosen: dict[tuple[str, int, int], Candidate] = {}  # by key: a sentence once, in order
        confidence = 0.0
        for part in query.parts:
            ranked = self.rank(part, hits, index)
            if not ranked:
                continue
            evidence = self.evidence(part, ranked, index)
            confidence = max(confidence, evidence.probability())
            if evidence.answerable():
                for c in self.choose(ranked):
                    chosen.setdefault(c.key, c)
        return answer_of(query, hits, list(chosen.values()), index, confidence)

    # -- the stages, separate so benchmarks/tune_retrieval.py can score each one ------------
    def candidates(self, query: Query, hits: Sequence[Hit], index: SentenceIndex) -> list[Candidate]:
        """Every distinct sentence of the top hits with its cheap score, best first."""
        cfg = self.config
        cover = Coverage(question_terms(query.text), index.idf, index.unknown_idf)
        vectors = [v for v in (query.vector, query.question_vector) if v is not None]
        top_score = max((h.score for h in hits), default=0.0)
        kind = expected_type(query.asked)  # "Can you tell me" gone: the type is in the first words
        out: dict[tuple[str, int, int], Candidate] = {}
        for hit in hits[: cfg.hits_considered]:
            sims = None
            if vectors:
                sims = (np.asarray(index.sentence_vectors_of(hit.row), dtype=np.float32) @ np.stack(vectors).T).max(1)
            sentence_terms = index.sentence_terms(hit.row)
            prior = hit.score / top_score if top_score > 0 else 0.0
            for j, sentence in enumerate(hit.chunk.sentences):
                if is_heading(sentence.text):
                    continue
                s_terms = sentence_terms[j]
                with_previous = s_terms | sentence_terms[j - 1] if j else s_terms
                cov = (1 - cfg.context_share) * cover(s_terms) + cfg.context_share * cover(with_previous)
                c = Candidate(hit, j, sentence, s_terms, None if sims is None else float(sims[j]), cov, prior,
                              type_ok=holds(kind, sentence.text, query.asked))
                c.cheap = (c.cosine or 0.0) + cfg.coverage_weight * cov + cfg.prior_weight * prior
                if kind is not None and c.type_ok:
                    c.cheap += cfg.type_bonus
                if c.key not in out or c.cheap > out[c.key].cheap:
                    out[c.key] = c
        return sorted(out.values(), key=lambda c: (-c.cheap, c.hit.rank, c.sentence.start))

    def rank(self, query: Query, hits: Sequence[Hit], index: SentenceIndex) -> list[Candidate]:
        """Candidates best first: the reranked few, then the rest by cheap score."""
        ranked = self.candidates(query, hits, index)
        if self.reranker is None or not ranked:
            return ranked
        cfg = self.config
        n = sum(1 for c in ranked[: cfg.rerank_top] if c.cheap >= ranked[0].cheap - cfg.rerank_within)
        head, tail = ranked[:n], ranked[n:]
        # The question alone, not the search text: for a follow-up the context found the passage,
        # the question itself says which sentence ("And how far did it fly?").
        scores = self.reranker.score(query.asked, [rerank_text(c) for c in head])
        blend = cfg.rerank_blend
        head = [replace(c, rerank=float(s), final=float(s) + blend * c.cheap) for c, s in zip(head, scores)]
        head.sort(key=lambda c: (-c.final, c.hit.rank, c.sentence.start))
        return head + tail

    def evidence(self, query: Query, ranked: list[Candidate], index: SentenceIndex) -> Evidence:
        best = ranked[0]
        cosine = max((c.cosine for c in ranked if c.cosine is not None), default=None)
        e = Evidence(rerank=best.rerank, type_ok=best.type_ok, cosine=cosine, coverage=best.coverage,
                     cheap=best.cheap, names_ok=mentions_names(query.asked, best.hit, index))
        # A follow-up keeps the first model's call: the second was fitted on questions that stand
        # alone, and a bi-encoder cannot tell what "it" is in "And how high did it go?" (with the
        # earlier question in front, its cosine sits lower than for a question asked whole).
        follow_up = query.text != query.asked
        if self.second_opinion is not None and e.unsure() and not follow_up:
            e = replace(e, second_opinion=self.second_opinion_of(query, best))
        return e

    def second_opinion_of(self, query: Query, best: Candidate) -> float:
        """The second opinion's similarity of the question (as the models read it) and the best
        sentence alone."""
        return self.second_opinion.similarity(query.asked, best.sentence.text)

    def choose(self, ranked: list[Candidate]) -> list[Candidate]:
        best = ranked[0]
        chosen = [best]
        covered = set(best.terms)
        for c in ranked[1:]:
            if len(chosen) >= self.config.max_sentences or not self._follows(c, best):
                break
            if c.key in {x.key for x in chosen} or not (c.terms - covered):
                continue
            chosen.append(c)
            covered |= c.terms
        return chosen

    def _follows(self, c: Candidate, best: Candidate) -> bool:
        if best.final is not None:
            return c.final is not None and c.final >= best.final - self.config.follow_margin
        return c.cheap >= self.config.follow_ratio * best.cheap


def mentions_names(question: str, hit: Hit, index: SentenceIndex) -> bool:
    """True when the chunk of the best sentence (title included) mentions every name and year the
    question asks about: "How many Chinese troops are in Russia?" is not answered by a passage
    that never says "Chinese", however close its topic."""
    names = question_names(question)
    if not names:
        return True
    have = chunk_terms(hit, index)
    return all(t in have for name in names for t in terms(name)[:1])


def chunk_terms(hit: Hit, index: SentenceIndex) -> set[str]:
    """The analysed terms of a hit's chunk, its title included."""
    return set(terms(hit.chunk.title)).union(*index.sentence_terms(hit.row))


def rerank_text(c: Candidate) -> str:
    """What the reranker reads for a sentence: the start of its title (rag/text/titles.py), then
    the sentence."""
    title = title_topic(c.hit.chunk.title)
    return f"{title}. {c.sentence.text}" if title else c.sentence.text


def citation_of(n: int, c: Candidate, index: SentenceIndex) -> Citation:
    """Citation number `n` for candidate sentence `c`: the exact raw span of that sentence."""
    chunk = c.hit.chunk
    return Citation(n=n, doc_id=chunk.doc_id, title=chunk.title, source=index.source_of(chunk.doc_id),
                    start=c.sentence.start, end=c.sentence.end, quote=c.sentence.text)


def answer_of(query: Query, hits: Sequence[Hit], chosen: list[Candidate], index: SentenceIndex,
              confidence: float) -> Answer:
    """The answer made of the `chosen` sentences, or an abstention when there are none."""
    if not chosen:
        return Answer(query.question, NO_ANSWER, True, (), tuple(hits), {}, confidence)
    text, citations = compose(chosen, index)
    return Answer(query.question, text, False, tuple(citations), tuple(hits), {}, confidence)


def compose(chosen: list[Candidate], index: SentenceIndex) -> tuple[str, list[Citation]]:
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    parts = []
    for c in chosen:
        if c.key not in numbers:
            numbers[c.key] = len(numbers) + 1
            citations.append(citation_of(numbers[c.key], c, index))
        # The article's own reference marks ("[2]") are left out: only ours may look like one.
        parts.append(f"{without_reference_marks(c.sentence.text)} [{numbers[c.key]}]")
    return " ".join(parts), citations
