"""Finding the article files under the paths a user gave, with stable relative ids."""

from __future__ import annotations

from pathlib import Path

from rag.errors import InputError
from rag.ingest.reader import SUPPORTED_SUFFIXES


def collect_files(paths: list[str | Path]) -> list[tuple[Path, str]]:
    """(absolute path, document id) for each article file, sorted and without duplicates.

    The document id is the file's path relative to the root it was found under (a folder
    argument), or its file name (a file argument), in POSIX form. It stays the same when
    the file's content changes, so a changed file replaces its old version.
    Hidden files and folders and `*.meta.json` sidecars are not articles.
    """
    if not paths:
        raise InputError("no paths given: name at least one file or folder to ingest")
    found: dict[str, Path] = {}
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        path = path.resolve()
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                rel = f.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.setdefault(rel.as_posix(), f)
        else:
            found.setdefault(path.name, path)
    return sorted(((f, doc_id) for doc_id, f in found.items()), key=lambda x: x[1])
