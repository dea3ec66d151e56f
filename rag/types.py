"""Frozen value types shared by every layer.

Offsets: `start`/`end` on chunks, sentences and citations are character offsets (Python `str`
indices, i.e. Unicode code points) into the document's *raw* text: the file decoded as UTF-8,
newlines untouched, or for PDF and Word files the reader's deterministic text extraction
(`rag.ingest.formats.raw_source`; a PDF's pages are separated by form feeds).
`raw_text[start:end]` is the cited span.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Sentence:
    """One sentence of a chunk: `text` is cleaned; `start`/`end` are raw-file offsets."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned window of one document."""

    id: str  # content hash of (doc_id, text): same text in the same document, same id
    doc_id: str
    index: int  # position of the chunk inside its document
    title: str
    text: str  # cleaned text: the sentences joined by single spaces / paragraph breaks
    start: int  # raw offset of the first character of the first sentence
    end: int  # raw offset just past the last character of the last sentence
    sentences: tuple[Sentence, ...]
    n_tokens: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sentences"] = [[s.text, s.start, s.end] for s in self.sentences]
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Chunk:
        sentences = tuple(Sentence(t, s, e) for t, s, e in d["sentences"])
        return Chunk(**{**d, "sentences": sentences})


@dataclass(frozen=True)
class DocumentRecord:
    """What the index remembers of one ingested file."""

    id: str  # the file's path relative to the ingest root, POSIX style: stable and readable
    source: str  # absolute path of the original file at ingest time
    title: str
    content_hash: str  # sha256 of the raw bytes
    n_chars: int  # length of the raw text
    n_chunks: int
    ingested_at: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Query:
    """A question as retrieval and answering see it.

    `question` is the text as typed. `asked` is the question as the models read it: without a
    greeting or request around it, ending in "?", misspelt words corrected (rag/conversation.py,
    rag/text/spelling.py). `text` is what is searched for: `asked`, or for a follow-up ("And how
    far did it fly?") with the earlier question in front. `vector` embeds `text`;
    `question_vector` embeds `asked` when it differs (the context finds the passage, the question
    itself picks the sentence). Vectors are None when no dense side is used.
    """

    question: str
    text: str
    asked: str
    vector: np.ndarray | None = field(default=None, repr=False)
    question_vector: np.ndarray | None = field(default=None, repr=False)
    # The two questions of a compound one ("How high and how far did it go?": rag/answer/
    # compound.py), each a Query embedded alone; empty for any other question.
    parts: tuple[Query, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the evidence for its rank (1 = best)."""

    chunk: Chunk
    rank: int
    score: float  # the fused score that ordered the hits
    dense: float | None  # cosine similarity, None when the dense side did not return it
    lexical: float | None  # BM25 score, None when the lexical side did not return it
    row: int = -1  # the chunk's row in the snapshot it came from (internal; not serialised)

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "doc_id": c.doc_id,
            "chunk_id": c.id,
            "title": c.title,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(self.score, 6),
            "dense": None if self.dense is None else round(self.dense, 6),
            "lexical": None if self.lexical is None else round(self.lexical, 6),
        }


@dataclass(frozen=True)
class Citation:
    """One numbered source span of an answer."""

    n: int
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    quote: str
    page: int | None = None  # 1-based page where the span starts, for formats with pages (PDF)

    def to_dict(self) -> dict[str, Any]:
        """The citation JSON; `page` only for documents that have pages."""
        d = asdict(self)
        if self.page is None:
            del d["page"]
        return d


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence a language model wrote, after verification (rag/answer/verify.py).

    `text` is the sentence without its [n] markers. A supported sentence is part of the answer
    text and rests on `citations` (numbers of `Answer.citations`); an unsupported one is not in
    the answer text, has no citations, and `problem` says why it was removed. When the answer
    fell back to the extractive one (`Answerer.fallback`), no sentence of the model is shown:
    each keeps its verdict (`supported`, `support`), has no citations, and a supported one's
    `problem` is "not shown (<fallback>)".
    """

    text: str
    supported: bool
    citations: tuple[int, ...] = ()
    problem: str | None = None
    support: float | None = None  # calibrated probability that the cited sentences say this
    # "model": the model's own [n] held; "verifier": they did not (or there were none), and the
    # verifier found the sentence that supports it (rag/answer/verify.py). None when unsupported.
    cited_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "supported": self.supported, "citations": list(self.citations),
                "cited_by": self.cited_by, "problem": self.problem,
                "support": None if self.support is None else round(self.support, 4)}


EXTRACTIVE, GENERATIVE = "extractive", "generative"


@dataclass(frozen=True)
class Answerer:
    """Who wrote an answer: the extractive answerer, or a language model (`model`).

    `fallback` is set when a model was asked for but the extractive answer is shown instead; it
    is one of FALLBACKS (rag/answer/generative.py), and `message` says what happened in words.
    """

    kind: str = EXTRACTIVE
    model: str | None = None
    fallback: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    timings_ms: dict[str, float]
    # Calibrated probability that the articles answer the question (rag/answer/abstain.py). Python
    # only: the JSON schema below is the one the issue fixed, and clients match it exactly.
    confidence: float = 0.0
    answerer: Answerer = field(default_factory=Answerer)
    # Generative answers: every sentence the model wrote, supported or not, in its order.
    sentences: tuple[AnswerSentence, ...] = ()
    # Python only, for evaluation and calibration: what the model was shown and replied, and the
    # verifier's features per sentence (rag/answer/generative.py). Never serialised.
    trace: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # Python only: the question as the models read it (Query.asked); the chat shows it when a
    # misspelt word was corrected or a bare follow-up ("And how high?") was read as a whole
    # question, so that nobody is answered a question they did not ask unseen.
    asked: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON schema of `rag ask --json` and `POST /api/ask`: the keys of issue 1, then
        `answerer`, and `sentences` when a language model wrote sentences (all of them, each with
        `supported`; a fallback to the extractive answer lists the model's rejected ones)."""
        d = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "answerer": self.answerer.to_dict(),
        }
        if self.answerer.kind == GENERATIVE or self.sentences:
            d["sentences"] = [s.to_dict() for s in self.sentences]
        return d
