"""Evaluation over question sets: retrieval hits, citation support, abstention, latency.

Two dataset layouts (see README, "Evaluation"):
- a folder like ../shared/data/squad-v1.1-dev: `articles.jsonl` ({id, title, path}), the
  article files, `questions.jsonl` ({id, question, answers, answer_start, doc_id}). The articles
  are ingested (an index that already holds them is reused: unchanged files are skipped);
  `holdout_docs` leaves a seeded fraction out, and their questions become unanswerable.
- a plain JSONL file of {question, answers, doc_id?, answer_start?} run against an existing index.

A hit is found by offsets: a chunk of the gold document whose raw [start, end) covers a gold
answer span [answer_start, answer_start + len(answer)). Without offsets (plain files) the
fallback is the answer string inside a chunk of the gold document (or any document), which is
weaker and reported as such in the config.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import string
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.citations import citation_problem
from rag.errors import IndexMismatchError, InputError
from rag.types import Answer

KS = (1, 3, 5, 10)
_PUNCTUATION = frozenset(string.punctuation)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None  # the index's document id of the gold article
    spans: tuple[tuple[int, int], ...]  # gold answer spans in the raw article text
    answerable: bool = True


@dataclass
class Dataset:
    questions: list[Question]
    article_files: list[Path] = field(default_factory=list)  # to ingest; empty for plain files
    kind: str = "folder"


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = re.sub(r"\[\d+\]", " ", text.lower())
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def load_folder(folder: Path, holdout: float, seed: int, workdir: Path, split: str | None = None) -> Dataset:
    """Articles are copied to `workdir` with a `.meta.json` title sidecar each, as a user would.

    A question with no answers is unanswerable (asked of articles that do not say); so is one
    whose article was held out. `split` keeps only the questions of that split (the natural set
    has "tune" and "report"); every article is ingested whatever the split.
    """
    articles = [json.loads(line) for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    held = set(rng.sample([a["id"] for a in articles], round(holdout * len(articles)))) if holdout > 0 else set()
    workdir.mkdir(parents=True, exist_ok=True)
    files, doc_of = [], {}
    for a in articles:
        src = folder / a["path"]
        doc_of[a["id"]] = src.name
        if a["id"] in held:
            continue
        dst = workdir / src.name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
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
        spans = tuple((s, s + len(a)) for a, s in zip(q["answers"], q["answer_start"]))
        questions.append(Question(str(q["id"]), q["question"], tuple(q["answers"]), doc_of.get(q["doc_id"]),
                                  spans, answerable=bool(q["answers"]) and q["doc_id"] not in held))
    if split is not None and not questions:
        raise InputError(f"{folder}: no questions in split {split!r}")
    return Dataset(questions, files)


def load_plain(path: Path) -> Dataset:
    questions = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            answers = tuple(q.get("answers") or ())
            starts = q.get("answer_start") or []
            spans = tuple((s, s + len(a)) for a, s in zip(answers, starts))
            questions.append(Question(str(q.get("id", i)), q["question"], answers, q.get("doc_id"), spans,
                                      answerable=bool(answers)))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise InputError(f"{path}:{i + 1}: not a question line ({e}); expected "
                             '{"question": str, "answers": [str], "doc_id"?: str}') from None
    return Dataset(questions, kind="plain")


def sample(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    if limit is None or limit >= len(questions):
        return list(questions)
    if limit < 1:
        raise InputError(f"--limit must be at least 1. Currently, limit={limit}")
    return random.Random(seed).sample(questions, limit)


def _covers(start: int, end: int, spans: tuple[tuple[int, int], ...]) -> bool:
    return any(start <= s and e <= end for s, e in spans)


def hit_rank(q: Question, answer: Answer) -> int | None:
    """1-based rank of the first hit that holds a gold answer, or None."""
    for h in answer.hits:
        c = h.chunk
        if q.spans:
            if c.doc_id == q.doc_id and _covers(c.start, c.end, q.spans):
                return h.rank
        elif (q.doc_id is None or c.doc_id == q.doc_id) and any(
                normalize_answer(a) in normalize_answer(c.text) for a in q.answers):
            return h.rank
    return None


def citation_supports(q: Question, answer: Answer) -> list[bool]:
    out = []
    for c in answer.citations:
        if q.spans:
            out.append(c.doc_id == q.doc_id and _covers(c.start, c.end, q.spans))
        else:
            out.append((q.doc_id is None or c.doc_id == q.doc_id)
                       and any(normalize_answer(a) in normalize_answer(c.quote) for a in q.answers))
    return out


@dataclass
class ModeResult:
    mode: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        ans = [r for r in self.rows if r["answerable"]]
        una = [r for r in self.rows if not r["answerable"]]
        n = max(1, len(ans))
        all_cites = [v for r in self.rows for v in r["citations_valid"]]
        lat = np.array([r["ms"] for r in self.rows]) if self.rows else np.zeros(1)
        m: dict[str, Any] = {"n_questions": len(self.rows), "n_unanswerable": len(una)}
        for k in KS:
            m[f"hit@{k}"] = sum(1 for r in ans if r["rank"] is not None and r["rank"] <= k) / n
        m["mrr@10"] = sum(1 / r["rank"] for r in ans if r["rank"] is not None and r["rank"] <= 10) / n
        m["citation_support@1"] = sum(1 for r in ans if r["support"][:1] == [True]) / n
        m["citation_support@any"] = sum(1 for r in ans if any(r["support"])) / n
        m["citations_valid"] = (sum(all_cites) / len(all_cites)) if all_cites else 1.0
        m["n_citations"] = len(all_cites)
        m["answer_contains_gold"] = sum(1 for r in ans if r["contains_gold"]) / n
        m["abstain_unanswerable"] = (sum(1 for r in una if r["abstained"]) / len(una)) if una else None
        m["false_abstain"] = sum(1 for r in ans if r["abstained"]) / n
        m["ask_ms_p50"] = float(np.percentile(lat, 50))
        m["ask_ms_p95"] = float(np.percentile(lat, 95))
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}


def run_questions(assistant, questions: list[Question], mode: str, k: int, show_progress: bool) -> ModeResult:
    snap = assistant.require_snapshot()
    result = ModeResult(mode)
    # Every mode pays for its own query embeddings, or later modes would time a cache.
    getattr(assistant.embedder, "clear_cache", lambda: None)()
    items = questions
    if show_progress:
        from tqdm import tqdm

        items = tqdm(questions, desc=f"eval {mode}", unit="q")
    for q in items:
        t0 = time.perf_counter()
        answer = assistant.ask(q.question, k=k, mode=mode)
        ms = (time.perf_counter() - t0) * 1000
        valid = [citation_problem(snap.raw_texts[c.doc_id], c.start, c.end, c.quote,
                                  html=c.source.lower().endswith((".html", ".htm"))) is None
                 for c in answer.citations]
        text = normalize_answer(answer.answer) if not answer.abstained else ""
        result.rows.append({
            "id": q.id, "question": q.question, "answers": list(q.answers), "doc_id": q.doc_id,
            "answerable": q.answerable, "rank": hit_rank(q, answer) if q.answerable else None,
            "support": citation_supports(q, answer) if q.answerable else [],
            "citations_valid": valid, "abstained": answer.abstained, "confidence": answer.confidence,
            "contains_gold": bool(text) and any(normalize_answer(a) in text for a in q.answers if normalize_answer(a)),
            "answer": answer.answer, "ms": ms,
            "first_citation": answer.citations[0].quote if answer.citations else None,
        })
    return result


def evaluate(dataset_path: str | Path, index_dir: str | Path | None = None, limit: int | None = None,
             seed: int = 0, modes: tuple[str, ...] = ("hybrid",), holdout_docs: float = 0.0, k: int = 10,
             show_progress: bool = False, embedder=None, split: str | None = None,
             **settings: Any) -> dict[str, Any]:
    """Run a question set; returns the report dict (config, per-mode metrics, per-question rows)."""
    from rag import __version__ as rag_version
    from rag.assistant import Assistant
    from rag.retrieval import MODES

    path = Path(dataset_path)
    if not path.exists():
        raise InputError(f"{path}: no such dataset (a folder with articles.jsonl + questions.jsonl, or a .jsonl file)")
    if not 0 <= holdout_docs < 1:
        raise InputError(f"--holdout-docs must be in [0, 1). Currently, holdout_docs={holdout_docs}")
    for m in modes:
        if m not in MODES:
            raise InputError(f"unknown mode {m!r} in --modes; use {','.join(MODES)}")
    if path.is_dir():
        tag = f"{path.resolve().name}-h{holdout_docs:g}-s{seed if holdout_docs else 0}"
        index_dir = Path(index_dir) if index_dir else Path("build") / f"eval-index-{tag}"
        dataset = load_folder(path, holdout_docs, seed, Path(f"{index_dir}.articles"), split)
    else:
        if index_dir is None:
            raise InputError("a plain question file needs --index DIR (the index to ask)")
        dataset = load_plain(path)
    assistant = Assistant.open(index_dir, embedder=embedder, **settings)
    ingest_s, reused = 0.0, False
    if dataset.article_files:
        t0 = time.perf_counter()
        try:
            report = assistant.ingest(dataset.article_files, prune=True, show_progress=show_progress)
        except IndexMismatchError:
            # The evaluation index is a cache of this command's: rebuild it (vectors are reused).
            report = assistant.ingest(dataset.article_files, rebuild=True, show_progress=show_progress)
        ingest_s = time.perf_counter() - t0
        reused = not report.changed
        if report.skipped:
            raise InputError(f"{len(report.skipped)} articles could not be read: {report.skipped[0]}")
        # Articles held out under another seed may still be in a reused index: drop them.
        wanted = {f.name for f in dataset.article_files}
        for doc_id in [d for d in assistant.require_snapshot().documents if d not in wanted]:
            assistant.remove(doc_id)
    questions = sample(dataset.questions, limit, seed)
    assistant.ask(questions[0].question, k=k)  # warm-up: model load is not question latency
    results = [run_questions(assistant, questions, m, k, show_progress) for m in modes]
    snap = assistant.require_snapshot()
    config = {
        "dataset": str(path.resolve()), "dataset_kind": dataset.kind, "index": str(assistant.folder.path),
        "model": snap.manifest["model"], "encoder": assistant.settings.encoder,
        "chunking": snap.manifest["chunking"], "vector_index": snap.manifest["vector_index"], "k": k,
        "seed": seed, "limit": limit, "holdout_docs": holdout_docs, "split": split, "modes": list(modes),
        "documents": len(snap.documents), "chunks": len(snap.chunks), "ingest_s": round(ingest_s, 2),
        "index_reused": reused, "versions": _versions(rag_version), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "hit_rule": "offsets" if any(q.spans for q in questions) else "answer string in chunk (no offsets given)",
    }
    modes_out = {}
    for r in results:
        modes_out[r.mode] = {**r.metrics(), "ingest_s": round(ingest_s, 2)}
    return {"config": config, "modes": modes_out, "rows": {r.mode: r.rows for r in results}}


def _versions(rag_version: str) -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"rag": rag_version, "python": platform.python_version(), "machine": platform.machine()}
    for pkg in ("sentence-transformers", "faiss-cpu", "bm25s", "torch", "tiktoken"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def run_eval_cli(args) -> int:
    from rag.eval_report import write_report

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    report = evaluate(args.dataset, args.index, limit=args.limit, seed=args.seed, modes=modes,
                      holdout_docs=args.holdout_docs, k=args.k, show_progress=not args.quiet,
                      split=args.split, model=args.model, encoder=args.encoder)
    table = write_report(report, Path(args.out))
    print(table)
    print(f"\nreport: {Path(args.out) / 'report.md'}")
    return 0
