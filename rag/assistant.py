"""The one core every interface sits on: open an index, ingest, search, ask.

Thread-safe for one writer and many readers: a reader takes the current Snapshot (an
immutable object) and uses it to the end of its request; a writer builds the next Snapshot,
writes it to disk, then swaps the reference. Readers never see half an index.

Another process (`rag ingest` while `rag serve` runs) may make a new version current too. The
`snapshot` property notices: at most every RELOAD_CHECK_S it stats the CURRENT pointer (one
system call) and, when it changed, loads the new version once, in one thread, while the others
go on with the old snapshot.
"""

from __future__ import annotations

import os
import threading
import time
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable

from rag.answer import compound
from rag.answer.extractive import Answerer
from rag.cite.verify import citation_problem_for
from rag.conversation import check_history, read_turn, retrieval_query, standalone_question
from rag.embed import Embedder, canonical_model_id
from rag.errors import IndexNotFoundError, InputError, RagError
from rag.indexer import IngestReport, Progress, ingest, remove_document
from rag.ingest.files import require_articles
from rag.ingest.formats import raw_source
from rag.ingest.pages import page_at
from rag.ingest.reader import content_hash
from rag.ingest.url import FetchLimits, check_url, fetch_page, is_url, restore
from rag.inputs import check_text
from rag.retrieve.hybrid import Retriever, check_k, check_mode
from rag.settings import Parts, Settings, build_parts
from rag.store import IndexFolder, Snapshot, check_model
from rag.text.chunking import ChunkingConfig
from rag.types import Answer, Citation, Hit, Query

MAX_QUESTION_CHARS = 2000
RELOAD_CHECK_S = 0.25  # how stale a long-running process may see another process's ingest


def check_question(question: Any, name: str = "question") -> str:
    if question is not None and not isinstance(question, str):
        raise InputError(f"{name} must be text, got {type(question).__name__}")
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{name} is empty: ask something, e.g. \"How many troops reached Kursk?\"")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"{name} is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    check_text(question, name)
    if not any(ch.isalnum() for ch in question):
        raise InputError(f"{name} has no letters or digits: {question[:40]!r}")
    # Composed, as keyboards type it: a question pasted from a file saved decomposed (macOS, some
    # PDFs: "u" + a combining diaeresis) would otherwise reach the spelling corrector as two words.
    return unicodedata.normalize("NFC", question.strip())


