"""Chat latency with a language model: first draft token on screen, and the whole verified answer.

    python benchmarks/llm_latency.py [--model qwen2.5-coder-1.5b] [--llm-url URL] [--out bench-out]

Starts the local model server (rag/llm_server.py; the 1.5B model by default, assembled and
checked on first use) unless --llm-url names one, and a real `rag serve` app (ui.server) on an
index of the seed article, i.e. what `make run` serves. Each question is asked the way the chat
asks: the Gradio event the page sends (POST /gradio_api/queue/join, then its event stream);
"first token" is the first `process_generating` message (the draft being drawn), "total" the
verified answer. Questions: the chat's examples and every natural-set question on the seed
article, after one warm-up question (which loads the model's fixed instructions into the
server's cache; every later question reuses them). The statistics count the questions the
model was asked (not those the abstention gate answered alone in milliseconds).
Target (issue 9): first token on screen <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import DEFAULT_OUT, percentile, seed_questions, stamp, table, write_json  # noqa: E402

TARGET_FIRST_S = 5.0


def questions() -> list[str]:
    from ui.app import EXAMPLES

    return list(dict.fromkeys(EXAMPLES + seed_questions()))


def chat_event(http, fn_index: int, trigger: int, question: str) -> tuple[float | None, float, dict]:
    """(first process_generating s, completed s, answer dict) of one chat question."""
    session = uuid.uuid4().hex[:11]
    t0 = time.perf_counter()
    r = http.post("/gradio_api/queue/join", json={"data": [question, 5, "hybrid", True, []], "event_data": None,
                                                  "fn_index": fn_index, "trigger_id": trigger, "session_hash": session})
    r.raise_for_status()
    first = None
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=300) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            m = json.loads(line[5:])
            if m.get("msg") == "process_generating" and first is None:
                first = time.perf_counter() - t0
            if m.get("msg") == "process_completed":
                if not m.get("success"):
                    raise RuntimeError(f"chat event failed: {m}")
                return first, time.perf_counter() - t0, m["output"]["data"][2]
    raise RuntimeError("the chat's event stream ended early")


def warm_up(http, question: str) -> None:
    t0 = time.perf_counter()
    first, event = None, None
    with http.stream("POST", "/api/ask", json={"question": question, "llm": True, "stream": True}, timeout=300) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
                if event == "draft" and first is None:
                    first = time.perf_counter() - t0
            elif line.startswith("data: ") and event == "answer":
                return
            elif line.startswith("data: ") and event == "error":
                raise RuntimeError(line)
    raise RuntimeError("the answer stream ended early")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="qwen2.5-coder-1.5b")
    p.add_argument("--llm-url", help="an OpenAI-compatible server to use instead of starting the local model")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args()

    import httpx

    from rag import Assistant
    from rag.llm_server import LocalServer, model_path
    from ui.server import ServerThread, create_app

    sys.path.insert(0, str(ROOT / "tests"))
    from gradio_queue import event_of

    local = None
    url = args.llm_url
    if url is None:
        local = LocalServer(model_path(args.model), alias=args.model)
        t0 = time.perf_counter()
        url = local.start()
        print(f"model server {args.model} up in {time.perf_counter() - t0:.1f} s at {url}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="rag-llm-latency-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(ROOT / "seeds", corpus)
        assistant = Assistant.open(work / "index", llm_url=url)
        assistant.ingest([corpus])
        assistant.warm_up()
        rows = []
        with ServerThread(create_app(assistant)) as app_url, httpx.Client(base_url=app_url, timeout=300) as http:
            fn_index, trigger = event_of(http, "ask")
            warm_up(http, "What did Japan say about the missile?")  # the instructions get cached
            for q in questions():
                c_first, c_total, answer = chat_event(http, fn_index, trigger, q)
                who = answer["answerer"]
                rows.append({"question": q[:58], "chat_first_s": c_first, "chat_total_s": c_total,
                             "asked": who["fallback"] != "not_asked",
                             "answerer": who["kind"] if not who["fallback"] else f"extr. ({who['fallback']})"})
                print(f"  {q[:70]!r}: first {c_first if c_first is None else round(c_first, 2)} s, "
                      f"{c_total:.1f} s whole; {answer['answer'][:90]!r}", flush=True)
        asked = [r for r in rows if r["asked"]]
        firsts = [r["chat_first_s"] for r in asked if r["chat_first_s"] is not None]
        summary = {"questions": len(rows), "asked": len(asked), "model": args.model if local else url,
                   "chat_first_s_p50": percentile(firsts, 50), "chat_first_s_p95": percentile(firsts, 95),
                   "chat_first_s_max": max(firsts), "chat_total_s_p50": percentile([r["chat_total_s"] for r in asked], 50),
                   "target_first_s": TARGET_FIRST_S}
        info = stamp()
        threads = (f"{local.threads} generation thread(s), {local.batch_threads} prompt-reading, weights "
                   f"{'repacked' if local.repack else 'as stored'}" if local
                   else "threads: the server's own")
        print(f"\nllm latency: chat with the language model ({info['date']})\n{info['machine']}; model {summary['model']}, "
              f"{threads}, seed article index")
        print(table(rows, ["question", "chat_first_s", "chat_total_s", "answerer"]))
        print(f"\nfirst token on screen (chat): p50 {summary['chat_first_s_p50']:.2f} s, p95 "
              f"{summary['chat_first_s_p95']:.2f} s, max {summary['chat_first_s_max']:.2f} s over the {len(firsts)} questions "
              f"the model was asked "
              f"(target <= {TARGET_FIRST_S:g} s); whole verified answer p50 {summary['chat_total_s_p50']:.1f} s")
        print(f"wrote {write_json(args.out, 'llm_latency.json', {**info, 'summary': summary, 'rows': rows})}")
    finally:
        if local is not None:
            local.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
