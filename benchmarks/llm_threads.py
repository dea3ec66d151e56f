"""llama.cpp's thread settings for the local model: first draft and whole answer, alternating.

    .venv/bin/python benchmarks/llm_threads.py [--busy] [--questions 16] [--settings 1/2/repack,1/2/plain]

One local server per setting (rag/llm_server.py), all loaded at once; each question is asked
through `Assistant.ask(llm=True)` of every setting in turn, the order alternating from question
to question, so the machine's noise falls on all settings alike. A setting is (generation
threads, prompt-reading threads, weights repacked for llama.cpp's CPU kernels or as stored);
with more than one thread, llama.cpp's threads sleep at its barriers instead of spinning
(rag/llm_server.py `run`). Each server holds the model in memory (1.1 GB for the 1.5B model).
"first draft" is the question to the model's first words (`on_draft`), "whole" the verified
answer. Questions: the natural set's on the seed article (eval/natural), over an index of
seeds/. Only questions the model was asked by every setting count (the abstention gate answers
some alone). With --busy, one CPU-bound process runs beside it, as another job on the same two
cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import percentile, seed_questions, spin_forever, stamp, table  # noqa: E402

# (generation threads, prompt-reading threads, llama.cpp repacks the weights for its CPU kernels)
SETTINGS = ((1, 1, True), (1, 2, True), (2, 2, True), (1, 2, False), (2, 2, False))


def parse_settings(text: str) -> tuple[tuple[int, int, bool], ...]:
    """'1/2/repack,1/2/plain' -> ((1, 2, True), (1, 2, False)); a mistyped setting exits with a
    message instead of silently meaning "plain"."""
    settings = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*(\d+)/(\d+)/(repack|plain)\s*", item)
        if not m:
            raise SystemExit(f"--settings: {item!r} is not THREADS/PROMPT_THREADS/repack|plain, e.g. 1/2/plain")
        settings.append((int(m[1]), int(m[2]), m[3] == "repack"))
    return tuple(settings)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="qwen2.5-coder-1.5b")
    p.add_argument("--questions", type=int, default=16)
    p.add_argument("--settings", help="which settings, e.g. '1/2/repack,1/2/plain' (default: all)")
    p.add_argument("--busy", action="store_true", help="one CPU-bound process beside the benchmark")
    args = p.parse_args()

    from rag import Assistant
    from rag.llm_server import LocalServer, model_path

    settings = parse_settings(args.settings) if args.settings else SETTINGS
    questions = seed_questions()[: args.questions]
    work = Path(tempfile.mkdtemp(prefix="rag-llm-threads-"))
    servers = {s: LocalServer(model_path(args.model), alias=args.model, threads=s[0], batch_threads=s[1], repack=s[2])
               for s in settings}
    hog = None
    try:
        shutil.copytree(ROOT / "seeds", work / "corpus")
        Assistant.open(work / "index").ingest([work / "corpus"])
        assistants = {s: Assistant.open(work / "index", llm_url=server.start()) for s, server in servers.items()}
        for a in assistants.values():
            a.warm_up()
            a.ask("What did Japan say about the missile?", llm=True)  # the instructions get cached
        hog = multiprocessing.Process(target=spin_forever, daemon=True) if args.busy else None
        if hog:
            hog.start()
        times: dict[tuple[int, int, bool], list[tuple[float, float]]] = {s: [] for s in settings}
        for i, q in enumerate(questions):
            got = {}
            for s in (settings if i % 2 == 0 else settings[::-1]):
                t0 = time.perf_counter()
                first: list[float] = []
                assistants[s].ask(q, llm=True, on_draft=lambda _: first or first.append(time.perf_counter() - t0))
                got[s] = (first[0], time.perf_counter() - t0) if first else None
            print(f"  {q[:60]!r}: " + ", ".join(f"{s}: {'-' if v is None else f'{v[0]:.2f} / {v[1]:.2f} s'}"
                                              for s, v in got.items()), flush=True)
            if all(v is not None for v in got.values()):
                for s, v in got.items():
                    times[s].append(v)
    finally:
        if hog:
            hog.terminate()
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    info = stamp()
    rows = [{"generation_threads": s[0], "prompt_threads": s[1], "weights": "repacked" if s[2] else "as stored",
             "questions": len(v),
             "first_draft_s_p50": percentile([f for f, _ in v], 50), "first_draft_s_p95": percentile([f for f, _ in v], 95),
             "whole_s_p50": percentile([w for _, w in v], 50)} for s, v in times.items()]
    print(f"\nllm threads: {args.model}, seed article, settings alternating ({info['date']})\n{info['machine']}"
          f"{'; one busy process beside it' if args.busy else ''}")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
