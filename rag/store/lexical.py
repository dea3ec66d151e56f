"""The lexical index seam and its implementation: BM25 over analysed terms, owned here.

BM25 is small enough to own: a sparse matrix of per-term scores and a sum over the query's
terms. Owning it means the index keeps what an update needs, so an ingest analyses only its new
chunks (the terms of every other chunk are kept, row by row) and rebuilds the score matrix with
array operations instead of re-reading the whole collection. Scores are bm25s' "lucene" variant
(k1 = 1.5, b = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))); tests/test_lexical_index.py
checks them against bm25s itself.

On disk (a folder `lexical/` of the version):
    params.json        kind, k1, b, counts
    vocab.json         the terms, in id order
    row_start.npy      row i's terms are term_ids[row_start[i]:row_start[i + 1]] (int64, n + 1)
    term_ids.npy       int32; term_counts.npy: how often each occurs in the row (float32)
    col_start.npy      the same matrix by term: rows of term t are col_rows[col_start[t]:col_start[t + 1]]
    col_rows.npy       int32; col_scores.npy: float32 BM25 score of the term in that row
The by-term arrays are memory-mapped: a query reads the columns of its own terms only.
"""

from __future__ import annotations

import json
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from rag.errors import CorruptIndexError


class LexicalIndex(Protocol):
    """Term-based scores of every row (chunk) of an index version."""

    kind: str
    k1: float  # BM25's term-frequency saturation; the query bound in retrieval uses it

    def __len__(self) -> int:
        """Number of rows."""
        ...

    def top(self, terms: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores): the at most `n` rows with the highest positive score for the analysed
        query terms, in no particular order (a repeated term counts again; terms no row contains
        add nothing). Empty arrays when no row holds any term."""
        ...

    def scores_of(self, terms: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """(len(rows),) float32: the score of each given row (0 where it holds none of the terms)."""
        ...

    @property
    def idf(self) -> dict[str, float]:
        """The idf of every term that occurs in at least one row."""
        ...

    def updated(self, keep: np.ndarray, new_rows: Sequence[Sequence[str]]) -> LexicalIndex:
        """A new index: the rows where the boolean mask `keep` is true, in order, then `new_rows`
        (analysed terms of each new chunk). This index is not changed."""
        ...

    def save(self, folder: Path) -> None:
        """Write the index into `folder` (created); `load_lexical(folder)` reads it back."""
        ...


class Bm25Index:
    kind = "bm25"

    def __init__(self, vocab: list[str], row_start: np.ndarray, term_ids: np.ndarray, term_counts: np.ndarray,
                 k1: float = 1.5, b: float = 0.75, columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None):
        self.vocab = vocab
        self.row_start = row_start
        self.term_ids = term_ids
        self.term_counts = term_counts
        self.k1, self.b = k1, b
        self.col_start, self.col_rows, self.col_scores = columns if columns is not None else self._columns()

    @classmethod
    def build(cls, rows: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> Bm25Index:
        vocab: dict[str, int] = {}
        return cls._from_rows(vocab, [], rows, k1, b)

    @classmethod
    def _from_rows(cls, vocab: dict[str, int], parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                   rows: Sequence[Sequence[str]], k1: float, b: float) -> Bm25Index:
        """`parts`: (row lengths, term ids, counts) of rows already analysed, in order."""
        lengths, ids, counts = [], [], []
        for row in rows:
            u, c = np.unique(np.fromiter((vocab.setdefault(t, len(vocab)) for t in row), dtype=np.int64,
                                         count=len(row)), return_counts=True)
            lengths.append(len(u))
            ids.append(u.astype(np.int32))
            counts.append(c.astype(np.float32))
        new = (np.array(lengths, dtype=np.int64), _concat(ids, np.int32), _concat(counts, np.float32))
        all_lengths = np.concatenate([p[0] for p in parts] + [new[0]])
        row_start = np.concatenate([[0], np.cumsum(all_lengths)]).astype(np.int64)
        term_ids = np.concatenate([p[1] for p in parts] + [new[1]])
        term_counts = np.concatenate([p[2] for p in parts] + [new[2]])
        return cls(vocabulary(vocab), row_start, term_ids, term_counts, k1, b)._compacted()

    def _compacted(self) -> Bm25Index:
        """The same index without terms that no row holds any more (their ids renumbered)."""
        vocab, term_ids = without_unused(self.vocab, self.term_ids)
        if vocab is self.vocab:
            return self
        return Bm25Index(vocab, self.row_start, term_ids, self.term_counts, self.k1, self.b)

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The by-term score matrix, from the by-row term counts, in array operations."""
        n = len(self)
        lengths = np.diff(self.row_start)
        rows = np.repeat(np.arange(n, dtype=np.int32), lengths)
        doc_len = np.bincount(rows, weights=self.term_counts, minlength=n).astype(np.float32)
        avg = float(doc_len.mean()) if n else 1.0
        df = np.bincount(self.term_ids, minlength=len(self.vocab))
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = self.term_counts
        score = idf[self.term_ids] * tf / (self.k1 * ((1 - self.b) + self.b * doc_len[rows] / max(avg, 1e-9)) + tf)
        order = np.argsort(self.term_ids, kind="stable")  # by term, then (already in order) by row
        col_start = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return col_start, rows[order], score[order].astype(np.float32)

    def __len__(self) -> int:
        return len(self.row_start) - 1

    @cached_property
    def _ids(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}

    def top(self, terms: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(terms)
        if not len(scores) or n < 1:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        n = min(n, len(scores))
        rows = np.argpartition(-scores, n - 1)[:n]
        rows = rows[scores[rows] > 0]
        return rows.astype(np.int64), scores[rows]

    def scores_of(self, terms: Sequence[str], rows: np.ndarray) -> np.ndarray:
        return self.scores(terms)[np.asarray(rows, dtype=np.int64)]

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """Every row's score (read-only). Retrieval asks for the top rows and then for the scores
        of its candidates with the same terms: a few recent results are kept, not recomputed."""
        return self._recent_scores(tuple(terms))

    @cached_property
    def _recent_scores(self):
        @lru_cache(maxsize=4)
        def compute(terms: tuple[str, ...]) -> np.ndarray:
            out = self._sum_columns(terms)
            out.flags.writeable = False
            return out

        return compute

    def _sum_columns(self, terms: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(self), dtype=np.float32)
        ids = self._ids
        for t in terms:
            i = ids.get(t)
            if i is not None:
                a, b = self.col_start[i], self.col_start[i + 1]
                out[self.col_rows[a:b]] += self.col_scores[a:b]
        return out

    @cached_property
    def idf(self) -> dict[str, float]:
        n = len(self)
        df = np.diff(self.col_start)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        return {w: float(idf[i]) for i, w in enumerate(self.vocab) if df[i] > 0}

    def updated(self, keep: np.ndarray, new_rows: Sequence[Sequence[str]]) -> Bm25Index:
        keep = np.asarray(keep, dtype=bool)
        lengths = np.diff(self.row_start)
        kept_entries = np.repeat(keep, lengths)
        part = (lengths[keep], self.term_ids[kept_entries], self.term_counts[kept_entries])
        return Bm25Index._from_rows(dict(self._ids), [part], new_rows, self.k1, self.b)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        params = {"kind": self.kind, "k1": self.k1, "b": self.b, "rows": len(self), "terms": len(self.vocab),
                  "variant": "lucene"}
        (folder / "params.json").write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        for name in ("row_start", "term_ids", "term_counts", "col_start", "col_rows", "col_scores"):
            np.save(folder / f"{name}.npy", np.asarray(getattr(self, name)), allow_pickle=False)


def vocabulary(ids: dict[str, int]) -> list[str]:
    """The terms of a term -> id map, in id order."""
    words = [""] * len(ids)
    for w, i in ids.items():
        words[i] = w
    return words


def without_unused(vocab: list[str], term_ids: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(`vocab` without the terms `term_ids` never uses, `term_ids` renumbered to it); the same
    objects when every term is used."""
    used = np.zeros(len(vocab), dtype=bool)
    used[term_ids] = True
    if used.all():
        return vocab, term_ids
    new_id = np.cumsum(used) - 1
    return [w for w, u in zip(vocab, used) if u], new_id[term_ids].astype(np.int32)


def load_lexical(folder: Path) -> LexicalIndex:
    """The lexical index saved in `folder` (CorruptIndexError when it is not one this program reads)."""
    try:
        params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
        if params.get("kind") != Bm25Index.kind:
            raise ValueError(f"lexical index kind {params.get('kind')!r}; this program reads {Bm25Index.kind!r}")
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False, mmap_mode="r")
                  for name in ("row_start", "term_ids", "term_counts", "col_start", "col_rows", "col_scores")}
    except (OSError, ValueError, KeyError) as e:
        raise CorruptIndexError(f"{folder}: cannot read the lexical index ({e}); "
                                "rebuild with `rag ingest --rebuild PATH`") from None
    index = Bm25Index(vocab, arrays["row_start"], arrays["term_ids"], arrays["term_counts"], float(params["k1"]),
                      float(params["b"]), (arrays["col_start"], arrays["col_rows"], arrays["col_scores"]))
    if len(index.col_start) != len(vocab) + 1 or len(index) != params["rows"]:
        raise CorruptIndexError(f"{folder}: lexical index arrays do not match its vocabulary and row count; "
                                "rebuild with `rag ingest --rebuild PATH`")
    return index


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
