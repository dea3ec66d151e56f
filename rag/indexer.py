"""Ingestion pipeline: files -> articles -> chunks -> vectors -> the next Snapshot.

Incremental by content: a file whose bytes hash the same as the indexed version is not read
further; a chunk whose passage text (title + text) was embedded before, by the same model,
reuses that vector. Returns `None` as the snapshot when nothing changed, so an unchanged
re-ingest writes nothing and the index stays byte-identical.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rag.text.chunking import ChunkingConfig, chunk_article
from rag.embed import Embedder, passage_text
from rag.errors import InputError
from rag.ingest import collect_files, read_article
from rag.ingest.files import check_file_name
from rag.ingest.reader import content_hash, read_bytes_checked
from rag.store import (FORMAT_VERSION, LEXICAL_ANALYZER, SENTENCE_VECTORS, Bm25Index, SentenceTerms, Snapshot,
                       VectorStore, chunk_terms, empty_manifest, make_snapshot, now_iso, sentence_terms_of)
from rag.store.faiss_store import FaissStore
from rag.types import Chunk, DocumentRecord

Progress = Callable[[str, int, int], None]  # (stage, done, total)
NewStore = Callable[[int], VectorStore]  # an empty vector store for vectors of this dimension


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one message per bad file
    warnings: list[str] = field(default_factory=list)  # ingested, but the user should know (e.g. PDF pages without text)
    chunks_embedded: int = 0
    chunks_reused: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed, {len(self.skipped)} skipped; "
                f"{self.chunks_embedded} chunks embedded ({self.sentences_embedded} sentences), "
                f"{self.chunks_reused} reused, {self.seconds:.1f} s")

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "summary": self.summary()}


def ingest(previous: Snapshot | None, paths: list[str | Path], embedder: Embedder, chunking: ChunkingConfig,
           max_bytes: int, prune: bool = False, show_progress: bool = False,
           on_progress: Progress | None = None, cache: Snapshot | None = None,
           new_store: NewStore | None = None) -> tuple[Snapshot | None, IngestReport]:
    """The next snapshot after ingesting `paths` into `previous` (None: a new index, whose
    vectors go into `new_store(dim)`, by default an empty FAISS store).

    `cache` (default: `previous`) is a snapshot whose vectors are reused for identical passages.
    """
    started = time.perf_counter()
    report = IngestReport()
    files = collect_files(paths)
    old_docs = previous.documents if previous else {}

    new_docs: dict[str, DocumentRecord] = {}
    new_raw: dict[str, str] = {}
    new_chunks: list[Chunk] = []
    for i, (path, doc_id) in enumerate(_progress(files, show_progress, "reading")):
        if on_progress:
            on_progress("reading", i, len(files))
        try:
            check_file_name(path, doc_id)
            data = read_bytes_checked(path, max_bytes)
            if doc_id in old_docs and old_docs[doc_id].content_hash == content_hash(path, data):
                report.unchanged.append(doc_id)
                continue
            article = read_article(path, max_bytes, data)
        except InputError as e:
            report.skipped.append(str(e))
            continue
        report.warnings.extend(article.warnings)
        chunks = chunk_article(doc_id, article.title, article.clean, chunking)
        (report.updated if doc_id in old_docs else report.added).append(doc_id)
        new_docs[doc_id] = DocumentRecord(id=doc_id, source=str(path), title=article.title,
                                          content_hash=article.content_hash, n_chars=len(article.raw),
                                          n_chunks=len(chunks), ingested_at=now_iso(), metadata=article.metadata)
        new_raw[doc_id] = article.raw
        new_chunks.extend(chunks)

    if prune:
        report.removed = sorted(d for d, rec in old_docs.items()
                                if d not in new_docs and not Path(rec.source).exists())
    if not report.changed:
        report.seconds = time.perf_counter() - started
        return None, report

    vectors, sentence_vectors = embed_with_cache(cache or previous, new_chunks, embedder, report, show_progress)
    snapshot = replace_documents(previous, new_docs, new_raw, new_chunks, vectors,
                                 drop=set(report.removed), embedder=embedder, chunking=chunking,
                                 sentence_vectors=sentence_vectors, new_store=new_store)
    report.seconds = time.perf_counter() - started
    return snapshot, report


def embed_with_cache(cache: Snapshot | None, chunks: list[Chunk], embedder: Embedder,
                     report: IngestReport, show_progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, sentence vectors): one row per chunk, and one per sentence of each chunk
    in chunk order (rag/store/snapshot.py, SENTENCE_VECTORS).

    A sentence is embedded on its own, prefixed with its title like a chunk: the model was
    trained on sentence pairs, and a question matches the one sentence that answers it better
    than a 200-token window that also says five other things. Every distinct text is encoded
    once (a sentence shared by two overlapping chunks, a one-sentence chunk and its sentence),
    and texts that `cache` already holds for the same documents are not encoded again.
    """
    chunk_texts = [passage_text(c.title, c.text) for c in chunks]
    sentence_texts = [passage_text(c.title, s.text) for c in chunks for s in c.sentences]
    known = _cached_vectors(cache, {c.doc_id for c in chunks})
    todo = [t for t in dict.fromkeys(chunk_texts + sentence_texts) if t not in known]
    if todo:  # everything cached: do not even load the model
        known.update(zip(todo, embedder.embed_documents(todo, progress=show_progress)))
    dim = len(next(iter(known.values()))) if known else embedder.dim
    fresh = set(todo)
    report.chunks_embedded = sum(1 for t in dict.fromkeys(chunk_texts) if t in fresh)
    report.chunks_reused = len(chunks) - report.chunks_embedded
    report.sentences_embedded = len(fresh) - report.chunks_embedded
    vectors = np.array([known[t] for t in chunk_texts], dtype=np.float32).reshape(-1, dim)
    sentences = np.array([known[t] for t in sentence_texts], dtype=np.float16).reshape(-1, dim)
    return vectors, sentences


