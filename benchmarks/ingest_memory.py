"""Peak memory of reading and chunking one large text file (no embedding), in a fresh process.

A review found an ingest of a 17 MB text file at 3.7 GB resident and growing: the cleaner kept
three maps of raw offsets as lists of ints, 36 bytes a character. They are array("q") since
(rag/ingest/mapped.py). This writes a seeded file of one short sentence per line (60,000
lines, 4.2 MB), reads and chunks it as an ingest does, and prints the peak resident size of
the process that did it (ru_maxrss; the interpreter and imports included).

    .venv/bin/python benchmarks/ingest_memory.py [--lines 60000]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = "the river flows north and the city grows quickly while people build houses near water".split()


def write_file(path: Path, lines: int) -> None:
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as f:
        for _ in range(lines):
            f.write(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + ".\n")


def measure(path: Path) -> None:
    """In the child: read and chunk `path`, print what it cost."""
    sys.path.insert(0, str(ROOT))
    from rag.ingest import read_article
    from rag.text.chunking import ChunkingConfig, chunk_article

    t0 = time.perf_counter()
    article = read_article(path, 10**9)
    chunks = chunk_article(path.name, article.title, article.clean, ChunkingConfig())
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mb = path.stat().st_size / 1e6
    print(f"{mb:.1f} MB of text, {sum(len(c.sentences) for c in chunks):,} sentences, {len(chunks):,} chunks: "
          f"read and chunked in {seconds:.1f} s, peak resident {peak_mb:.0f} MB ({peak_mb / mb:.0f} MB per MB of text)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=60_000)
    p.add_argument("--measure", help=argparse.SUPPRESS)  # the child's part
    args = p.parse_args()
    if args.measure:
        measure(Path(args.measure))
        return
    with tempfile.TemporaryDirectory(prefix="rag-ingest-memory-") as tmp:
        path = Path(tmp) / "lines.txt"
        write_file(path, args.lines)
        subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)


if __name__ == "__main__":
    main()
