"""The analysed terms of every sentence, kept at ingest so that a question does not analyse them.

Coverage (the idf share of a question's terms that a sentence holds, in retrieval's fusion and
in the answerer's cheap score) reads every sentence of up to 100 candidate chunks. Worked out
at query time from the text, that took 2.7 ms a question at 100k chunks for the chunks not
analysed before (benchmarks/query.py, "sentence_terms_first_use"); kept here, it is a few array
operations over the candidates' sentences.

Sentence i's distinct terms are `vocab[ids[start[i]:start[i + 1]]]`, sentences in the order of
sentence_vectors.npy (chunks in row order, rag/store/snapshot.py `sentence_row_start`).
On disk, a folder `sentence_terms/` of the version: vocab.json, start.npy (int64, n + 1),
ids.npy (int32). An index written before this existed has no such folder; its snapshot analyses
sentences on first use, as it did before (same terms, rag.text.lexical.terms).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.errors import CorruptIndexError
from rag.store.lexical import vocabulary, without_unused
from rag.store.ragged import run_positions


class SentenceTerms:
    def __init__(self, vocab: list[str], start: np.ndarray, ids: np.ndarray) -> None:
        self.vocab = vocab
        self.start = start
        self.ids = ids

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]]) -> SentenceTerms:
        """From the analysed terms of each sentence, in order."""
        empty = cls([], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32))
        return empty.updated(np.zeros(0, dtype=bool), sentences)

    def __len__(self) -> int:
        return len(self.start) - 1

    @cached_property
    def _id_of(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}

    def terms_of(self, first: int, end: int) -> list[frozenset[str]]:
        """The terms of sentences first..end-1, one set each."""
        vocab, ids, start = self.vocab, self.ids, self.start
        return [frozenset(vocab[i] for i in ids[start[s] : start[s + 1]]) for s in range(first, end)]

    def coverage(self, sentences: np.ndarray, weights: dict[str, float], total: float) -> np.ndarray:
        """(len(sentences),) float64: for each given sentence, the summed weight of the terms of
        `weights` it holds, over `total` (rag.text.lexical.Coverage, for many sentences at once)."""
        sentences = np.asarray(sentences, dtype=np.int64)
        out = np.zeros(len(sentences), dtype=np.float64)
        known = [(self._id_of[t], w) for t, w in weights.items() if t in self._id_of]
        if total <= 0 or not known or not len(sentences):
            return out
        lookup = dict(known)
        query_ids = np.array(sorted(lookup), dtype=np.int32)
        query_weights = np.array([lookup[i] for i in query_ids], dtype=np.float64)
        first = np.asarray(self.start[sentences], dtype=np.int64)
        lengths = np.asarray(self.start[sentences + 1], dtype=np.int64) - first
        flat = self.ids[run_positions(first, lengths)]  # every term of the given sentences
        pos = np.minimum(np.searchsorted(query_ids, flat), len(query_ids) - 1)
        held = np.where(query_ids[pos] == flat, query_weights[pos], 0.0)
        owner = np.repeat(np.arange(len(sentences)), lengths)
        return np.bincount(owner, weights=held, minlength=len(sentences)) / total

    def updated(self, keep: np.ndarray, new: Sequence[Sequence[str]]) -> SentenceTerms:
        """The sentences where the boolean mask `keep` is true, in order, then `new` (the analysed
        terms of each new sentence). Terms no sentence holds any more leave the vocabulary."""
        keep = np.asarray(keep, dtype=bool)
        lengths = np.diff(self.start)
        kept_ids = self.ids[np.repeat(keep, lengths)]
        ids_of = dict(self._id_of)
        new_ids = [np.unique(np.fromiter((ids_of.setdefault(t, len(ids_of)) for t in s), dtype=np.int64,
                                         count=len(s))).astype(np.int32) for s in new]
        all_lengths = np.concatenate([lengths[keep], np.array([len(a) for a in new_ids], dtype=np.int64)])
        ids = np.concatenate([kept_ids, *new_ids]).astype(np.int32) if new_ids else kept_ids.astype(np.int32)
        vocab, ids = without_unused(vocabulary(ids_of), ids)
        start = np.concatenate([[0], np.cumsum(all_lengths)]).astype(np.int64)
        return SentenceTerms(vocab, start, ids)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "start.npy", np.asarray(self.start, dtype=np.int64), allow_pickle=False)
        np.save(folder / "ids.npy", np.asarray(self.ids, dtype=np.int32), allow_pickle=False)


def load_sentence_terms(folder: Path) -> SentenceTerms | None:
    """The sentence terms saved in `folder`, or None when the version has none (written before
    they were kept). CorruptIndexError when they are unreadable or do not hold together; the
    caller checks that they are as many as the index's sentences."""
    if not folder.is_dir():
        return None
    try:
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        start = np.load(folder / "start.npy", allow_pickle=False, mmap_mode="r")
        ids = np.load(folder / "ids.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as e:
        raise CorruptIndexError(f"{folder}: cannot read the sentence terms ({e}); "
                                "rebuild with `rag ingest --rebuild PATH`") from None
    if not len(start) or int(start[-1]) != len(ids):
        raise CorruptIndexError(f"{folder}: sentence terms do not match their own offsets; "
                                "rebuild with `rag ingest --rebuild PATH`")
    return SentenceTerms(vocab, start, ids)