def _cached_vectors(cache: Snapshot | None, doc_ids: set[str]) -> dict[str, np.ndarray]:
    """Text -> vector for the chunks and sentences `cache` holds of these documents.

    Only the same documents are searched: an updated article shares most of its sentences with
    its old version, a new one shares nothing worth a scan of the whole index."""
    # Another format may have embedded other texts for the same passage (format 3 embedded the
    # whole title, rag/text/titles.py): its vectors would be filed under the wrong text.
    if (cache is None or cache.manifest.get("sentence_vectors") != SENTENCE_VECTORS
            or cache.manifest.get("format_version") != FORMAT_VERSION):
        return {}
    out: dict[str, np.ndarray] = {}
    for row, chunk in enumerate(cache.chunks):
        if chunk.doc_id not in doc_ids:
            continue
        out[passage_text(chunk.title, chunk.text)] = np.asarray(cache.vectors[row], dtype=np.float32)
        for sentence, vector in zip(chunk.sentences, cache.sentence_vectors_of(row)):
            out.setdefault(passage_text(chunk.title, sentence.text), np.asarray(vector, dtype=np.float32))
    return out


def replace_documents(previous: Snapshot | None, docs: dict[str, DocumentRecord], raw: dict[str, str],
                      chunks: list[Chunk], vectors: np.ndarray, drop: set[str], embedder: Embedder,
                      chunking: ChunkingConfig, sentence_vectors: np.ndarray,
                      new_store: NewStore | None = None) -> Snapshot:
    """The next snapshot: `previous` minus documents in `docs` or `drop`, plus `docs` and their chunks
    (`vectors` and `sentence_vectors` are theirs, as `embed_with_cache` returns them).

    `previous` is not changed: its vector store and lexical index give updated copies. A new
    index starts from `new_store(dim)` (default: an empty FAISS store)."""
    if previous is None:
        manifest = empty_manifest(embedder.model_id, embedder.dim, chunking.__dict__.copy())
        keep = np.zeros(0, dtype=bool)
        old_docs, old_raw = {}, {}
    else:
        manifest = dict(previous.manifest)
        gone = drop | set(docs)
        keep = np.array([c.doc_id not in gone for c in previous.chunks], dtype=bool)
        old_docs = {k: v for k, v in previous.documents.items() if k not in gone}
        old_raw = {k: v for k, v in previous.raw_texts.items() if k in old_docs}
        if not old_docs:
            # Every document is read by this ingest, so every term is the analyzer's of today: an
            # index of an older readable analyzer (rag/store/snapshot.py) is now fully up to date.
            manifest["lexical_analyzer"] = LEXICAL_ANALYZER

    next_vid = int(manifest["next_vid"])
    new_vids = np.arange(next_vid, next_vid + len(chunks), dtype=np.int64)
    manifest["next_vid"] = next_vid + len(chunks)
    manifest["updated_at"] = now_iso()
    new_terms = [chunk_terms(c) for c in chunks]  # only the new chunks are analysed
    if previous is None:
        all_chunks, all_vids, all_vectors = list(chunks), new_vids, np.asarray(vectors, dtype=np.float32)
        store = (new_store or FaissStore.empty)(embedder.dim).updated(
            np.zeros(0, np.int64), new_vids, vectors, all_vids, all_vectors)
        lexical = Bm25Index.build(new_terms)
        sentence_terms = SentenceTerms.build(sentence_terms_of(chunks))
    else:
        keep_rows = np.flatnonzero(keep)
        all_chunks = [previous.chunks[int(r)] for r in keep_rows] + chunks
        all_vids = np.concatenate([previous.vids[keep_rows], new_vids])
        all_vectors = np.concatenate([previous.vectors[keep_rows], vectors])
        store = previous.vector_store.updated(previous.vids[~keep], new_vids, vectors, all_vids, all_vectors)
        lexical = previous.lexical.updated(keep, new_terms)
        # The kept chunks' sentence rows, found from the prefix sums without touching each chunk.
        kept_sentences = np.repeat(keep, np.diff(previous.sentence_row_start))
        sentence_vectors = np.concatenate([previous.sentence_vectors[kept_sentences], sentence_vectors])
        if previous.sentence_term_index is not None:
            sentence_terms = previous.sentence_term_index.updated(kept_sentences, sentence_terms_of(chunks))
        else:  # an index written before sentence terms were kept gets them for every chunk, once
            sentence_terms = SentenceTerms.build(sentence_terms_of(all_chunks))
    return make_snapshot(manifest, {**old_docs, **docs}, {**old_raw, **raw}, all_chunks, all_vids, all_vectors,
                         store, np.asarray(sentence_vectors, dtype=np.float16), lexical, sentence_terms)


def remove_document(previous: Snapshot, doc_id: str, embedder: Embedder, chunking: ChunkingConfig) -> Snapshot:
    if doc_id not in previous.documents:
        raise InputError(f"no document {doc_id!r} in the index; `rag stats` lists the document ids")
    return replace_documents(previous, {}, {}, [], np.zeros((0, previous.dim), dtype=np.float32),
                             drop={doc_id}, embedder=embedder, chunking=chunking,
                             sentence_vectors=np.zeros((0, previous.dim), dtype=np.float16))


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", leave=False)
