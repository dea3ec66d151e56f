"""One index version in memory: `Snapshot`, immutable once built.

Readers keep the snapshot they started with while a writer builds the next one; `folder.py`
writes and reads snapshots as version folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from rag.errors import CorruptIndexError
from rag.store.lexical import Bm25Index, LexicalIndex
from rag.store.sentence_terms import SentenceTerms
from rag.store.vectors import VectorStore
from rag.types import Chunk, DocumentRecord

# 4: titles embedded by their first words (rag/text/titles.py); 3: vector store and lexical index
# behind seams; 2: standalone sentence vectors
FORMAT_VERSION = 4
# What sentence_vectors.npy holds, in the manifest: each sentence embedded alone, prefixed with
# its document's title (rag/indexer.py, embed_with_cache).
SENTENCE_VECTORS = "title+sentence"
LEXICAL_ANALYZER = "nfkc-words-lower-stop_en-irregular_en-snowball_en"
# Analyzers whose indexes this one still reads. The one before NFKC gives the same terms for all
# text already in NFKC form (ASCII, and accented letters as keyboards type them); its indexes
# are read as they are, and each file gets NFKC terms when it is next ingested (its content hash
# holds rag/text's VERSION). `rag ingest --rebuild` refreshes all at once, reusing the vectors.
# The manifest names the new analyzer once one ingest has read every document (rag/indexer.py):
# an index whose files were re-read over several ingests keeps the old name until a rebuild, so
# dropping that name from this list must come with a release that asks for `--rebuild`.
READABLE_ANALYZERS = (LEXICAL_ANALYZER, "words-lower-stop_en-irregular_en-snowball_en")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Snapshot:
    manifest: dict[str, Any]
    documents: dict[str, DocumentRecord]
    raw_texts: dict[str, str]
    chunks: Sequence[Chunk]  # row order; a list when built in memory, a ChunkTable when loaded
    vids: np.ndarray  # int64 vector id of each row, strictly increasing (new chunks get new ids)
    vectors: np.ndarray  # float32 (rows, dim); memory-mapped when loaded
    vector_store: VectorStore  # nearest neighbours by vid (rag/store/vectors.py)
    lexical: LexicalIndex  # BM25 over the chunks' terms, row i = chunk i (rag/store/lexical.py)
    # One row per sentence, chunks in row order (float16 unit vectors, SENTENCE_VECTORS).
    sentence_vectors: np.ndarray = field(repr=False)
    sentence_start: np.ndarray | None = field(repr=False, default=None)  # see sentence_row_start
    # The analysed terms of each sentence, in sentence_vectors' order (rag/store/sentence_terms.py);
    # None in an index written before they were kept: sentences are then analysed on first use.
    sentence_term_index: SentenceTerms | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        if len(self.vids) > 1 and not np.all(np.diff(self.vids) > 0):
            raise CorruptIndexError("chunk vector ids are not strictly increasing; rebuild the index")

    def rows_of(self, vids: np.ndarray) -> np.ndarray:
        """Rows of the given vector ids (ids are sorted, so a binary search, no id->row map)."""
        vids = np.asarray(vids, dtype=np.int64)
        rows = np.searchsorted(self.vids, vids)
        found = (rows < len(self.vids)) & (self.vids[np.minimum(rows, len(self.vids) - 1)] == vids)
        return rows[found]

    @cached_property
    def sentence_row_start(self) -> np.ndarray:
        """First row in sentence_vectors of each chunk's sentences (prefix sums)."""
        if self.sentence_start is not None:
            return self.sentence_start
        counts = np.array([len(c.sentences) for c in self.chunks], dtype=np.int64)
        return np.concatenate([[0], np.cumsum(counts)])

    # -- what rag.answer.SentenceIndex asks for --------------------------------------------
    def source_of(self, doc_id: str) -> str:
        return self.documents[doc_id].source

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """(sentences of chunk `row`, dim) float16."""
        a, b = self.sentence_row_start[row], self.sentence_row_start[row + 1]
        return self.sentence_vectors[a:b]

    def sentence_terms(self, row: int) -> list[frozenset[str]]:
        """Analysed terms of each sentence of chunk `row` (a bounded cache: hot rows stay)."""
        return self._sentence_terms_cache(row)

    @cached_property
    def _sentence_terms_cache(self):
        from rag.text.lexical import terms

        kept = self.sentence_term_index
        starts = self.sentence_row_start

        @lru_cache(maxsize=16384)
        def compute(row: int) -> list[frozenset[str]]:
            if kept is not None:
                return kept.terms_of(int(starts[row]), int(starts[row + 1]))
            return [frozenset(terms(s.text)) for s in self.chunks[row].sentences]

        return compute

    @property
    def idf(self) -> dict[str, float]:
        """The idf of every indexed term (used to weigh query terms in sentences)."""
        return self.lexical.idf

    @property
    def unknown_idf(self) -> float:
        """Weight of a query term that occurs in no chunk: as rare as the rarest indexed term."""
        n = max(1, len(self.chunks))
        return float(np.log(1 + (n - 1 + 0.5) / 1.5))

    @property
    def model(self) -> str:
        return self.manifest["model"]["id"]

    @property
    def dim(self) -> int:
        return int(self.manifest["model"]["dim"])


def chunk_terms(chunk: Chunk) -> list[str]:
    """What the lexical index holds of a chunk: the analysed terms of its title and text."""
    from rag.text.lexical import terms

    return terms(f"{chunk.title}\n{chunk.text}")


def build_lexical(chunks: Sequence[Chunk]) -> LexicalIndex:
    return Bm25Index.build([chunk_terms(c) for c in chunks])


def sentence_terms_of(chunks: Sequence[Chunk]) -> list[list[str]]:
    """The analysed terms of every sentence of these chunks, in order (what SentenceTerms keeps)."""
    from rag.text.lexical import terms

    return [terms(s.text) for c in chunks for s in c.sentences]


def make_snapshot(manifest: dict[str, Any], documents: dict[str, DocumentRecord], raw_texts: dict[str, str],
                  chunks: Sequence[Chunk], vids: np.ndarray, vectors: np.ndarray, vector_store: VectorStore,
                  sentence_vectors: np.ndarray, lexical: LexicalIndex | None = None,
                  sentence_terms: SentenceTerms | None = None) -> Snapshot:
    """A snapshot of these parts (the lexical index is built from the chunks when not given;
    without `sentence_terms`, sentences are analysed when a query first reads them)."""
    manifest = {**manifest, "counts": {"documents": len(documents), "chunks": len(chunks)},
                "sentence_vectors": SENTENCE_VECTORS}
    return Snapshot(manifest, documents, raw_texts, chunks, vids, vectors, vector_store,
                    lexical if lexical is not None else build_lexical(chunks), sentence_vectors,
                    sentence_term_index=sentence_terms)


def empty_manifest(model: str, dim: int, chunking: dict[str, Any]) -> dict[str, Any]:
    t = now_iso()
    return {
        "format_version": FORMAT_VERSION,
        "model": {"id": model, "dim": dim},
        "tokenizer": chunking["encoding"],
        "lexical_analyzer": LEXICAL_ANALYZER,
        "chunking": chunking,
        "counts": {"documents": 0, "chunks": 0},
        "next_vid": 0,
        "created_at": t,
        "updated_at": t,
    }