class Assistant:
    """Question answering with citations over one index folder.

    >>> from rag import Assistant
    >>> assistant = Assistant.open("index")            # doctest: +SKIP
    >>> assistant.ingest(["seeds/"])                    # doctest: +SKIP
    >>> answer = assistant.ask("How long did the missile stay airborne?")  # doctest: +SKIP
    >>> print(answer.answer, answer.citations[0].start)                   # doctest: +SKIP
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 answerer: Answerer | None = None, parts: Parts | None = None) -> None:
        """`parts` (default: `build_parts(settings)`, with `embedder` and `answerer` if given)."""
        self.settings = settings
        self.folder = IndexFolder(settings.index_dir)
        self.parts = parts or build_parts(settings, embedder, answerer)
        self.embedder = self.parts.embedder
        self.answerer = self.parts.answerer
        self.generative = self.parts.generative
        self.speller = self.parts.speller
        self.chunking = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap)
        check_k(settings.k)
        self._snapshot: Snapshot | None = None
        self._loaded = False
        self._pointer: tuple[int, int, int] | None = None  # CURRENT as it was when _snapshot was read
        self._checked_at = 0.0
        self._write_lock = threading.Lock()
        self._load_lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: str | Path | None = None, embedder: Embedder | None = None,
             answerer: Answerer | None = None, **settings: Any) -> Assistant:
        """Settings come from the environment (RAG_*), then these arguments."""
        return cls(Settings.from_env(index_dir=index_dir, **settings), embedder, answerer)

    def warm_up(self) -> None:
        """Load the models now (the embedder's and the answerers'), so the first question is not
        the slow one. Raises InputError when one cannot be loaded."""
        self.embedder.warm_up()
        self.answerer.warm_up()
        if self.speller is not None:
            self.speller.warm_up()
        if self.generative is not None:
            self.generative.warm_up()

    # -- the index --------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot | None:
        """The live index version (None while the folder has no index), at most RELOAD_CHECK_S
        behind a version another process made current."""
        if not self._loaded:
            with self._load_lock:
                if not self._loaded:
                    self._reload()
        elif time.monotonic() - self._checked_at >= RELOAD_CHECK_S and self._load_lock.acquire(blocking=False):
            # One thread checks (and loads); the others keep answering from the snapshot they have.
            try:
                self._reload()
            except (RagError, OSError):
                pass  # e.g. a version half-removed by another process: keep the old one, check again later
            finally:
                self._load_lock.release()
        return self._snapshot

    def _reload(self) -> None:
        """Load the current version if CURRENT changed since the snapshot was read."""
        self._checked_at = time.monotonic()
        pointer = self.folder.pointer_state()
        if self._loaded and pointer == self._pointer:
            return
        snap = self.folder.load() if pointer is not None else None
        if snap is not None:
            check_model(snap.manifest, canonical_model_id(self.embedder.model_id), self.folder.path)
        self._snapshot, self._pointer, self._loaded = snap, pointer, True

    def _publish(self, snap: Snapshot) -> None:
        """Make `snap`, just written by this process, the live snapshot (no reload of our own write)."""
        with self._load_lock:
            self._snapshot, self._pointer, self._loaded = snap, self.folder.pointer_state(), True
            self._checked_at = time.monotonic()

    def close(self) -> None:
        """Let go of the loaded version (its memory maps); the next use loads the current one."""
        with self._load_lock:
            self._snapshot, self._pointer, self._loaded = None, None, False

    def require_snapshot(self) -> Snapshot:
        snap = self.snapshot
        if snap is None:
            raise IndexNotFoundError(f"no index at {self.folder.path}; create one with "
                                     f"`rag ingest PATH --index {self.folder.path}`")
        return snap

    def ingest(self, paths: Iterable[str | Path], rebuild: bool = False, prune: bool = False,
               show_progress: bool = False, on_progress: Progress | None = None,
               allow_private: bool = True) -> IngestReport:
        """Add or update articles: files, folders, or http(s) URLs of web pages; returns what happened.

        Bad files and pages that cannot be fetched are skipped and reported; when every one of
        the given paths is a URL that could not be fetched, InputError says why, and nothing changes.
        This is the call of whoever runs the program (any file it can read, any address); text
        from remote users goes through `ingest_url`. `allow_private=False` refuses pages whose host
        is a private or local address.
        """
        if isinstance(paths, (str, os.PathLike)):  # one path, not its characters
            paths = [paths]
        paths = list(paths)
        bad = [p for p in paths if not isinstance(p, (str, os.PathLike))]
        if bad:
            raise InputError(f"paths must be file names, folders or URLs (text), got {type(bad[0]).__name__}")
        replaced: dict[Path, bytes | None] = {}  # stored pages a fetch overwrote, and what they held
        current: Snapshot | None = None  # the index as it stands after this call
        try:
            paths, unfetched = self._fetch_urls(paths, allow_private, replaced)
            if unfetched and not paths:
                raise InputError("; ".join(unfetched))
            if not prune:  # (a prune may be asked of a folder whose files were all deleted)
                require_articles(paths)  # before the lock, which creates the index folder
            report, current = self._ingest_locked(paths, rebuild, prune, show_progress, on_progress)
        finally:
            # A stored page is the file its document's citations point into: keep a new one only
            # where the index now holds that page's text; otherwise (refused, interrupted, skipped)
            # put the old one back, so the citations of the index as it stands still check.
            restore({p: old for p, old in replaced.items() if not _holds_page(current, p)})
        report.skipped[:0] = unfetched
        return report

    def _ingest_locked(self, paths: list[str | Path], rebuild: bool, prune: bool, show_progress: bool,
                       on_progress: Progress | None) -> tuple[IngestReport, Snapshot | None]:
        """The ingest proper, under the index lock: (what happened, the index as it now stands)."""
        with self._write_lock, self.folder.lock():
            self.folder.clean()  # what a killed writer left behind
            if rebuild:
                # A rebuild starts from nothing but reuses what it can of the old index's vectors.
                previous, cache = None, self._load_cache()
            else:
                previous = cache = self._load_for_write()
            if previous is not None and previous.manifest["chunking"] != self.chunking.__dict__:
                raise InputError(f"{self.folder.path}: index was chunked with {previous.manifest['chunking']}, "
                                 f"settings say {self.chunking.__dict__}; rebuild with `rag ingest --rebuild PATH`")
            snap, report = ingest(previous, paths, self.embedder, self.chunking, self.settings.max_bytes,
                                  prune=prune, show_progress=show_progress, on_progress=on_progress, cache=cache,
                                  new_store=self.parts.new_vector_store)
            if snap is None:
                return report, previous
            self._commit(snap)
            del previous, cache  # the version they map may now be removed
            self.folder.clean()
            return report, snap

    def ingest_url(self, url: Any, on_progress: Progress | None = None) -> IngestReport:
        """Fetch one web page and ingest it. Only an absolute http(s) address with a host is
        accepted (InputError otherwise): this is what the chat's URL field and the HTTP API call,
        and the text they pass comes from users, who must never name a file on the server."""
        if not isinstance(url, str):
            raise InputError(f"a web address must be text, got {type(url).__name__}")
        check_text(url, "url")
        return self.ingest([check_url(url)], on_progress=on_progress,
                           allow_private=self.settings.url_allow_private)

    @property
    def fetched_dir(self) -> Path:
        """Where pages fetched by URL are stored: the index folder's `fetched/` (rag/ingest/url.py)."""
        return Path(self.folder.path) / "fetched"

    def _fetch_urls(self, paths: list[str | Path], allow_private: bool,
                    replaced: dict[Path, bytes | None]) -> tuple[list[str | Path], list[str]]:
        """`paths` with each URL replaced by its fetched page's file; the URLs that failed, one line
        each. `replaced` receives the previous bytes of every stored file a fetch overwrote.

        Fetching happens before the index lock is taken: a slow server must not block other writers.
        """
        limits = FetchLimits(timeout_s=self.settings.url_timeout, max_bytes=self.settings.max_bytes,
                             allow_private=allow_private)
        out: list[str | Path] = []
        failed: list[str] = []
        for p in paths:
            if not is_url(p):
                out.append(p)
                continue
            try:
                out.append(fetch_page(str(p), self.fetched_dir, limits, replaced))
            except InputError as e:
                failed.append(str(e))
        return out, failed

    def _load_for_write(self) -> Snapshot | None:
        if not self.folder.exists():
            return None
        snap = self.folder.load()
        check_model(snap.manifest, canonical_model_id(self.embedder.model_id), self.folder.path)
        return snap

    def _load_cache(self) -> Snapshot | None:
        """The current index as an embedding cache, or None when it cannot serve as one
        (missing, unreadable, another format or model): a rebuild must work in all those cases."""
        if not self.folder.exists():
            return None
        try:
            # The lexical analyzer may be stale (a rebuild fixes that); vectors are still good.
            snap = self.folder.load(check=False)
            check_model(snap.manifest, canonical_model_id(self.embedder.model_id), self.folder.path)
        except RagError:
            return None
        return snap

    def remove(self, doc_id: str) -> None:
        with self._write_lock, self.folder.lock():
            self.folder.clean()
            snap = self.folder.load() if self.folder.exists() else None
            if snap is None:
                raise IndexNotFoundError(f"no index at {self.folder.path}")
            new = remove_document(snap, doc_id, self.embedder, self.chunking)
            self._commit(new)
            del snap
            self.folder.clean()

    def _commit(self, snap: Snapshot) -> None:
        """Write `snap` as the current version and serve it. When the write fails, the previous
        version stays current and what `snap`'s vector store wrote elsewhere (rows in a Milvus
        collection) is deleted; had this process died instead, the next writer deletes it."""
        before = self.folder.pointer_state()
        try:
            self.folder.write(snap)
        except BaseException:
            try:
                if self.folder.pointer_state() == before:  # never discard a version that did become current
                    snap.vector_store.discard()
            except Exception:  # noqa: BLE001  the write's own error is the one to report
                pass
            raise
        self._publish(snap)

    def stats(self) -> dict[str, Any]:
        snap = self.require_snapshot()
        m = snap.manifest
        return {"index": str(self.folder.path), "documents": m["counts"]["documents"],
                "chunks": m["counts"]["chunks"], "model": m["model"], "chunking": m["chunking"],
                "vector_store": snap.vector_store.kind, "updated_at": m["updated_at"]}

    def documents(self) -> list[dict[str, Any]]:
        snap = self.require_snapshot()
        return [d.to_dict() for d in sorted(snap.documents.values(), key=lambda d: d.id)]

    def raw_text(self, doc_id: str) -> str:
        return self.require_snapshot().raw_texts[doc_id]

    # -- questions --------------------------------------------------------------------------
    def query(self, question: str, history: list[Any] | None = None, mode: str | None = None) -> Query:
        """The Query retrieval and answering see: the search text (a follow-up gets the earlier
        question in front) and, unless the mode is lexical, its embedding."""
        mode = check_mode(mode or self.settings.mode)
        # "North Korea tested a missile. How far did it fly?": the sentence before the question is
        # searched with it (it is about this question, unlike an earlier turn, which is used
        # only when the question needs it); the models that pick and judge a sentence read the
        # question alone.
        context, asked = read_turn(question)
        snap = self.snapshot
        correct = self.speller.correct if self.speller is not None and snap is not None else None
        if correct is not None:
            asked = correct(asked, snap.idf)
        # "And how high?" after "How far did the missile travel?" is read as "How high did the
        # missile travel?" by every model that reads the question alone. The earlier question's
        # words are corrected too: they were typed in a turn of their own.
        whole = standalone_question(asked, history)
        if whole != asked:
            asked = correct(whole, snap.idf) if correct is not None else whole
        text = retrieval_query(asked, history)
        if context:
            text = f"{context} {text}"
        # A compound question is retrieved whole and answered part by part, each part judged
        # on its own embedding (its cosine to a sentence is an abstention feature).
        before = text[: len(text) - len(asked)]  # the search text ends with the question
        parts = tuple(self._embedded(part, part, before + part, mode) for part in compound.parts(asked))
        return replace(self._embedded(question, asked, text, mode), parts=parts)

    def _embedded(self, question: str, asked: str, text: str, mode: str) -> Query:
        if mode == "lexical":
            return Query(question, text, asked)
        vector = self.embedder.embed_query(text)
        question_vector = self.embedder.embed_query(asked) if text != asked else None
        return Query(question, text, asked, vector, question_vector)

    def retriever(self, mode: str | None = None, snapshot: Snapshot | None = None) -> Retriever:
        return self.parts.retriever(snapshot or self.require_snapshot(), check_mode(mode or self.settings.mode))

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        text = check_question(query, "query")
        k = check_k(self.settings.k if k is None else k)
        snap = self.require_snapshot()
        return self.retriever(mode, snap).retrieve(self.query(text, mode=mode), k)

    def answerer_for(self, llm: bool) -> Answerer:
        """The extractive answerer, or with `llm` the generative one. Raises InputError when
        `llm` is asked for and no language model is configured."""
        if not llm:
            return self.answerer
        if self.generative is None:
            raise InputError("no language model is configured: set RAG_LLM_URL to an OpenAI-compatible server, "
                             "e.g. RAG_LLM_URL=http://127.0.0.1:8081/v1 after `make llm`")
        return self.generative

    def changed_sources(self, citations: Iterable[Citation]) -> list[tuple[str, str]]:
        """(doc id, source path) of each cited document whose file no longer holds what its
        citations quote (edited or removed since it was indexed). The content hash decides
        cheaply; where it differs (an edit, or a newer text version in the hash), the
        citations themselves are checked against the file."""
        citations = list(citations)
        snap = self.snapshot
        out = []
        for doc_id in dict.fromkeys(c.doc_id for c in citations):
            record = snap.documents.get(doc_id) if snap is not None else None
            if record is None:
                continue
            path = Path(record.source)
            if holds_file(snap, path):
                continue
            try:
                raw = raw_source(path)  # once per document: a PDF is extracted again
            except (OSError, RagError):
                raw = None
            if raw is None or any(citation_problem_for(c, raw) for c in citations if c.doc_id == doc_id):
                out.append((doc_id, record.source))
        return out

    def check_ask(self, question: str, k: int | None = None, history: list[Any] | None = None,
                  mode: str | None = None, llm: bool = False) -> None:
        """Raise now what `ask` would raise for these arguments (InputError, IndexNotFoundError),
        without answering: a streaming caller checks first, so a bad request is a plain error
        response and not an event in a stream that has already begun."""
        check_question(question)
        check_k(self.settings.k if k is None else k)
        check_history(history)
        check_mode(mode or self.settings.mode)
        self.answerer_for(llm)
        self.require_snapshot()

    def ask(self, question: str, k: int | None = None, history: list[Any] | None = None,
            mode: str | None = None, llm: bool = False, on_draft: Callable[[str], None] | None = None) -> Answer:
        """An answer with citations (see Answer). `llm`: in a language model's words, each
        sentence verified against its citations (RAG_LLM_URL; the extractive answer, marked as
        such, when the model cannot give one). `on_draft` receives the model's draft as it is
        written, before verification. Raises InputError for a bad question, k, history or mode,
        or `llm` without a configured model; IndexNotFoundError without an index."""
        question = check_question(question)
        k = check_k(self.settings.k if k is None else k)
        history = check_history(history)
        answerer = self.answerer_for(llm)
        snap = self.require_snapshot()
        t0 = time.perf_counter()
        query = self.query(question, history, mode)
        hits = self.retriever(mode, snap).retrieve(query, k)
        t1 = time.perf_counter()
        answer = answerer.answer(query, hits, snap, on_draft=on_draft)
        t2 = time.perf_counter()
        # The answerer's own timings (a model's "llm" and "first_token") are kept beside these.
        timings = {**answer.timings_ms, "retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000,
                   "total": (t2 - t0) * 1000}
        return replace(answer, timings_ms=timings, citations=with_pages(snap, answer.citations), asked=query.asked)


