"""Sentence splitting time on long paragraphs (rag/text/sentences.py).

Splitting once searched the whole paragraph so far at every sentence end, so its time grew with
the square of a paragraph's length: a review timed 40 s for one paragraph of 2,000 sentences,
and a text file with one sentence per line and no blank line is such a paragraph. This prints
the time for one paragraph of N sentences (with abbreviations) and for SQuAD dev's 48 articles.

    .venv/bin/python benchmarks/split_speed.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.text.sentences import split_sentences  # noqa: E402

SENTENCE = "Dr. Quell said the U.S. bridge is 340 m. long, e.g. longer than most. "


def main() -> None:
    print("sentences in one paragraph   chars      split s")
    for n in (500, 2_000, 8_000):
        text = SENTENCE * n
        t0 = time.perf_counter()
        spans = split_sentences(text)
        print(f"{n:>26,}  {len(text):>7,}  {time.perf_counter() - t0:>10.3f}   ({len(spans):,} sentences)")
    articles = sorted((ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "articles").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in articles]
    t0 = time.perf_counter()
    for text in texts:
        split_sentences(text)
    print(f"SQuAD dev's {len(texts)} articles ({sum(map(len, texts)):,} chars): {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
