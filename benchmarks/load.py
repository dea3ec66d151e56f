"""Load benchmark: concurrent clients asking unique questions over HTTP while articles are uploaded.

A real `rag serve` process (the benchmark is only the client side, so client work does not
take the server's CPU time slices in the same interpreter) on an index of the seed article plus
SQuAD dev articles. Each phase runs for a fixed time:

  steady      N clients, one question after another, while another client uploads articles
  overload    M >> N clients against the default bound on questions in the server (503 + Retry-After)
  unbounded   the same M clients against a server started with no bound (RAG_UI_MAX_QUESTIONS=0)

For every phase: requests/s, latency p50/p95/p99 of answered questions, errors (anything but
200, and 503 in the bounded phases; transport errors too), 503s, uploads and their errors,
and invalid citations (every citation of every answer is checked against its source file
after the phase, so checking does not slow the clients). Clients honour Retry-After.

    python benchmarks/load.py [--quick] [--squad PATH] [--out bench-out]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_OUT, DEFAULT_SQUAD, ROOT, article_paths, percentile, stamp  # noqa: E402

SEED_DIR = ROOT / "seeds"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`rag serve` in its own process, on a free port, until stopped."""

    def __init__(self, index: Path, max_questions: int | None = None) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("RAG_UI_USERNAME", None)
        env.pop("RAG_UI_PASSWORD", None)
        if max_questions is not None:
            env["RAG_UI_MAX_QUESTIONS"] = str(max_questions)
        self.proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(index),
                                      "--port", str(self.port)], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"rag serve exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    # One question loads the model's lazy parts before the clock starts.
                    httpx.post(f"{self.url}/api/ask", json={"question": "warm up"}, timeout=60)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("rag serve did not become ready")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def questions_for(squad: Path, doc_ids: set[str]) -> list[str]:
    """Every dev question about the indexed articles, each once (the order is the file's)."""
    seen, out = set(), []
    with open(squad / "questions.jsonl", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if f"{q['doc_id']}.txt" in doc_ids and q["question"] not in seen:
                seen.add(q["question"])
                out.append(q["question"])
    return out


class Questions:
    """Unique questions: the dev questions first, then numbered variants of them."""

    def __init__(self, base: list[str]) -> None:
        self.base, self.i = base, 0

    def next(self) -> str:
        q = self.base[self.i % len(self.base)]
        rounds = self.i // len(self.base)
        self.i += 1
        return q if rounds == 0 else f"{q} ({rounds})"


async def run_phase(name: str, url: str, clients: int, seconds: float, questions: Questions,
                    uploads: list[Path], bounded: bool) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    answers: list[dict[str, Any]] = []
    upload_results: Counter[str] = Counter()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)

    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        async def client() -> None:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    r = await http.post("/api/ask", json={"question": questions.next()})
                except httpx.HTTPError as e:
                    statuses[f"transport:{type(e).__name__}"] += 1
                    continue
                if r.status_code == 200:
                    latencies.append(time.perf_counter() - t0)
                    answers.append(r.json())
                statuses[str(r.status_code)] += 1
                if r.status_code == 503:
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))

        async def uploader() -> None:
            for path in uploads:
                if time.monotonic() >= stop_at:
                    break
                try:
                    r = await http.post("/api/documents", files=[("files", (path.name, path.read_bytes(),
                                                                           "text/plain"))], timeout=300)
                    upload_results["ok" if r.status_code == 200 else f"error {r.status_code}"] += 1
                except httpx.HTTPError as e:
                    upload_results[f"error {type(e).__name__}"] += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)), uploader())
        elapsed = time.monotonic() - started
        load_1min = os.getloadavg()[0]  # this machine may be shared: other work shows here

    invalid = invalid_citations(answers)
    ok = statuses.get("200", 0)
    refused = statuses.get("503", 0)
    errors = sum(n for s, n in statuses.items() if s not in ("200", "503")) + (0 if bounded else refused)
    return {"phase": name, "clients": clients, "seconds": round(elapsed, 1), "answered": ok,
            "answered_per_s": round(ok / elapsed, 1), "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
            "errors": errors, "503": refused, "uploads_ok": upload_results.get("ok", 0),
            "upload_errors": sum(n for k, n in upload_results.items() if k != "ok"),
            "citations": sum(len(a["citations"]) for a in answers), "invalid_citations": invalid,
            "loadavg_1m": round(load_1min, 1),
            "statuses": dict(statuses)}


