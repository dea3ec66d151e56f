"""Resident memory of an index loaded from disk, as a server holds it after answering.

    .venv/bin/python benchmarks/loaded_rss.py INDEX_DIR QUESTIONS.json

Prints JSON: memory after imports and the query encoder (int8, small), after `IndexFolder.load`,
and after asking the questions. Resident memory is split the way the kernel counts it:
`anon` is the process's own heap (FAISS lists, BM25 arrays, records, caches) and cannot be
given back; `file` is page cache of the memory-mapped files (vectors.npy, chunks.jsonl,
sentence vectors) that the kernel maps in generously here and reclaims under pressure.
`index_anon_bytes` (after questions minus before loading) is what the 4 GiB target is about.
Also times those questions (int8 query encoder, every chunk read from disk on first use).
Run by benchmarks/query.py in a fresh process per size, so nothing else is in its heap.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

def memory() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) * 1024
    return out


def main(index_dir: str, questions_path: str) -> None:
    import faiss  # noqa: F401  (imports are not the index)

    from rag.assistant import Assistant
    from rag.embed.onnx_int8 import OnnxInt8Embedder

    questions = json.loads(Path(questions_path).read_text())
    embedder = OnnxInt8Embedder()
    embedder.warm_up()
    embedder.embed_query("warm up")
    for q in questions:  # the encoder's buffers grow to the longest question: not the index
        embedder.embed_query(q)
    assistant = Assistant.open(index_dir, embedder=embedder)
    assistant.answerer.warm_up()  # the reranker's model is not the index either
    gc.collect()
    before = memory()
    snap = assistant.require_snapshot()
    loaded = memory()
    ms = []
    for q in questions:
        t0 = time.perf_counter()
        assistant.ask(q, k=10)
        ms.append((time.perf_counter() - t0) * 1000)
    after = memory()
    print(json.dumps({"chunks": len(snap.chunks), "before": before, "loaded": loaded, "after_questions": after,
                      "index_anon_bytes": after["RssAnon"] - before["RssAnon"],
                      "index_file_bytes": after["RssFile"] - before["RssFile"],
                      # First use of each chunk parses its JSON line: these are cold-cache latencies.
                      "ask_ms_p50": float(np.percentile(ms, 50)), "ask_ms_p95": float(np.percentile(ms, 95))}))


if __name__ == "__main__":
    main(*sys.argv[1:])
