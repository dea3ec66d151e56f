"""`rag ...` subcommands. `main(argv) -> int`; errors are one line on stderr and exit code 2.

Heavy modules (torch, faiss) are imported inside the subcommand that needs them. Commands that
live outside the library register through the entry-point group `rag.commands`: `ui` adds
`rag serve` that way (pyproject.toml), so this module never imports `ui` (dependencies run
ui -> rag only). An entry point is a function `(subparsers, common) -> None` that adds its
parser and sets `handler=fn(args) -> int` on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Sequence

from rag.errors import RagError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Question answering over articles, with citations.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", help="index folder (RAG_INDEX, default: index)")
        sp.add_argument("--model", help="embedding model name or folder (RAG_EMBED_MODEL)")
        sp.add_argument("--encoder", choices=["onnx-int8", "torch"], help="encoder backend (RAG_ENCODER, default onnx-int8)")

    sp = sub.add_parser("ingest", help="add or update articles (files, folders or web page URLs)")
    sp.add_argument("paths", nargs="+", metavar="PATH", help="a file, a folder, or an http(s):// URL")
    common(sp)
    sp.add_argument("--rebuild", action="store_true", help="start a new index (cached vectors are reused)")
    sp.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    sp.add_argument("--chunk-tokens", type=int, help="chunk size in tokens (RAG_CHUNK_TOKENS)")
    sp.add_argument("--chunk-overlap", type=int, help="sentences shared by neighbouring chunks")
    sp.add_argument("--max-file-mb", type=float, help="skip larger files (RAG_MAX_FILE_MB, default 20)")
    sp.add_argument("--url-timeout", type=float, help="seconds to fetch one web page (RAG_URL_TIMEOUT, default 15)")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    sp.add_argument("--json", action="store_true", help="print the summary as JSON")

    for name, help_text in (("ask", "answer a question with citations"), ("search", "list the best passages")):
        sp = sub.add_parser(name, help=help_text)
        sp.add_argument("text", metavar="QUESTION" if name == "ask" else "QUERY")
        common(sp)
        sp.add_argument("-k", type=int, help="passages to retrieve (RAG_K, default 5)")
        sp.add_argument("--mode", choices=["hybrid", "dense", "lexical"], help="retrieval mode")
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "ask":
            sp.add_argument("--llm", action="store_true",
                            help="answer in a language model's words, every sentence verified (RAG_LLM_URL)")

    sp = sub.add_parser("remove", help="remove one document by id")
    sp.add_argument("doc_id")
    common(sp)

    sp = sub.add_parser("stats", help="what the index holds")
    common(sp)
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("eval", help="evaluate on a question set")
    sp.add_argument("dataset", metavar="DATASET")
    common(sp)
    sp.add_argument("--limit", type=int, help="random sample of N questions")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--modes", default="hybrid", help="comma-separated: hybrid,dense,lexical")
    sp.add_argument("--holdout-docs", type=float, default=0.0, help="fraction of articles left out")
    sp.add_argument("--split", help="only the questions of this split (eval/natural: tune or report)")
    sp.add_argument("--out", default="eval-out", help="report folder (default eval-out)")
    sp.add_argument("-k", type=int, default=10, help="passages retrieved per question (default 10)")
    sp.add_argument("--llm", action="store_true",
                    help="also run every mode through the language model (RAG_LLM_URL), as <mode>+llm")
    sp.add_argument("--quiet", action="store_true")
    for name, handler in _COMMANDS.items():
        sub.choices[name].set_defaults(handler=handler)
    for entry in entry_points(group="rag.commands"):
        entry.load()(sub, common)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except RagError as e:
        print(f"rag {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rag {args.command}: interrupted; the index is unchanged unless a summary was printed",
              file=sys.stderr)
        return 130


def assistant_from_args(args: argparse.Namespace, **extra: Any):
    """The Assistant for a command's --index/--model/--encoder (and `extra` settings)."""
    from rag.assistant import Assistant

    return Assistant.open(args.index, model=args.model, encoder=args.encoder, **extra)


