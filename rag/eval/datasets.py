"""Question sets for evaluation: the two layouts `rag eval` reads (see README, "Evaluation").

- a folder like ../shared/data/squad-v1.1-dev or eval/natural: `articles.jsonl` ({id, title,
  path}), the article files (any supported format), `questions.jsonl` ({id, question, answers,
  answer_start, answer_end?, doc_id, split?}). The articles are ingested; `holdout` leaves a seeded fraction out, and their
  questions become unanswerable; a question without answers is unanswerable too.
- a plain JSONL file of {question, answers, doc_id?, answer_start?} run against an existing index.
"""

from __future__ import annotations

import filecmp
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InputError

SHARED = "shared"  # the folder of provided data beside the project (../shared)


def shared_roots(start: Path) -> list[Path]:
    """Where the provided `shared/` folder may be: $RAG_SHARED_DIR; beside the project that holds
    `start`; beside the checkout this one was cloned from (a clean clone in a temporary folder,
    as CI makes, has no ../shared of its own)."""
    import os
    import subprocess

    roots = [Path(os.environ["RAG_SHARED_DIR"])] if os.environ.get("RAG_SHARED_DIR") else []
    here = start.resolve()
    roots += [p / SHARED for p in here.parents]
    try:
        origin = subprocess.run(["git", "-C", str(here if here.is_dir() else here.parent), "config",
                                 "--get", "remote.origin.url"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and Path(origin).is_dir():
        roots.append(Path(origin).resolve().parent / SHARED)
    return roots


def article_path(folder: Path, path: str) -> Path:
    """An article file named in a dataset's articles.jsonl, relative to the dataset folder. A path
    into `../shared` that is not there is looked for in the other places `shared_roots` lists."""
    direct = (folder / path).resolve()
    parts = Path(path).parts
    if direct.exists() or SHARED not in parts:
        return direct
    inside = Path(*parts[parts.index(SHARED) + 1:])
    for root in shared_roots(folder):
        if (root / inside).exists():
            return root / inside
    return direct


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None  # the index's document id of the gold article
    spans: tuple[tuple[int, int], ...]  # gold answer spans in the raw article text
    answerable: bool = True
    # An unanswerable question's "kind" in a question file that says ("near": near an article's
    # topic, "unrelated"); `rag eval` then reports abstention on each kind apart.
    kind: str | None = None


@dataclass
class Dataset:
    questions: list[Question]
    article_files: list[Path] = field(default_factory=list)  # to ingest; empty for plain files
    kind: str = "folder"


def load_folder(folder: Path, holdout: float, seed: int, workdir: Path, split: str | None = None) -> Dataset:
    """Articles are copied to `workdir` with a `.meta.json` title sidecar each, as a user would.

    A question with no answers is unanswerable (asked of articles that do not say); so is one
    whose article was held out. `split` keeps only the questions of that split (the natural set
    has "tune" and "report"); every article is ingested whatever the split.
    """
    articles = [json.loads(line) for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    # At least one article when asked for any: 0.01 of 48 would round to none, silently.
    held = set(rng.sample([a["id"] for a in articles], max(1, round(holdout * len(articles))))) if holdout > 0 else set()
    workdir.mkdir(parents=True, exist_ok=True)
    files, doc_of = [], {}
    for a in articles:
        src = article_path(folder, a["path"])
        doc_of[a["id"]] = src.name
        if a["id"] in held:
            continue
        dst = workdir / src.name
        # Bytes, not sizes: an article edited in place ("1871" -> "1872") keeps its size.
        if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            shutil.copyfile(src, dst)
        meta = workdir / (dst.stem + ".meta.json")
        meta_text = json.dumps({"title": a.get("title") or a["id"]}) + "\n"
        if not meta.exists() or meta.read_text() != meta_text:
            meta.write_text(meta_text)
        files.append(dst)
    questions = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        if split is not None and q.get("split") != split:
            continue
        spans = _spans(q)
        questions.append(Question(str(q["id"]), q["question"], tuple(q["answers"]), doc_of.get(q["doc_id"]),
                                  spans, answerable=bool(q["answers"]) and q["doc_id"] not in held,
                                  kind=_kind(q)))
    if split is not None and not questions:
        raise InputError(f"{folder}: no questions in split {split!r}")
    return Dataset(questions, files)


def _kind(q: dict) -> str | None:
    """The "kind" of an unanswerable question line, when it names one as a string."""
    kind = q.get("kind")
    return kind if isinstance(kind, str) and kind and not q.get("answers") else None


def load_plain(path: Path) -> Dataset:
    questions = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            answers = q.get("answers") or []
            if not isinstance(q["question"], str) or not isinstance(answers, list) or \
                    not all(isinstance(a, str) for a in answers):
                raise TypeError('"question" must be a string and "answers" a list of strings')
            # Offsets without a doc_id do not say which file they are in: the answer string decides.
            spans = _spans(q) if q.get("doc_id") is not None else ()
            questions.append(Question(str(q.get("id", i)), q["question"], tuple(answers), q.get("doc_id"), spans,
                                      answerable=bool(answers), kind=_kind(q)))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise InputError(f"{path}:{i + 1}: not a question line ({e}); expected "
                             '{"question": str, "answers": [str], "doc_id"?: str}') from None
    return Dataset(questions, kind="plain")


def _spans(q: dict) -> tuple[tuple[int, int], ...]:
    """Gold spans: answer_start + len(answer), or `answer_end` when the set gives it (a span in a
    PDF's extraction can hold a line-end hyphen or page furniture, so its length differs)."""
    answers, starts = q.get("answers") or [], q.get("answer_start") or []
    ends = q.get("answer_end") or [s + len(a) for a, s in zip(answers, starts)]
    return tuple(zip(starts, ends))


def sample(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    if limit is None or limit >= len(questions):
        return list(questions)
    if limit < 1:
        raise InputError(f"--limit must be at least 1. Currently, limit={limit}")
    return random.Random(seed).sample(questions, limit)