def invalid_citations(answers: list[dict[str, Any]]) -> int:
    from rag.cite.verify import citation_problem_for
    from rag.types import Citation

    raw_cache: dict[str, str] = {}
    bad = 0
    for a in answers:
        for c in a["citations"]:
            citation = Citation(**c)
            if citation.source not in raw_cache:
                raw_cache[citation.source] = Path(citation.source).read_bytes().decode("utf-8")
            if citation_problem_for(citation, raw_cache[citation.source]) is not None:
                bad += 1
    return bad


def ingest(index: Path, paths: list[Path]) -> None:
    corpus = index.parent / "corpus"
    corpus.mkdir()
    for p in paths:
        shutil.copy(p, corpus / p.name)
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--index", str(index),
                           "--quiet"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rag ingest failed: {done.stderr[-2000:]}")


def table(rows: list[dict[str, Any]]) -> str:
    cols = ["phase", "clients", "seconds", "answered", "answered_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms",
            "errors", "503", "uploads_ok", "upload_errors", "citations", "invalid_citations", "loadavg_1m"]
    widths = {c: max(len(c), *(len(f"{r[c]:,}" if isinstance(r[c], int) else str(r[c])) for r in rows))
              for c in cols}
    fmt = lambda r, c: (f"{r[c]:,}" if isinstance(r[c], int) else str(r[c]))  # noqa: E731
    lines = ["  ".join(c.rjust(widths[c]) for c in cols), "  ".join("-" * widths[c] for c in cols)]
    lines += ["  ".join(fmt(r, c).rjust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--quick", action="store_true", help="shorter phases, smaller index (about 2 minutes)")
    p.add_argument("--articles", type=int, help="SQuAD articles in the index (default 10, quick 4)")
    p.add_argument("--uploads", type=int, help="articles uploaded during each phase (default 4, quick 2)")
    p.add_argument("--seconds", type=float, help="length of each phase (default 60, quick 15)")
    p.add_argument("--clients", type=int, default=4, help="clients in the steady phase (default 4)")
    p.add_argument("--overload-clients", type=int, default=64, help="clients in the overload phases")
    p.add_argument("--bound", type=int, help="RAG_UI_MAX_QUESTIONS of the bounded phases (default: the server's)")
    p.add_argument("--phases", default="steady,overload,unbounded", help="which phases to run")
    args = p.parse_args()
    n_articles = args.articles or (4 if args.quick else 10)
    n_uploads = args.uploads if args.uploads is not None else (2 if args.quick else 4)
    seconds = args.seconds or (15 if args.quick else 60)

    paths = article_paths(args.squad)
    indexed = paths[:n_articles]
    to_upload = paths[n_articles:n_articles + 3 * n_uploads]
    base = questions_for(args.squad, {p.name for p in indexed})
    questions = Questions(base)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        index = Path(tmp) / "index"
        t0 = time.monotonic()
        ingest(index, [*SEED_DIR.iterdir(), *indexed])
        print(f"index: seed + {len(indexed)} SQuAD articles in {time.monotonic() - t0:.0f} s; "
              f"{len(base)} distinct questions", flush=True)
        for name, clients, bound, batch in (
                ("steady", args.clients, args.bound, to_upload[:n_uploads]),
                ("overload", args.overload_clients, args.bound, to_upload[n_uploads:2 * n_uploads]),
                ("unbounded", args.overload_clients, 0, to_upload[2 * n_uploads:])):
            if name not in args.phases.split(","):
                continue
            server = Server(index, max_questions=bound)
            if name == "overload":
                bound_used = bound if bound is not None else f"server default ({2 * (os.cpu_count() or 1)})"
                print(f"overload phase: RAG_UI_MAX_QUESTIONS = {bound_used}", flush=True)
            try:
                server.wait_ready()
                row = asyncio.run(run_phase(name, server.url, clients, seconds, questions, batch,
                                            bounded=bound != 0))
            finally:
                server.stop()
            rows.append(row)
            print(f"{name}: {row['answered']} answered, {row['503']} refused (503), p99 {row['p99_ms']} ms, "
                  f"{row['errors']} errors, {row['invalid_citations']} invalid citations", flush=True)
    report = {**stamp(), "quick": args.quick, "articles": n_articles, "phase_seconds": seconds,
              "bound": args.bound, "phases": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nload: /api/ask with unique questions while articles are uploaded ({report['date']})")
    print(f"{report['machine']}; index: seed + {n_articles} SQuAD dev articles; phases of {seconds:g} s")
    print(table(rows))
    print("errors: non-200 answers other than 503 in the bounded phases, and transport errors; "
          "targets: 0 errors, 0 invalid citations; loadavg_1m: the machine's 1-minute load at the phase end")
    print(f"wrote {args.out / 'load.json'}")
    failed = any(r["errors"] or r["invalid_citations"] or r["upload_errors"] for r in rows if r["phase"] != "unbounded")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