def holds_file(snap: Snapshot | None, path: Path) -> bool:
    """True when `snap` holds the file at `path` as it is now: a document of that source whose
    content hash (bytes, sidecar, text version: rag/ingest/reader.py) is the file's. What a
    file's citations point into must be what the index holds; a writer that replaced such a
    file asks this before keeping the new bytes."""
    if snap is None or not path.is_file():
        return False
    try:
        now = content_hash(path, path.read_bytes())
    except (OSError, RagError):  # unreadable now: not what the index holds
        return False
    where = path.resolve()
    return any(d.content_hash == now and Path(d.source).resolve() == where for d in snap.documents.values())


def _holds_page(snap: Snapshot | None, stored: Path) -> bool:
    """`holds_file` for the fetched page whose stored file (its .html or its sidecar) is `stored`."""
    page = stored if stored.suffix == ".html" else stored.with_name(stored.name.removesuffix(".meta.json") + ".html")
    return holds_file(snap, page)


def with_pages(snap: Snapshot, citations: tuple[Citation, ...]) -> tuple[Citation, ...]:
    """Citations of documents that have pages (PDFs), each with the page its span starts on.

    Done here rather than by the answerer: a page is a property of the document's raw text
    (form feeds between pages, rag/ingest/pages.py), whichever answerer picked the span.
    """
    out = []
    for c in citations:
        record = snap.documents.get(c.doc_id)
        if record is not None and record.metadata.get("pages"):
            c = replace(c, page=page_at(snap.raw_texts[c.doc_id], c.start))
        out.append(c)
    return tuple(out)