def _ingest(args: argparse.Namespace) -> int:
    assistant = assistant_from_args(args, chunk_tokens=args.chunk_tokens, chunk_overlap=args.chunk_overlap,
                           max_file_mb=args.max_file_mb, url_timeout=args.url_timeout)
    report = assistant.ingest(args.paths, rebuild=args.rebuild, prune=args.prune, show_progress=not args.quiet)
    for message in report.skipped:
        print(f"skipped: {message}", file=sys.stderr)
    for message in report.warnings:
        print(f"warning: {message}", file=sys.stderr)
    # Every file skipped and nothing indexed is a failure; a few bad files among good ones are not.
    failed = bool(report.skipped) and not (report.added or report.updated or report.unchanged)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif failed:  # no "-> INDEX": nothing was written there
        print(f"{report.summary()}; nothing was indexed")
    else:
        print(f"{report.summary()} -> {assistant.folder.path}")
    return 2 if failed else 0


def _ask(args: argparse.Namespace) -> int:
    from rag.conversation import corrected_question

    # The draft is streamed to stderr, so stdout holds only the verified answer (and --json stays JSON).
    streamed: list[str] = []

    def on_draft(piece: str) -> None:
        if not streamed:
            print("draft: ", end="", file=sys.stderr)
        streamed.append(piece)
        print(piece, end="", file=sys.stderr, flush=True)

    assistant = assistant_from_args(args)
    answer = assistant.ask(args.text, k=args.k, mode=args.mode, llm=args.llm,
                           on_draft=on_draft if args.llm and sys.stderr.isatty() else None)
    if streamed:
        print("\n", file=sys.stderr)
    for doc_id, source in assistant.changed_sources(answer.citations):
        # The quote is the indexed text; the file's offsets may now point elsewhere (found by review).
        print(f"warning: {source} changed or was removed since it was indexed, so its citations' "
              f"offsets may not match it; run `rag ingest` on it again ({doc_id})", file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    who = answer.answerer
    read_as = corrected_question(answer.question, answer.asked)
    if read_as is not None:
        print(f"(read as: {read_as})", file=sys.stderr)
    if who.fallback is not None:
        print(f"({who.message})", file=sys.stderr)
    print(answer.answer)
    for s in answer.sentences:
        if not s.supported:
            print(f"  not supported by the articles, left out: {s.text} ({s.problem})")
    for c in answer.citations:
        page = f" page {c.page}," if c.page is not None else ""
        print(f"  [{c.n}] {c.title} — {c.source}{page} chars {c.start}-{c.end}")
    if answer.abstained:
        for h in answer.hits[:3]:
            print(f"  nearest: {h.chunk.title} chars {h.chunk.start}-{h.chunk.end}: {h.chunk.text[:100]}…")
    return 0


def _search(args: argparse.Namespace) -> int:
    hits = assistant_from_args(args).search(args.text, k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return 0
    for h in hits:
        print(f"{h.rank:>2}. {h.score:.3f}  {h.chunk.title} [{h.chunk.doc_id} {h.chunk.start}-{h.chunk.end}]")
        print(f"    {h.chunk.text[:160]}…")
    return 0


def _remove(args: argparse.Namespace) -> int:
    assistant_from_args(args).remove(args.doc_id)
    print(f"removed {args.doc_id}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    assistant = assistant_from_args(args)
    stats = assistant.stats()
    if args.json:
        print(json.dumps({**stats, "documents_list": assistant.documents()}, indent=2, default=str))
        return 0
    print(f"{stats['index']}: {stats['documents']} documents, {stats['chunks']} chunks, "
          f"model {stats['model']['id']} ({stats['model']['dim']}d), updated {stats['updated_at']}")
    for d in assistant.documents():
        print(f"  {d['id']}  {d['n_chunks']} chunks  {d['title'][:70]}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from rag.eval.report import write_report
    from rag.eval.run import evaluate

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    report = evaluate(args.dataset, args.index, limit=args.limit, seed=args.seed, modes=modes,
                      holdout_docs=args.holdout_docs, k=args.k, show_progress=not args.quiet,
                      split=args.split, model=args.model, encoder=args.encoder, llm=args.llm)
    table = write_report(report, Path(args.out))
    print(table)
    print(f"\nreport: {Path(args.out) / 'report.md'}")
    return 0


_COMMANDS = {"ingest": _ingest, "ask": _ask, "search": _search, "remove": _remove, "stats": _stats,
             "eval": _eval}


if __name__ == "__main__":
    raise SystemExit(main())
