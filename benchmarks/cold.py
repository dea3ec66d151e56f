"""Cold start: seconds from `rag ask` process start to its printed answer, on the seed index.

Each run is a fresh process (Python start, imports, model load, index load, one question).
The seed index is built once (not timed). The OS file cache is warm after the first run, as
it is for a user who asks a second question; the first run is reported too.

    python benchmarks/cold.py [--runs 3] [--out bench-out]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_OUT, ROOT, stamp, table, write_json  # noqa: E402

TARGET_S = 10.0
QUESTION = "How long did the North Korean missile stay airborne?"


def rag_command() -> list[str]:
    exe = Path(sys.executable).with_name("rag")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "rag.cli"]


def time_ask(index: Path, encoder: str) -> tuple[float, str]:
    env = {**os.environ, "RAG_ENCODER": encoder}
    start = time.perf_counter()
    done = subprocess.run([*rag_command(), "ask", QUESTION, "--index", str(index)], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"rag ask failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, done.stdout.strip().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    index = args.out / "cache" / "seed-index"
    shutil.rmtree(index, ignore_errors=True)  # always this program's format and analyzer
    subprocess.run([*rag_command(), "ingest", str(ROOT / "seeds"), "--index", str(index), "--quiet"],
                   check=True, capture_output=True)
    rows = []
    for encoder in ("torch", "onnx-int8"):
        time_ask(index, encoder)  # first run of this encoder: OS cache, (int8) one-time ONNX export
        times, answer = [], ""
        for _ in range(args.runs):
            s, answer = time_ask(index, encoder)
            times.append(s)
        rows.append({"encoder": encoder, "runs": args.runs, "median_s": float(np.median(times)),
                     "min_s": min(times), "max_s": max(times), "target": f"<= {TARGET_S:.0f} s",
                     "answer": answer[:60] + "…"})
    result = {**stamp(), "seconds_to_first_answer": rows[0]["median_s"], "encoder": "torch",
              "int8_seconds_to_first_answer": rows[1]["median_s"], "rows": rows, "target_s": TARGET_S,
              "question": QUESTION}
    print(f"\ncold start: `rag ask` in a new process on the seed index ({result['date']})")
    print(table(rows, ["encoder", "runs", "median_s", "min_s", "max_s", "target", "answer"]))
    print(f"wrote {write_json(args.out, 'cold.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
