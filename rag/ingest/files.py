"""Finding the article files under the paths a user gave, with stable relative ids."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from rag.errors import InputError
from rag.ingest.reader import SUPPORTED_SUFFIXES
from rag.inputs import unicode_problem

# A file's metadata sidecar is `<stem>.meta.json` beside it; file systems allow 255 bytes per
# name, so a longer article name would make every sidecar lookup fail with ENAMETOOLONG.
MAX_NAME_BYTES = 200


def file_name_problem(name: str) -> str | None:
    """None for a usable article file name, else why not.

    Refused: names whose sidecar name would not fit, control characters (a NUL cannot be stored,
    a newline makes an id that no URL route matches, so the document could never be removed),
    and bytes that are not UTF-8 (Python reads them as lone surrogates, which JSON cannot hold).
    """
    problem = unicode_problem(name)
    if problem:
        return f"file name is not valid UTF-8 ({problem})"
    control = next((ch for ch in name if unicodedata.category(ch) == "Cc"), None)
    if control is not None:
        return f"file name holds the control character U+{ord(control):04X}"
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return f"file name is {size} bytes long; the limit is {MAX_NAME_BYTES}"
    return None


def check_file_name(path: Path, doc_id: str) -> None:
    """InputError naming the file when its name (or its id's folders) cannot be used."""
    problem = next(filter(None, (file_name_problem(part) for part in doc_id.split("/"))), None)
    if problem:
        raise InputError(f"{path!r}: {problem}; rename the file")


def collect_files(paths: list[str | Path]) -> list[tuple[Path, str]]:
    """(absolute path, document id) for each article file, sorted and without duplicates.

    The document id is the file's path relative to the root it was found under (a folder
    argument), or its file name (a file argument), in POSIX form. It stays the same when
    the file's content changes, so a changed file replaces its old version.
    Hidden files and folders and `*.meta.json` sidecars are not articles.
    Two different files that would get one id (`a/report.txt` and `b/report.txt` given as files
    or folders of one call) are an InputError naming both: one would silently replace the other.
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
                    _add(found, rel.as_posix(), f)
        else:
            _add(found, path.name, path)
    return sorted(((f, doc_id) for doc_id, f in found.items()), key=lambda x: x[1])


def require_articles(paths: list[str | Path]) -> None:
    """InputError when a path does not exist or the paths hold no article file at all: a folder
    of other files (or none) would otherwise "succeed" with nothing indexed."""
    if not collect_files(paths):
        where = ", ".join(str(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        raise InputError(f"{where}: no article files here (one of {', '.join(SUPPORTED_SUFFIXES)}; hidden files "
                         "and *.meta.json sidecars are not articles)")


def _add(found: dict[str, Path], doc_id: str, path: Path) -> None:
    """Record `path` as document `doc_id`; the same file twice is once, another file is an error."""
    other = found.setdefault(doc_id, path)
    if other != path:
        raise InputError(f"{other} and {path} would both be document {doc_id!r} (a document's id is its path "
                         f"under the folder given, or its file name); rename one, or ingest a folder holding both")
