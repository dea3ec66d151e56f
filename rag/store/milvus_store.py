"""The Milvus vector store (rag/store/vectors.py): Milvus Lite run by this process, or a Milvus server.

    RAG_VECTOR_STORE=milvus
    RAG_MILVUS_URI    a path ending in .db: Milvus Lite, Milvus's engine run by this process as
                      its child (one process per file; default <index>/milvus.db); or
                      http(s)://host:19530: a Milvus standalone or cluster (deploy/milvus/)
    RAG_MILVUS_TOKEN  "user:password" or an API key, for a server

What lives where. Milvus holds the chunk vectors for nearest-neighbour search, keyed by our
stable int64 `vid`. Everything else stays in the version folder, as with FAISS: chunk records,
`vectors.npy` (every candidate is re-scored by exact cosine from it, and it is the embedding
cache that makes re-ingesting unchanged text free), sentence vectors, the BM25 index and the
manifest, whose `vector_store` entry is this store's pointer (URI without credentials, collection,
version). Milvus answers "which ids are near this vector"; text, offsets and every score a
reader sees come from the folder. BM25 stays local too: Milvus exposes no idf, which the fusion
needs, and its BM25 costs 2.4 to 2.6 ms a question against 0.05 to 0.23 ms locally, for the same
answers (README, "Scaling", has the measurements).

Versions: one collection, rows tagged with the version that added them (MVCC).
  - A row carries `added_in`, the collection version that inserted it. Version V sees
    `added_in <= V and vid not in removed(V)`, where removed(V) holds the ids V removed; the
    pointer keeps it (`milvus_removed.npy` in the version folder, absent when empty).
  - The writer of V+1 (it holds the index lock) first deletes rows with `added_in > V`: the
    uncommitted rows of a writer that failed or was killed. Then it deletes removed(V): no version
    from V on sees them. Then it inserts its own rows with `added_in = V+1`, and flushes.
    removed(V+1) is what it removed; those rows stay stored, so a reader of V still finds them.
  - Rows are never rewritten, only inserted and deleted, so a reader of V keeps searching
    exactly V's rows, in the same segments, while V+1 is written and after it is committed.
    A version two or more behind the current one may miss rows that later versions removed
    (fewer results, never rows it should not see).
  - The commit is the CURRENT swap of the version folder: until then no reader's filter admits
    the new rows. `discard` deletes the rows of a version whose commit failed; if the process
    died instead, the next writer deletes them.
  - A new collection is made only for a new index, a rebuild, or when the collection crosses
    the size where the index kind changes; the writer after that drops the old collection.
Why not a collection per version switched by an alias: every ingest would copy every vector
(into Milvus Lite here: 10 s per ingest at 100k chunks, 89 s at 1M, benchmarks/milvus.py); this
writes only the changed rows. Why not a `removed_in` field: changing a field rewrites the whole row
(an upsert), which moves it to another segment and another ANN index, so an old version's reader
would not find exactly what it found before.

Index, on a server: FLAT (exact) below EXACT_MAX vectors, IVF_FLAT (NLIST cells per segment,
NPROBE scanned) from there, back to FLAT below half of it. A search restricted to `allowed` ids
scans every cell, so a document filter is exact. On Milvus Lite: FLAT at every size. Its
IVF_FLAT (milvus-lite 2.5.1) found recall@10 0.926 at 100k chunks whatever nprobe (16 to 128, so
the parameter is not applied), while FLAT finds 1.000 in 8.2 ms a search (benchmarks/milvus.py
prints both). HNSW is not used: under a selective filter it returned 1 to 3 of
10 hits in milvus-lite 3.2.2, which this store ran on before 2.5.1; not measured since.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from rag.errors import BackendError, CorruptIndexError, InputError

# Milvus Lite's engine, a child process that inherits this environment, searches with OpenMP
# threads: they must sleep when idle, or they spin against the query encoder on the same cores
# (rag/store/faiss_store.py measured 27 ms instead of 11 ms per question with FAISS on 2 cores).
# An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

EXACT_MAX = 20_000  # a server: from this many vectors IVF_FLAT; below half of it FLAT again
LITE_EXACT_MAX = 2**62  # Milvus Lite: FLAT at every size (module docstring); tests lower it to run IVF
NLIST = 128  # IVF cells per segment
NPROBE = 32  # cells scanned per query: recall@10 >= 0.95 (benchmarks/milvus.py measures it)
BATCH = 2_000  # rows per insert request: a few MB per gRPC message at 384 dimensions
MAX_K = 16_384  # Milvus's limit on the results of one search
REMOVED_FILE = "milvus_removed.npy"

_clients: dict[tuple[str, str], Any] = {}
_tokens: dict[str, str] = {}  # uri -> token given through Settings, for opening that index again
_loaded: set[tuple[str, str]] = set()  # (uri, collection) loaded for search by this process
_lock = threading.Lock()


class MilvusStore:
    """The VectorStore over one Milvus collection, one object per version (see the module docstring).

    Build it with `MilvusStore.empty(settings, dim)` or `MilvusStore.open(folder, entry, dim)`;
    both only store their arguments: the connection is made on first use."""

    kind = "milvus"

    def __init__(self, uri: str, index_dir: Path, dim: int, family: str, collection: str | None,
                 version: int, count: int, removed: np.ndarray, index: dict[str, Any] | None = None,
                 exact_max: int | None = None, uncommitted: bool = False, new_collection: bool = False) -> None:
        self.uri = uri  # what the client connects to: an absolute .db path or a server URL
        self.index_dir = index_dir
        self.dim = dim
        self.family = family  # every collection of this index is named family + "_" + suffix
        self.collection = collection  # None until the first version is written
        self.version = version
        self.count = count
        self.removed = np.asarray(removed, dtype=np.int64)
        self.index = index or {"type": "FLAT", "metric": "IP"}
        # From this many vectors on, the next version is IVF_FLAT (None: by engine, module docstring).
        self.exact_max = exact_max if exact_max is not None else EXACT_MAX if _is_server(uri) else LITE_EXACT_MAX
        self._uncommitted = uncommitted  # written by `updated` in this process: `discard` may delete it
        self._new_collection = new_collection

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def empty(cls, settings: Any, dim: int, exact_max: int | None = None) -> MilvusStore:
        """A store with no vectors, for the index folder and Milvus URI that `settings` name
        (index_dir, milvus_uri, milvus_token). Its first `updated` creates a collection."""
        index_dir = Path(settings.index_dir).expanduser().resolve()
        uri = (getattr(settings, "milvus_uri", "") or "").strip() or str(index_dir / "milvus.db")
        uri = _absolute(uri)
        token = getattr(settings, "milvus_token", "") or ""
        if token:
            with _lock:
                _tokens[uri] = token
        family = "rag_" + hashlib.sha1(str(index_dir).encode("utf-8")).hexdigest()[:10]
        return cls(uri, index_dir, dim, family, None, 0, 0, np.zeros(0, np.int64), exact_max=exact_max)

    @classmethod
    def open(cls, folder: Path, entry: dict[str, Any], dim: int) -> MilvusStore:
        """The version whose pointer `entry` is (the manifest's `vector_store`) in version folder
        `folder`. RAG_MILVUS_URI, when set, replaces the pointer's URI (a server that moved)."""
        index_dir = Path(folder).resolve().parent
        try:
            uri = os.environ.get("RAG_MILVUS_URI", "").strip()
            if not uri:
                uri = str(entry["uri"])
                if not _is_server(uri) and not Path(uri).is_absolute():
                    uri = str(index_dir / uri)  # Milvus Lite inside the index folder moves with it
            removed = np.load(folder / entry["removed"], allow_pickle=False) if entry.get("removed") else None
            return cls(_absolute(uri), index_dir, dim, str(entry["family"]), entry.get("collection"),
                       int(entry["version"]), int(entry["count"]),
                       removed if removed is not None else np.zeros(0, np.int64), dict(entry["index"]))
        except (KeyError, TypeError, ValueError, OSError) as e:
            raise CorruptIndexError(f"{folder}: the manifest's Milvus pointer is unreadable ({e}); "
                                    "rebuild with `rag ingest --rebuild PATH`") from None

    # -- reading --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.count

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        limit = min(k, self.count, MAX_K)
        expr = self._visible()
        params: dict[str, Any] = {}
        if self.index["type"] == "IVF_FLAT":
            params["nprobe"] = int(self.index["nprobe"])
        if allowed is not None:
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
            limit = min(limit, len(allowed))
            expr += f" and vid in [{_ids(allowed)}]"
            if "nprobe" in params:
                params["nprobe"] = int(self.index["nlist"])  # every cell: a filtered search is exact
        n = len(queries)
        if self.collection is None or limit < 1:
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        self._load()
        with self._remote("search"):
            results = self._client().search(self.collection, data=queries.tolist(), anns_field="vector",
                                             limit=limit, filter=expr, output_fields=["vid"],
                                             search_params={"metric_type": "IP", "params": params})
        scores = np.full((n, limit), -np.inf, dtype=np.float32)
        ids = np.full((n, limit), -1, dtype=np.int64)
        for i, hits in enumerate(results):
            for j, hit in enumerate(list(hits)[:limit]):
                ids[i, j], scores[i, j] = hit["vid"], hit["distance"]  # IP of unit vectors: cosine
        return scores, ids

    def _visible(self) -> str:
        """The filter that admits this version's rows and no others."""
        expr = f"added_in <= {self.version}"
        return expr + f" and vid not in [{_ids(self.removed)}]" if len(self.removed) else expr

    # -- writing --------------------------------------------------------------------------------
    def updated(self, remove: np.ndarray, add_ids: np.ndarray, add_vectors: np.ndarray,
                all_ids: np.ndarray, all_vectors: np.ndarray) -> MilvusStore:
        """The next version (the module docstring says how). Call it from one writer at a time (the
        index lock): it first deletes what an earlier, uncommitted `updated` of this version wrote."""
        remove = np.asarray(remove, dtype=np.int64)
        add_ids = np.asarray(add_ids, dtype=np.int64)
        kind = self._kind_for(len(all_ids))
        if self.collection is None or kind != self.index["type"]:
            # A new index, a rebuild, or the size crossed EXACT_MAX: all rows into a new collection.
            name = f"{self.family}_{uuid.uuid4().hex[:8]}"
            index = {"type": kind, "metric": "IP", **({"nlist": NLIST, "nprobe": NPROBE} if kind == "IVF_FLAT" else {})}
            self._create(name, index)
            nxt = self._next(name, 1, len(all_ids), np.zeros(0, np.int64), index, new_collection=True)
            nxt._insert(np.asarray(all_ids, dtype=np.int64), all_vectors)
            return nxt
        client = self._client()
        self._load()
        with self._remote("clean up before writing"):
            client.delete(self.collection, filter=f"added_in > {self.version}")  # a failed writer's rows
            for part in _batches(self.removed, 10_000):
                client.delete(self.collection, ids=part.tolist())  # no version from this one on sees them
            for other in client.list_collections():
                if other.startswith(self.family + "_") and other != self.collection:
                    client.drop_collection(other)  # a rebuild's or an earlier index kind's collection
                    _loaded.discard((self.uri, other))
        nxt = self._next(self.collection, self.version + 1, len(all_ids), remove, self.index)
        nxt._insert(add_ids, add_vectors)
        return nxt

    def _next(self, collection: str, version: int, count: int, removed: np.ndarray, index: dict[str, Any],
              new_collection: bool = False) -> MilvusStore:
        return MilvusStore(self.uri, self.index_dir, self.dim, self.family, collection, version, count, removed,
                           index, self.exact_max, uncommitted=True, new_collection=new_collection)

    def _kind_for(self, n: int) -> str:
        """FLAT or IVF_FLAT for n vectors, with hysteresis (like rag/store/faiss_store.fit_index)."""
        if self.collection is not None and self.index["type"] == "IVF_FLAT":
            return "IVF_FLAT" if n >= self.exact_max // 2 else "FLAT"
        return "IVF_FLAT" if n >= self.exact_max else "FLAT"

    def _create(self, name: str, index: dict[str, Any]) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("vid", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("added_in", DataType.INT64)
        client = self._client()
        params = client.prepare_index_params()
        params.add_index(field_name="vector", index_type=index["type"], metric_type="IP",
                         params={"nlist": index["nlist"]} if "nlist" in index else {})
        with self._remote(f"create collection {name}"):
            # Strong: a search sees every write acknowledged before it (a server's default is Bounded).
            client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
        with _lock:
            _loaded.add((self.uri, name))  # a collection created with its index is loaded

    def _load(self) -> None:
        """Load the collection for search, once per process: a collection is "released" after the
        engine restarts (Milvus Lite in a new process) and refuses searches until loaded."""
        key = (self.uri, str(self.collection))
        if key in _loaded:
            return
        with self._remote("load"):
            self._client().load_collection(self.collection)  # idempotent; reads the stored index files
        with _lock:
            _loaded.add(key)

    def _insert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        client = self._client()
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._remote(f"write version {self.version}"):
            for start in range(0, len(ids), BATCH):
                rows = [{"vid": int(i), "vector": v, "added_in": self.version}
                        for i, v in zip(ids[start:start + BATCH].tolist(), vectors[start:start + BATCH])]
                client.insert(self.collection, rows)
            client.flush(self.collection)  # on disk (Milvus Lite) or sealed (a server) before the commit

    def save(self, folder: Path) -> dict[str, Any]:
        entry: dict[str, Any] = {"kind": self.kind, "uri": _public_uri(self.uri, self.index_dir),
                                 "family": self.family, "collection": self.collection, "version": self.version,
                                 "count": self.count, "index": self.index}
        if len(self.removed):
            np.save(folder / REMOVED_FILE, self.removed, allow_pickle=False)
            entry["removed"] = REMOVED_FILE
        return entry

    def discard(self) -> None:
        """Delete what this version wrote, when it was never committed (made by `updated` in this
        process and its version folder never became current). A committed version is left alone:
        writers delete what no recent version needs (module docstring)."""
        if not self._uncommitted or self.collection is None:
            return
        with self._remote(f"discard version {self.version}"):
            if self._new_collection:
                self._client().drop_collection(self.collection)
                _loaded.discard((self.uri, self.collection))
            else:
                self._client().delete(self.collection, filter=f"added_in >= {self.version}")
        self._uncommitted = False

    # -- the connection -------------------------------------------------------------------------
    def _client(self):
        """The process's client for this URI (one per URI and token; pymilvus clients are thread-safe)."""
        with _lock:
            token = _tokens.get(self.uri) or os.environ.get("RAG_MILVUS_TOKEN", "")
            client = _clients.get((self.uri, token))
            if client is not None:
                return client
            try:
                from pymilvus import MilvusClient
            except ImportError:
                raise InputError("RAG_VECTOR_STORE=milvus needs pymilvus and milvus-lite: "
                                 "pip install -e '.[milvus]'") from None
            if not _is_server(self.uri):
                if not self.uri.endswith(".db"):
                    raise InputError(f"RAG_MILVUS_URI={self.uri!r}: a Milvus Lite path must end in .db "
                                     "(or give a server, http://host:19530)")
                if Path(self.uri).is_dir():
                    raise CorruptIndexError(f"{self.uri} is a folder, the database of milvus-lite 3.x, which "
                                            "milvus-lite 2.5.1 cannot read; rebuild the index with `rag ingest "
                                            "--rebuild PATH`")
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
                _import_milvus_lite()
            # pymilvus logs every failed call with its traceback on its own console handler; the
            # error raised below says what failed in one line (the CLI's rule), so only that is shown.
            logging.getLogger("pymilvus.decorators").setLevel(logging.CRITICAL)
            with self._remote("connect"):
                client = MilvusClient(uri=self.uri, token=token) if token else MilvusClient(uri=self.uri)
            _clients[(self.uri, token)] = client
            return client

    @contextmanager
    def _remote(self, what: str) -> Iterator[None]:
        """Turn the client's errors into one line that names the server, the collection and the way out."""
        from pymilvus.exceptions import MilvusException

        try:
            yield
        except MilvusException as e:
            where = _public_uri(self.uri, self.index_dir)
            message = getattr(e, "message", None) or str(e)
            if what == "connect" and not _is_server(self.uri):
                raise BackendError(f"cannot open Milvus Lite database {self.uri} ({message}); Milvus Lite "
                                   "allows one process per database: stop the other one, or run a Milvus "
                                   "server (deploy/milvus/) and set RAG_MILVUS_URI=http://host:19530") from None
            if re.search(r"collection.*(not (found|exist)|doesn't exist)", message, re.I):
                raise CorruptIndexError(f"Milvus at {where} has no collection {self.collection!r}, which this "
                                        "index version names; rebuild with `rag ingest --rebuild PATH`") from None
            raise BackendError(f"Milvus at {where}: {what} failed: {message}") from None


def disconnect(uri: str) -> None:
    """Close this process's clients of `uri` and, for a Milvus Lite path, stop its engine (the
    child process that holds the database), which frees it for another process. The next use
    connects again."""
    uri = _absolute(uri)
    with _lock:
        for key in [key for key in _clients if key[0] == uri]:
            _clients.pop(key).close()
        _loaded.difference_update({key for key in _loaded if key[0] == uri})
    if not _is_server(uri):
        _import_milvus_lite()
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


class _NotFromMilvusLite(logging.Filter):
    """Drops the records Milvus Lite logs on the root logger ("Open ... failed, the file has been
    opened by another program", "No local milvus in path ..."): without a handler Python prints
    them, and the error this module raises says the same in one line (the CLI's rule)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"{os.sep}milvus_lite{os.sep}" not in record.pathname


def _import_milvus_lite() -> None:
    """Import Milvus Lite (pymilvus imports it again to start the engine: then it is loaded) with
    its one warning silenced, and its root-logger messages filtered out. milvus-lite 2.5.1 reads
    its own version through pkg_resources, whose deprecation warning tells a user nothing they can
    act on (hence setuptools<81 in pyproject.toml: the setuptools that still has pkg_resources)."""
    root = logging.getLogger()
    if not any(isinstance(f, _NotFromMilvusLite) for f in root.filters):
        root.addFilter(_NotFromMilvusLite())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        try:
            import milvus_lite  # noqa: F401
        except ImportError:
            raise InputError("a Milvus Lite path (RAG_MILVUS_URI ending in .db) needs milvus-lite: "
                             "pip install -e '.[milvus]'") from None


def _is_server(uri: str) -> bool:
    return "://" in uri


def _absolute(uri: str) -> str:
    return uri if _is_server(uri) else str(Path(uri).expanduser().resolve())


def _public_uri(uri: str, index_dir: Path) -> str:
    """The URI as the manifest keeps it: no credentials; a Milvus Lite file inside the index
    folder relative to it, so the folder can be moved."""
    if _is_server(uri):
        parts = urlsplit(uri)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    path = Path(uri)
    return str(path.relative_to(index_dir)) if path.is_relative_to(index_dir) else str(path)


def _ids(ids: np.ndarray) -> str:
    return ",".join(map(str, np.asarray(ids, dtype=np.int64).tolist()))


def _batches(ids: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
