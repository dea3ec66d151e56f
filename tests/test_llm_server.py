"""A real language model server, started by the tests: SmolLM2-135M through xllamacpp.

The model is small and fast (about a second an answer) and writes poor answers, so these tests
check what must hold whatever a model writes: every answer is non-empty, every citation is an
exact raw span, every sentence in an answer is supported, a fallback says why; the draft
streams; the API, the OpenAI-compatible endpoint, the CLI and the chat all carry it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from types import SimpleNamespace

import httpx
import pytest

from conftest import SEED_FILE, assert_citations_verified, make_assistant
from rag.answer.generative import FALLBACKS
from rag.types import Citation
from ui.server import ServerThread, create_app

pytestmark = pytest.mark.slow

QUESTIONS = ["How long did the missile stay airborne?", "How many North Korean troops have reached the Kursk region?",
             "How high did the missile go?", "Who is the U.S. Secretary of State?"]


def check_any_answer(answer) -> None:
    """What holds for every answer the generative answerer gives, whatever the model wrote."""
    assert answer.answer.strip()
    assert_citations_verified(answer)
    who = answer.answerer
    if who.kind == "generative":
        assert who.fallback is None and who.model
        kept = [s for s in answer.sentences if s.supported]
        assert kept or answer.abstained
        for s in answer.sentences:
            assert (s.text in answer.answer) == s.supported, s
    else:
        assert who.fallback in FALLBACKS and who.message
        assert all(not s.supported for s in answer.sentences)


@pytest.fixture(scope="module")
def llm_app(seed_assistant, embedder, smollm2_url):
    assistant = make_assistant(seed_assistant.folder.path, embedder, llm_url=smollm2_url)
    with ServerThread(create_app(assistant)) as url:
        with httpx.Client(base_url=url, timeout=120) as http:
            yield SimpleNamespace(url=url, assistant=assistant, http=http)


def test_the_local_server_lists_its_model_answers_with_either_weight_layout_and_stops_even_when_it_ignores_sigterm(
        smollm2_url):
    from rag.llm_server import REPACK, SMOLLM2, LocalServer, model_path

    models = httpx.get(f"{smollm2_url}/models", timeout=10).json()
    assert SMOLLM2 in json.dumps(models)
    # The session's server runs with this CPU's default layout (rag.llm_server.repack_pays); this one the other.
    server = LocalServer(model_path(SMOLLM2), n_ctx=512, repack=not REPACK)
    url = server.start()
    r = httpx.post(f"{url}/chat/completions", timeout=60, json={
        "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 4, "temperature": 0})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"].strip()
    child = server.process
    os.kill(child.pid, signal.SIGSTOP)  # a stopped process does not act on SIGTERM
    t0 = time.perf_counter()
    server.stop(grace=1.0)
    assert time.perf_counter() - t0 < 5 and child.poll() is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_every_answer_is_verified_or_falls_back_with_a_reason(llm_app):
    kinds = set()
    for q in QUESTIONS:
        drafts: list[str] = []
        answer = llm_app.assistant.ask(q, llm=True, on_draft=drafts.append)
        check_any_answer(answer)
        kinds.add(answer.answerer.kind)
        if answer.answerer.fallback != "not_asked":
            assert drafts, "the model's draft was not streamed"
            assert "llm" in answer.timings_ms and "first_token" in answer.timings_ms


def test_api_ask_streams_drafts_then_the_answer(llm_app):
    events = []
    with llm_app.http.stream("POST", "/api/ask", json={"question": QUESTIONS[0], "llm": True, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
    kinds = [e for e, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) <= {"draft"} and kinds.count("draft") >= 1
    d = events[-1][1]
    assert d["answerer"]["kind"] in ("generative", "extractive") and "sentences" in d or d["answerer"]["fallback"]
    citations = [Citation(**c) for c in d["citations"]]
    assert_citations_verified(SimpleNamespace(citations=citations, answer=d["answer"], abstained=d["abstained"]))


def test_api_ask_with_llm_and_bad_input_is_a_plain_400_before_any_stream(llm_app):
    r = llm_app.http.post("/api/ask", json={"question": "  ", "llm": True, "stream": True})
    assert r.status_code == 400 and "empty" in r.json()["error"]
    r = llm_app.http.post("/api/ask", json={"question": QUESTIONS[0], "llm": "yes"})
    assert r.status_code == 422


def test_openai_compatible_endpoint(llm_app):
    models = llm_app.http.get("/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["rag", "rag-llm"]
    for model in ("rag", "rag-llm"):
        r = llm_app.http.post("/v1/chat/completions", json={
            "model": model, "temperature": 0.7, "messages": [{"role": "system", "content": "Be brief."},
                                                             {"role": "user", "content": QUESTIONS[0]}]})
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["object"] == "chat.completion" and d["model"] == model
        content = d["choices"][0]["message"]["content"]
        assert content == d["rag"]["answer"] and d["citations"] == d["rag"]["citations"]
        citations = [Citation(**c) for c in d["citations"]]
        assert_citations_verified(SimpleNamespace(citations=citations, answer=content, abstained=d["rag"]["abstained"]))
        if model == "rag":
            assert d["rag"]["answerer"]["kind"] == "extractive" and "[1]" in content


def test_openai_compatible_streaming(llm_app):
    chunks = []
    with llm_app.http.stream("POST", "/v1/chat/completions", json={
            "model": "rag-llm", "stream": True, "messages": [{"role": "user", "content": [
                {"type": "text", "text": QUESTIONS[0]}]}]}) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    content = "".join(d.get("content", "") for d in deltas)
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop" and content == final["rag"]["answer"]
    assert any("reasoning_content" in d for d in deltas) or final["rag"]["answerer"]["fallback"] == "not_asked"
    # The draft is never part of the content: content is exactly the verified answer.
    assert final["citations"] == final["rag"]["citations"]


def test_openai_compatible_errors(llm_app):
    r = llm_app.http.post("/v1/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400 and "rag-llm" in r.json()["error"]
    r = llm_app.http.post("/v1/chat/completions", json={"model": "rag", "messages": [{"role": "assistant", "content": "x"}]})
    assert r.status_code == 400 and "last message" in r.json()["error"]
    r = llm_app.http.post("/v1/chat/completions", json={"model": "rag"})
    assert r.status_code == 422 and "messages" in r.json()["error"]
    for text in (None, ["a"], 5):  # was asked as the question "None", "['a']", "5"
        r = llm_app.http.post("/v1/chat/completions", json={"model": "rag", "messages": [
            {"role": "user", "content": [{"type": "text", "text": text}]}]})
        assert r.status_code == 400 and "must be a string" in r.json()["error"], (text, r.text)


def test_follow_up_through_the_openai_endpoint_uses_the_history(llm_app):
    r = llm_app.http.post("/v1/chat/completions", json={"model": "rag", "messages": [
        {"role": "user", "content": "How long did the missile stay airborne?"},
        {"role": "assistant", "content": "About 86 minutes [1]."},
        {"role": "user", "content": "And how high did it go?"}]})
    assert "7,000" in r.json()["choices"][0]["message"]["content"]


def test_cli_ask_llm(llm_app, capsys, monkeypatch):
    from rag.cli import main

    monkeypatch.setenv("RAG_LLM_URL", llm_app.assistant.settings.llm_url)
    assert main(["ask", QUESTIONS[0], "--llm", "--json", "--index", str(llm_app.assistant.folder.path)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["answer"] and d["answerer"]["kind"] in ("generative", "extractive")
    assert main(["ask", QUESTIONS[0], "--llm", "--index", str(llm_app.assistant.folder.path)]) == 0
    out = capsys.readouterr().out
    assert out.strip() and SEED_FILE.name in out


def test_cli_ask_llm_without_a_server_configured_is_exit_2(seed_assistant, capsys, monkeypatch):
    from rag.cli import main

    monkeypatch.delenv("RAG_LLM_URL", raising=False)
    assert main(["ask", QUESTIONS[0], "--llm", "--index", str(seed_assistant.folder.path)]) == 2
    assert "RAG_LLM_URL" in capsys.readouterr().err


def test_eval_reports_the_generative_metrics(llm_app, tmp_path, capsys):
    from rag.cli import main

    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "How long did the missile stay airborne?", "answers": ["86 minutes"]},
        {"question": "How far did the missile fly?", "answers": ["1,000 kilometers"]},
        {"question": "What is the capital of Peru?", "answers": []}]) + "\n")
    os.environ["RAG_LLM_URL"] = llm_app.assistant.settings.llm_url
    try:
        code = main(["eval", str(questions), "--index", str(llm_app.assistant.folder.path), "--llm", "--quiet",
                     "--out", str(tmp_path / "out")])
    finally:
        del os.environ["RAG_LLM_URL"]
    assert code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    m = report["modes"]["hybrid+llm"]
    assert m["citations_valid"] == 1.0 and m["unsupported_shown"] == 0
    for key in ("supported_share", "fallback_share", "generative_share", "first_draft_ms_p50", "ask_ms_p50"):
        assert key in m
    assert "hybrid" in report["modes"] and "supported_share" not in report["modes"]["hybrid"]
    assert "supported_share" in capsys.readouterr().out


def test_the_chat_streams_a_draft_and_then_the_verified_answer(llm_app):
    from gradio_queue import event_of, messages

    fn_index, trigger = event_of(llm_app.http, "ask")
    seen = messages(llm_app.http, fn_index, [QUESTIONS[0], 5, "hybrid", True, []], trigger_id=trigger)
    generating = [m for m in seen if m.get("msg") == "process_generating"]
    final = seen[-1]
    assert final["msg"] == "process_completed" and final["success"], final
    chat_html, _, answer, _ = final["output"]["data"]
    assert answer["answerer"]["kind"] in ("generative", "extractive") and 'class="rag-answer' in chat_html
    if answer["answerer"]["fallback"] != "not_asked":
        assert generating and "not yet checked" in json.dumps(generating[0])
    if answer["answerer"]["kind"] == "generative":
        assert "Written by the language model" in chat_html and 'data-cite="cite-1-1"' in chat_html
