"""Ingestion pipeline: files -> articles -> chunks -> vectors -> the next Snapshot.

Incremental by content: a file whose bytes hash the same as the indexed version is not read
further; a chunk whose passage text (title + text) was embedded before, by the same model,
reuses that vector. Returns `None` as the snapshot when nothing changed, so an unchanged
re-ingest writes nothing and the index stays byte-identical.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rag.text.chunking import ChunkingConfig, chunk_article
from rag.embed import Embedder, passage_text, sentence_char_spans
from rag.errors import InputError
from rag.ingest import collect_files, read_article
from rag.ingest.files import check_file_name
from rag.ingest.reader import content_hash, read_bytes_checked
from rag.store import Snapshot, empty_manifest, make_snapshot, now_iso
from rag.types import Chunk, DocumentRecord
from rag.store.faiss_index import FaissFlatIndex, fit_index

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one message per bad file
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed, {len(self.skipped)} skipped; "
                f"{self.chunks_embedded} chunks embedded, {self.chunks_reused} reused, {self.seconds:.1f} s")

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "summary": self.summary()}


def passage_key(chunk: Chunk) -> str:
    return hashlib.sha1(passage_text(chunk.title, chunk.text).encode()).hexdigest()


def ingest(previous: Snapshot | None, paths: list[str | Path], embedder: Embedder, chunking: ChunkingConfig,
           max_bytes: int, prune: bool = False, show_progress: bool = False,
           on_progress: Progress | None = None,
           cache: Snapshot | None = None) -> tuple[Snapshot | None, IngestReport]:
    """The next snapshot after ingesting `paths` into `previous` (None: a new index).

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
                                 sentence_vectors=sentence_vectors)
    report.seconds = time.perf_counter() - started
    return snapshot, report


def embed_with_cache(previous: Snapshot | None, chunks: list[Chunk], embedder: Embedder,
                     report: IngestReport, show_progress: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(chunk vectors, sentence vectors or None), reusing `previous`'s vectors for known passages."""
    with_sentences = hasattr(embedder, "embed_passages")
    cache: dict[str, int] = {}
    # A cached passage is only reusable when it also has what this embedder would produce.
    if previous is not None and (previous.sentence_vectors is not None or not with_sentences):
        cache = {passage_key(c): row for row, c in enumerate(previous.chunks)}
    keys = [passage_key(c) for c in chunks]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    fresh: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    if missing:  # everything cached: do not even load the model
        texts = [passage_text(chunks[i].title, chunks[i].text) for i in missing]
        if with_sentences:
            spans = [sentence_char_spans(chunks[i].title, chunks[i].text, [s.text for s in chunks[i].sentences])
                     for i in missing]
            vecs, sent = embedder.embed_passages(texts, spans, progress=show_progress)
        else:
            vecs, sent = embedder.embed_documents(texts, progress=show_progress), [None] * len(missing)
        fresh = {keys[i]: (vecs[j], sent[j]) for j, i in enumerate(missing)}
    dim = previous.dim if previous is not None and not missing else embedder.dim
    out = np.zeros((len(chunks), dim), dtype=np.float32)
    sentence_parts = []
    for i, k in enumerate(keys):
        if k in fresh:
            out[i], sv = fresh[k]
        else:
            out[i], sv = previous.vectors[cache[k]], previous.sentence_vectors_of(cache[k])
        sentence_parts.append(sv)
    report.chunks_embedded = len(missing)
    report.chunks_reused = len(chunks) - len(missing)
    if not with_sentences or any(sv is None for sv in sentence_parts):
        return out, None
    sentences = (np.concatenate(sentence_parts).astype(np.float16) if sentence_parts
                 else np.zeros((0, dim), dtype=np.float16))
    return out, sentences


def replace_documents(previous: Snapshot | None, docs: dict[str, DocumentRecord], raw: dict[str, str],
                      chunks: list[Chunk], vectors: np.ndarray, drop: set[str], embedder: Embedder,
                      chunking: ChunkingConfig, sentence_vectors: np.ndarray | None = None) -> Snapshot:
    """The next snapshot: `previous` minus documents in `docs` or `drop`, plus `docs` and their chunks."""
    if previous is None:
        manifest = empty_manifest(embedder.model_id, embedder.dim, chunking.__dict__.copy())
        keep_rows: list[int] = []
        vector_index = FaissFlatIndex(embedder.dim)
        old_docs, old_raw = {}, {}
    else:
        manifest = dict(previous.manifest)
        gone = drop | set(docs)
        keep_rows = [r for r, c in enumerate(previous.chunks) if c.doc_id not in gone]
        vector_index = previous.vector_index.copy()
        kept = set(keep_rows)
        vector_index.remove(np.array([v for r, v in enumerate(previous.vids) if r not in kept], dtype=np.int64))
        old_docs = {k: v for k, v in previous.documents.items() if k not in gone}
        old_raw = {k: v for k, v in previous.raw_texts.items() if k in old_docs}

    next_vid = int(manifest["next_vid"])
    new_vids = np.arange(next_vid, next_vid + len(chunks), dtype=np.int64)
    vector_index.add(new_vids, vectors)
    manifest["next_vid"] = next_vid + len(chunks)
    manifest["updated_at"] = now_iso()

    all_chunks = [previous.chunks[r] for r in keep_rows] + chunks if previous else list(chunks)
    old_vids = previous.vids[keep_rows] if previous else np.zeros(0, dtype=np.int64)
    old_vectors = previous.vectors[keep_rows] if previous else np.zeros((0, embedder.dim), dtype=np.float32)
    all_vids, all_vectors = np.concatenate([old_vids, new_vids]), np.concatenate([old_vectors, vectors])
    vector_index = fit_index(vector_index, all_vids, all_vectors)  # exact or IVF by size (rag/store/faiss_index.py)
    sentences = _merge_sentences(previous, keep_rows, sentence_vectors, len(chunks), all_vectors.shape[1])
    return make_snapshot(manifest, {**old_docs, **docs}, {**old_raw, **raw}, all_chunks, all_vids, all_vectors,
                         vector_index, sentence_vectors=sentences)


def _merge_sentences(previous: Snapshot | None, keep_rows: list[int], new: np.ndarray | None,
                     n_new_chunks: int, dim: int) -> np.ndarray | None:
    """Sentence vectors of the kept rows followed by the new ones; None when either side lacks them."""
    if previous is None or not previous.chunks:
        old: list[np.ndarray] | None = []
    elif previous.sentence_vectors is not None:
        old = [previous.sentence_vectors_of(r) for r in keep_rows]
    else:
        old = None
    if old is None or (new is None and n_new_chunks):
        return None
    parts = old + ([new] if new is not None else [])
    return np.concatenate(parts).astype(np.float16) if parts else np.zeros((0, dim), dtype=np.float16)


def remove_document(previous: Snapshot, doc_id: str, embedder: Embedder, chunking: ChunkingConfig) -> Snapshot:
    if doc_id not in previous.documents:
        raise InputError(f"no document {doc_id!r} in the index; `rag stats` lists the document ids")
    return replace_documents(previous, {}, {}, [], np.zeros((0, previous.dim), dtype=np.float32),
                             drop={doc_id}, embedder=embedder, chunking=chunking)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", leave=False)
