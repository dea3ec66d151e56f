"""Articles uploaded from the browser or the API: checked, copied to a stable folder, ingested.

Where uploads live: `<index_dir>/uploads/`. A citation's `source` is the path of the file that
was ingested, and `rag.cite.verify` reads that file to verify a span, so the copy must outlive
the request (Gradio's and Starlette's temporary files do not). Inside the index folder the
copies are git-ignored with the index (`index/*`), move and disappear with it, and cannot be
mixed up with another index's uploads. The index writer only replaces its `v000123/`,
`CURRENT`, `.lock` and `.tmp-*` entries, so it leaves `uploads/` alone.

The document id of an upload is its file name, so uploading `notes.md` again replaces the
earlier `notes.md` (and a name equal to an already indexed file's id replaces that document).
If that ingest fails or skips the file, the earlier copy is put back: the index still holds its
text, and its citations must keep pointing at it. While the ingest runs, the folder already
holds the new copy, so an answer given in those seconds from the old version shows its
citations as changed since (the chat says so); it is never shown as checked.

Every file is checked with the core's own reader before anything is written, so a bad file
never reaches the index folder; the HTTP API rejects the whole request when one file is bad,
the browser ingests the good ones and lists the rejected ones.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rag.assistant import Assistant, holds_file
from rag.errors import InputError, RagError
from rag.indexer import IngestReport
from rag.ingest.files import file_name_problem
from rag.ingest.reader import SUPPORTED_SUFFIXES, read_article
from rag.ingest.url import restore
from rag.inputs import size_text

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user gave it and its bytes."""

    name: str
    data: bytes


def uploads_dir_for(index_dir: Path) -> Path:
    return Path(index_dir).expanduser().resolve() / "uploads"


def clean_name(name: str) -> str:
    """The file name without any folder part; InputError when nothing usable is left."""
    base = Path(str(name).replace("\\", "/")).name.strip()
    if not base or base.startswith("."):
        raise InputError(f"{name!r}: not a usable file name (empty or hidden)")
    problem = file_name_problem(base)
    if problem:
        raise InputError(f"{base!r}: {problem}; rename the file")
    if base.lower().endswith(".meta.json"):
        raise InputError(f"{base}: metadata sidecars cannot be uploaded on their own")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InputError(f"{base}: unsupported file type {Path(base).suffix or '(none)'!r}; "
                         f"upload one of {', '.join(SUPPORTED_SUFFIXES)}")
    return base


class Inbox:
    """The uploads folder of one index; one upload at a time is copied and ingested."""

    def __init__(self, assistant: Assistant, folder: Path | None = None) -> None:
        self.assistant = assistant
        self.folder = Path(folder) if folder is not None else uploads_dir_for(assistant.settings.index_dir)
        self.max_bytes = assistant.settings.max_bytes
        self._lock = threading.Lock()

    def problem(self, upload: Upload) -> str | None:
        """None when the core can read `upload` as an article, else one line naming the file."""
        try:
            name = clean_name(upload.name)
        except InputError as e:
            return str(e)
        if len(upload.data) > self.max_bytes:
            return (f"{name}: file is {size_text(len(upload.data))}, over the "
                    f"{size_text(self.max_bytes)} limit (RAG_MAX_FILE_MB)")
        # The reader works on paths: check a private temporary copy with the same name.
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(upload.data)
            try:
                read_article(path, self.max_bytes)
            except InputError as e:
                return str(e).replace(str(path), name)
        return None

    def ingest(self, uploads: list[Upload], all_or_nothing: bool = False,
               on_progress: Progress | None = None) -> tuple[IngestReport | None, list[str]]:
        """Check, copy and ingest `uploads`; returns (report or None if nothing ingested, rejections).

        With `all_or_nothing`, one bad file rejects the whole batch and nothing is written.
        """
        if not uploads:
            raise InputError(f"no files uploaded: choose articles ({', '.join(SUPPORTED_SUFFIXES)})")
        rejected: list[str] = []
        good: dict[str, Upload] = {}
        for i, u in enumerate(uploads):
            if on_progress:
                on_progress("checking files", i, len(uploads))
            problem = self.problem(u)
            if problem is None and clean_name(u.name) in good:
                problem = f"{clean_name(u.name)}: the same file name appears twice in one upload"
            if problem:
                rejected.append(problem)
            else:
                good[clean_name(u.name)] = u
        if (rejected and all_or_nothing) or not good:
            return None, rejected
        with self._lock:
            paths = [self.folder / name for name in good]
            # What each path held: bytes, or None for nothing (not a folder in the way, say,
            # which no save replaces and no restore may remove).
            previous = {p: (p.read_bytes() if p.is_file() else None)
                        for p in paths if p.is_file() or not p.exists()}
            try:
                for u in good.values():
                    self._save(u)
                if on_progress:
                    on_progress("indexing", 0, len(paths))
                report = self.assistant.ingest(paths, on_progress=on_progress)
            finally:
                # An uploaded copy is the file its document's citations point into: keep a new one
                # only where the index now holds its bytes; otherwise (a save or the ingest failed,
                # or the file was skipped) put the old bytes back, so the index's citations check.
                held = self._held(paths)
                restore({p: old for p, old in previous.items() if p not in held})
        return report, rejected

    def _held(self, paths: list[Path]) -> set[Path]:
        """The paths whose current bytes the live index holds (`rag.assistant.holds_file`)."""
        try:
            snap = self.assistant.snapshot
        except RagError:  # no readable index: it holds none of them
            return set()
        return {p for p in paths if holds_file(snap, p)}

    def _save(self, upload: Upload) -> Path:
        """Write atomically: a reader of an older copy never sees half a file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / clean_name(upload.name)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(upload.data)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final

    def remove(self, doc_id: str) -> None:
        """Remove a document from the index, and its uploaded copy when it came from here."""
        with self._lock:
            snap = self.assistant.snapshot
            record = snap.documents.get(doc_id) if snap is not None else None
            self.assistant.remove(doc_id)
            if record is not None:
                source = Path(record.source)
                if source.parent == self.folder.resolve() and source.is_file():
                    source.unlink()
