"""Shared helpers for the speed benchmarks: the SQuAD dev corpus, tables, JSON, memory.

Benchmarks print a table and write one JSON file each under bench-out/; they are scripts, not
tests, and they never assert a target (they print it next to the measured value).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev"
DEFAULT_OUT = ROOT / "bench-out"
SEED_DOC = "north-korea-kursk-icbm"  # the seed article's id in eval/natural


def seed_questions() -> list[str]:
    """The natural question set's questions on the seed article, in the file's order."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "natural" / "questions.jsonl").read_text().splitlines() if line]
    return [r["question"] for r in rows if r.get("doc_id") == SEED_DOC]


def spin_forever() -> None:
    """A CPU-bound loop: run in a process beside a benchmark (--busy), as another job on the cores."""
    while True:
        pass


def machine() -> str:
    cpu = cpuinfo("model name") or platform.processor() or platform.machine()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu} ({int8_instructions()}), {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
            f"CPU available {cpu_available():.0%}")


@functools.cache
def cpu_available(seconds: float = 2.0, stall: float = 0.005) -> float:
    """The share of wall time a busy thread really ran, measured now: one thread spins for
    `seconds` and every pause longer than `stall` counts as time the machine took away.

    Why: on a virtual machine (2026-11-28, a Firecracker VM, "Intel Xeon Processor", 2 cores) a
    spinning Python loop was paused 45 times in 10 s, 5.3 to 5.8 s in all, while the guest's own
    clock said the thread had run 9.5 s: the host ran the vCPU about half the time and the guest's
    steal counter did not show it. Every timing there is about twice as slow and has a tail of
    pauses of 0.2 to 0.7 s (the cross-encoder on the same 4 pairs, 140 calls: p50 19 ms, p90
    375 ms). A benchmark's header says how much CPU it had, so runs on such a machine are not
    read as the code's speed."""
    start = last = time.perf_counter()
    lost = 0.0
    while (now := time.perf_counter()) - start < seconds:
        if now - last > stall:
            lost += now - last
        last = now
    return max(0.0, 1.0 - lost / (now - start))


def cpuinfo(field: str) -> str | None:
    """The value of the first `field` line of /proc/cpuinfo: "" when it has no such line, None
    when it cannot be read."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(field)), "")


def int8_instructions() -> str:
    """The widest int8 dot-product instructions the CPU has. Two machines, both "AMD EPYC, 2
    cores", ran the int8 models 3.5 to 4 times apart. The slower one has AVX2 and no VNNI, and
    the other's flags were not recorded (README "Speed and scale"). So every timing says which.
    Without VNNI the library asks for exact int8 products (rag/int8.py), a little slower."""
    from rag import int8

    present = int8.cpu_flags()
    if present is None:
        return "instruction set unknown"
    for flag, name in (("avx512_vnni", "AVX-512 VNNI"), ("avx_vnni", "AVX-VNNI"), ("avx512f", "AVX-512 without VNNI"),
                       ("avx2", "AVX2, no VNNI")):
        if flag in present:
            return name
    return "no AVX2"


def stamp() -> dict[str, str]:
    return {"date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(), "machine": machine(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}


def article_paths(squad: Path, limit: int | None = None) -> list[Path]:
    paths = sorted((squad / "articles").glob("*.txt"))
    if not paths:
        raise SystemExit(f"no articles in {squad / 'articles'}; pass --squad PATH (SQuAD dev folder)")
    return paths[:limit] if limit else paths


def real_chunks(paths: Sequence[Path]):
    """The chunks `rag ingest` makes of these files (doc id = file name, as for a folder ingest)."""
    from rag.text.chunking import ChunkingConfig, chunk_article
    from rag.ingest import read_article

    config = ChunkingConfig()
    chunks = []
    for p in paths:
        article = read_article(p, 50_000_000)
        chunks.extend(chunk_article(p.name, article.title, article.clean, config))
    return chunks


@dataclass(frozen=True)
class Question:
    text: str
    doc_id: str  # file name, as in the index
    spans: tuple[tuple[int, int], ...]


def load_questions(squad: Path, doc_ids: set[str] | None, n: int | None, seed: int) -> list[Question]:
    out = []
    with open(squad / "questions.jsonl", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            doc = f"{q['doc_id']}.txt"
            if doc_ids is None or doc in doc_ids:
                out.append(Question(q["question"], doc, tuple((s, s + len(a)) for a, s in
                                                              zip(q["answers"], q["answer_start"]))))
    random.Random(seed).shuffle(out)
    return out[:n] if n else out


def covers(chunk, q: Question) -> bool:
    return chunk.doc_id == q.doc_id and any(chunk.start <= s and e <= chunk.end for s, e in q.spans)


def model_tokens(texts: Sequence[str]) -> int:
    """Word pieces the encoder actually runs on (its tokenizer, truncated at max_seq_length)."""
    from tokenizers import Tokenizer

    from rag.embed import resolve_model_path
    from rag.embed.onnx_int8 import _max_seq_length

    model_dir = Path(resolve_model_path("all-MiniLM-L6-v2"))
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=_max_seq_length(model_dir))
    tok.no_padding()
    return sum(len(e.ids) for e in tok.encode_batch(list(texts)))


def cached_embeddings(texts: Sequence[str], embedder, out: Path, tag: str) -> np.ndarray:
    """Embeddings of `texts`, cached in out/cache by content: re-runs do not pay for them again."""
    h = hashlib.sha256(embedder.model_id.encode())
    for t in texts:
        h.update(t.encode())
        h.update(b"\0")
    path = out / "cache" / f"{tag}-{len(texts)}-{h.hexdigest()[:16]}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embedder.embed_documents(list(texts))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def percentile(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), p)) if len(values) else float("nan")


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_memory(pid: int | None = None, fields: Sequence[str] = ("VmRSS",)) -> dict[str, int]:
    """Bytes of each /proc status field (VmRSS, RssAnon, RssFile...) summed over a process
    (default: this one) and all its descendants: Milvus Lite runs its engine as a child process
    (the `milvus` binary the milvus-lite wheel ships), which holds the collection. Children are
    found by scanning /proc for parent ids."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # after "(comm)": state, ppid
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    total = dict.fromkeys(fields, 0)
    todo = [root]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in total:
                    total[key] += int(value.split()[0]) * 1024
        except OSError:
            continue
    return total


def tree_rss_bytes(pid: int | None = None) -> int:
    """Resident memory of a process and its descendants (tree_memory)."""
    return tree_memory(pid)["VmRSS"]


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def write_json(out: Path, name: str, data: Any) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


class Timer:
    """Wall seconds, and CPU seconds of this process (all threads)."""

    seconds = 0.0
    cpu = 0.0

    def __enter__(self) -> Timer:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start
