"""One index version in memory (`Snapshot`) and on disk (a folder a person can open).

On disk, under the index folder:
    CURRENT              name of the live version folder (replaced atomically)
    v000007/             one complete version:
      manifest.json      format version, model, dimension, tokenizer, chunking, counts, times
      documents.jsonl    one document per line, with its raw text (citations are checked on it)
      chunks.jsonl       one chunk per line, in the row order of vectors.npy (read on demand)
      chunk_offsets.npy  byte offset of each line of chunks.jsonl; vids.npy: each row's vector id
      sentence_start.npy first sentence_vectors row of each chunk (prefix sums)
      vectors.npy        float32 unit vectors (also the embedding cache)
      sentence_vectors.npy  float16 unit vectors, one per sentence of each chunk, in chunk order:
                         each sentence embedded on its own, prefixed with the title
      index.faiss        the FAISS index over those vectors (ids = chunk "vid"); another vector
                         store writes its own pointer instead (rag/store/vectors.py)
      lexical/           BM25: terms of each chunk, the score matrix by term, vocabulary, params
      sentence_terms/    the analysed terms of each sentence (rag/store/sentence_terms.py); a
                         version written before they were kept has none
Nothing is pickled. A write goes to a temporary folder and becomes live only when CURRENT is
renamed over; a crash at any point leaves the previous version readable. A Snapshot is never
mutated after it is built: readers keep the one they started with while a writer builds the next.
What a crash leaves behind (`.tmp-*` folders, a `CURRENT.tmp-*` file, versions that are not
current) is removed by `IndexFolder.clean`, whose docstring gives the rule.
"""

from __future__ import annotations

import gc
import json
import mmap
import os
import shutil
import threading
import uuid
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import CorruptIndexError, IndexMismatchError, IndexNotFoundError, InputError
from rag.store.chunk_table import ChunkTable
from rag.store.lexical import load_lexical
from rag.store.sentence_terms import load_sentence_terms
from rag.store.snapshot import FORMAT_VERSION, LEXICAL_ANALYZER, READABLE_ANALYZERS, Snapshot
from rag.store.vectors import open_vector_store
from rag.types import DocumentRecord


class IndexFolder:
    """The folder that holds index versions, with the CURRENT pointer and a writer lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().resolve()
        if self.path.exists() and not self.path.is_dir():
            # Else each command fails its own way on it (NotADirectoryError, FileExistsError).
            raise InputError(f"{self.path} is a file, not an index folder; name a folder with --index "
                             "(RAG_INDEX): a new one is created by `rag ingest`")

    def current_version(self) -> Path | None:
        pointer = self.path / "CURRENT"
        if not pointer.is_file():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        version = self.path / name
        if not name or not version.is_dir():
            raise CorruptIndexError(f"{self.path}: CURRENT names version {name!r}, which is missing; "
                                    "rebuild with `rag ingest --rebuild PATH`")
        return version

    def exists(self) -> bool:
        return (self.path / "CURRENT").is_file()

    def read_manifest(self) -> dict[str, Any]:
        version = self.current_version()
        if version is None:
            raise IndexNotFoundError(f"no index at {self.path}; create one with `rag ingest PATH --index {self.path}`")
        return _read_json(version / "manifest.json")

    def pointer_state(self) -> tuple[int, int, int] | None:
        """(inode, size, mtime in ns) of CURRENT, None without one. A writer replaces CURRENT by
        renaming a new file over it, so any swap changes the inode: one stat tells a reader
        whether another process has made a new version current."""
        try:
            st = os.stat(self.path / "CURRENT")
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def load(self, check: bool = True) -> Snapshot:
        """The current version. `check=False` skips the analyzer check (for use as a cache only).

        A writer in another process may make a new version current and remove this one between
        our reading CURRENT and opening the files; then the new one is read instead.
        """
        for attempt in range(3):
            version = self.current_version()
            if version is None:
                raise IndexNotFoundError(f"no index at {self.path}; create one with "
                                         f"`rag ingest PATH --index {self.path}`")
            try:
                snap = self._load_version(version, check)
            except CorruptIndexError:
                if attempt == 2 or self.current_version() == version:
                    raise
                continue
            _hold(snap, version)
            return snap
        raise AssertionError("unreachable")

    def _load_version(self, version: Path, check: bool) -> Snapshot:
        manifest = _read_json(version / "manifest.json")
        check_format(manifest, self.path, check_analyzer=check)
        try:
            documents, raw_texts = {}, {}
            for d in _read_jsonl(version / "documents.jsonl"):
                raw_texts[d["id"]] = d.pop("raw")
                documents[d["id"]] = DocumentRecord(**d)
            chunks = ChunkTable(version / "chunks.jsonl", _load_optional(version / "chunk_offsets.npy"))
            vids = _load_optional(version / "vids.npy")
            if vids is None:  # written before vids.npy existed
                vids = np.array([r["vid"] for r in _read_jsonl(version / "chunks.jsonl")], dtype=np.int64)
            sentence_start = _load_optional(version / "sentence_start.npy")
            # Memory-mapped: retrieval touches the rows of its candidates only.
            vectors = _random_access(np.load(version / "vectors.npy", allow_pickle=False, mmap_mode="r"))
            # Memory-mapped: only the sentences of retrieved chunks are ever paged in.
            sentence_vectors = _random_access(
                np.load(version / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r"))
            dim = int(manifest["model"]["dim"])
            vector_store = open_vector_store(version, manifest.get("vector_store"), dim)
            lexical = load_lexical(version / "lexical")
            sentence_terms = load_sentence_terms(version / "sentence_terms")
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise CorruptIndexError(f"{version}: cannot read index ({type(e).__name__}: {e}); "
                                    "rebuild with `rag ingest --rebuild PATH`") from None
        n = len(chunks)
        if vectors.shape != (n, dim) or len(vector_store) != n or len(vids) != n or len(lexical) != n:
            raise CorruptIndexError(f"{version}: {n} chunks but {len(vids)} ids, vectors {vectors.shape}, "
                                    f"{len(vector_store)} in the vector store and {len(lexical)} in the lexical "
                                    "index; rebuild with `rag ingest --rebuild PATH`")
        snap = Snapshot(manifest, documents, raw_texts, chunks, vids, vectors, vector_store, lexical,
                        sentence_vectors, sentence_start, sentence_terms)
        n_sentences = int(snap.sentence_row_start[-1])
        if sentence_vectors.shape != (n_sentences, dim):
            raise CorruptIndexError(f"{version}: {n_sentences} sentences but sentence_vectors "
                                    f"{sentence_vectors.shape}; rebuild with `rag ingest --rebuild PATH`")
        for name, rows in (("vectors.npy", vectors), ("sentence_vectors.npy", sentence_vectors)):
            problem = _unit_rows_problem(rows)
            if problem:
                raise CorruptIndexError(f"{version}: {name} is damaged ({problem}); "
                                        "rebuild with `rag ingest --rebuild PATH`")
        if sentence_terms is not None and len(sentence_terms) != n_sentences:
            raise CorruptIndexError(f"{version}: sentence terms do not match the index's {n_sentences} sentences "
                                    f"({len(sentence_terms)}); rebuild with `rag ingest --rebuild PATH`")
        return snap

    def write(self, snap: Snapshot) -> Path:
        """Write `snap` as a new version and make it current; the old version is then removed."""
        self.path.mkdir(parents=True, exist_ok=True)
        previous = self.current_version() if self.exists() else None
        number = int(previous.name[1:]) + 1 if previous is not None and previous.name[1:].isdigit() else 1
        tmp = self.path / f".tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            _write_version(tmp, snap)
            final = self.path / f"v{number:06d}"
            if final.exists():
                shutil.rmtree(final)
            os.rename(tmp, final)
            _atomic_write_text(self.path / "CURRENT", final.name + "\n")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.clean()
        return final

    def clean(self) -> list[str]:
        """Remove what is neither current nor in use; returns the names removed.

        The caller holds the writer lock (`lock()`), so no writer is alive that could own a
        `.tmp-*` folder or a `CURRENT.tmp-*` file: they are what a killed writer left, and go.
        Of the version folders `v000123/`, these stay:
          - the one CURRENT names;
          - any that a Snapshot loaded in this process still uses. A loaded Snapshot memory-maps
            its vectors and chunk records; on Linux an unlinked file stays readable through its
            map, but not on every system, and a Snapshot must never depend on that here.
        All others go: old versions after a swap, and a finished version a crash left before
        CURRENT was pointed at it. A reader in another process has either mapped its version
        already (and keeps reading it after the unlink, on Linux) or has not opened it yet, and
        then `load` reads the new CURRENT instead.
        """
        if not self.path.is_dir():
            return []
        current = self.current_version() if self.exists() else None
        candidates = [p for p in self.path.iterdir()
                      if p.name.startswith(".tmp-") or p.name.startswith("CURRENT.tmp-")
                      or (p.is_dir() and p != current and p.name.startswith("v") and p.name[1:].isdigit())]
        if any(_in_use(p) for p in candidates):
            gc.collect()  # snapshots sit in reference cycles (their caches); let released ones go
        removed = []
        for p in candidates:
            if _in_use(p):
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            if not p.exists():
                removed.append(p.name)
        return sorted(removed)

    def lock(self):
        """An exclusive writer lock (one ingest at a time across processes)."""
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / ".lock", "w")
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle


def _unit_rows_problem(rows: np.ndarray, sample: int = 64) -> str | None:
    """None when up to `sample` rows spread over `rows` are unit vectors, as every embedder here
    writes them; else what is wrong. A file overwritten with other bytes of the same size passes
    every shape check, and its answers came out silently wrong (found by review); this reads a
    few rows of a memory map, not the file."""
    if len(rows) == 0:
        return None
    picked = np.unique(np.linspace(0, len(rows) - 1, min(sample, len(rows))).astype(np.int64))
    with np.errstate(over="ignore", invalid="ignore"):  # garbage overflows: that is the finding
        norms = np.linalg.norm(np.asarray(rows[picked], dtype=np.float32), axis=1)
    bad = np.flatnonzero(~np.isfinite(norms) | (np.abs(norms - 1.0) > 0.05))
    if len(bad):
        return f"row {int(picked[bad[0]])} has length {float(norms[bad[0]]):.3g}, not 1"
    return None


# Version folders that Snapshots loaded in this process read from, with how many are alive.
_live_versions: Counter[Path] = Counter()
_live_lock = threading.Lock()


def _hold(snap: Snapshot, version: Path) -> None:
    with _live_lock:
        _live_versions[version] += 1
    weakref.finalize(snap, _release, version)


def _release(version: Path) -> None:
    with _live_lock:
        _live_versions[version] -= 1
        if _live_versions[version] <= 0:
            del _live_versions[version]


def _in_use(version: Path) -> bool:
    with _live_lock:
        return _live_versions.get(version, 0) > 0


def check_format(manifest: dict[str, Any], where: Path, check_analyzer: bool = True) -> None:
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexMismatchError(f"{where}: index format version {found}, this program reads version "
                                 f"{FORMAT_VERSION}; rebuild with `rag ingest --rebuild PATH`")
    analyzer = manifest.get("lexical_analyzer")
    if check_analyzer and analyzer not in READABLE_ANALYZERS:
        raise IndexMismatchError(f"{where}: BM25 index was built with analyzer {analyzer!r}, this program "
                                 f"uses {LEXICAL_ANALYZER!r}; rebuild with `rag ingest --rebuild PATH` "
                                 "(embeddings are reused, only the lexical index is rebuilt)")


def check_model(manifest: dict[str, Any], model_id: str, where: Path) -> None:
    built_with = manifest["model"]["id"]
    if built_with != model_id:
        raise IndexMismatchError(f"{where}: index was built with embedding model {built_with!r}, but "
                                 f"the configured model is {model_id!r}; use --model {built_with} "
                                 "(RAG_EMBED_MODEL) or rebuild with `rag ingest --rebuild PATH`")


def _write_version(folder: Path, snap: Snapshot) -> None:
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as f:
        for doc_id in sorted(snap.documents):
            row = {**snap.documents[doc_id].to_dict(), "raw": snap.raw_texts[doc_id]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    offsets = [0]
    with open(folder / "chunks.jsonl", "wb") as f:
        for chunk, vid in zip(snap.chunks, snap.vids):
            line = (json.dumps({"vid": int(vid), **chunk.to_dict()}, ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / "chunk_offsets.npy", np.array(offsets, dtype=np.int64), allow_pickle=False)
    np.save(folder / "vids.npy", np.asarray(snap.vids, dtype=np.int64), allow_pickle=False)
    np.save(folder / "sentence_start.npy", np.asarray(snap.sentence_row_start, dtype=np.int64), allow_pickle=False)
    np.save(folder / "vectors.npy", snap.vectors, allow_pickle=False)
    np.save(folder / "sentence_vectors.npy", np.asarray(snap.sentence_vectors, dtype=np.float16), allow_pickle=False)
    manifest = {**snap.manifest, "vector_store": snap.vector_store.save(folder)}
    snap.lexical.save(folder / "lexical")
    if snap.sentence_term_index is not None:
        snap.sentence_term_index.save(folder / "sentence_terms")
    # The manifest goes last: a version folder without one was never finished.
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp-{uuid.uuid4().hex[:8]}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _random_access(array: np.ndarray) -> np.ndarray:
    """Tell the kernel a memory-mapped array is read at random rows: no read-ahead, which would
    otherwise page in (and count as resident) hundreds of KB around every row a query touches."""
    mm = getattr(array, "_mmap", None)
    if mm is not None and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_RANDOM)
    return array


def _load_optional(path: Path) -> np.ndarray | None:
    return np.load(path, allow_pickle=False) if path.exists() else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorruptIndexError(f"{path}: unreadable ({e}); rebuild with `rag ingest --rebuild PATH`") from None


def _read_jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
