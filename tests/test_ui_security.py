"""The holes found by attacking a running server (issue 11), each replayed over real HTTP.

A real server (`ui.server.ServerThread`), the real model, real Gradio requests: every test sends
what an attacker or a careless client sent, and checks the answer is a JSON 4xx and the index
is unchanged.
"""

from __future__ import annotations

import json
import re
import shutil
from types import SimpleNamespace

import httpx
import pytest

from conftest import SEEDS, make_assistant
from gradio_queue import call, event_of
from ui.server import ServerThread, create_app

pytestmark = pytest.mark.slow

SECRET = "The vault combination of Kettleford bank is 4-8-15-16-23-42, said the manager.\n"


def seed_copy_assistant(tmp_path_factory, embedder, name: str):
    """An assistant over a copy of the seeds (tests delete and re-add documents)."""
    corpus = tmp_path_factory.mktemp(f"{name}-corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    assistant = make_assistant(tmp_path_factory.mktemp(name) / "index", embedder)
    assert assistant.ingest([corpus]).added
    return assistant


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    assistant = seed_copy_assistant(tmp_path_factory, embedder, "security")
    with ServerThread(create_app(assistant)) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield SimpleNamespace(url=url, assistant=assistant, http=client)


def doc_ids(server) -> list[str]:
    return sorted(d["id"] for d in server.http.get("/api/documents").json())


# -- 1: the upload step must not read files off the server's disk ------------------------------
def test_gradio_upload_step_refuses_a_server_path(server, tmp_path):
    secret = tmp_path / "secret.txt"  # a file the server process can read, outside Gradio's cache
    secret.write_text(SECRET, encoding="utf-8")
    fn_index, trigger = event_of(server.http, "ingest_files")
    assert fn_index == 4  # the event the issue names
    before = doc_ids(server)
    # The exact request from the issue: a FileData whose path is any file on the server.
    result = call(server.http, fn_index, [[{"path": str(secret), "meta": {"_type": "gradio.FileData"},
                                            "orig_name": "secret.txt"}]], trigger_id=trigger)
    assert not result.get("success", False), result
    assert doc_ids(server) == before
    assert not (server.assistant.folder.path / "uploads" / "secret.txt").exists()
    d = server.http.post("/api/ask", json={"question": "What is the vault combination of Kettleford bank?"}).json()
    assert "4-8-15-16-23-42" not in d["answer"] and all(h["doc_id"] != "secret.txt" for h in d["hits"])


def test_gradio_upload_step_accepts_a_file_gradio_received(server, tmp_path):
    # The control: the same request shape with a file uploaded through Gradio is ingested, so the
    # refusal above is the path check and not a malformed request.
    fn_index, trigger = event_of(server.http, "ingest_files")
    r = server.http.post("/gradio_api/upload", files=[("files", ("zorblat.md", b"# Zorblat\n\nThe Zorblat "
                                                                  b"bridge is 340 meters long.\n", "text/markdown"))])
    assert r.status_code == 200, r.text
    [path] = r.json()
    result = call(server.http, fn_index, [[{"path": path, "meta": {"_type": "gradio.FileData"},
                                            "orig_name": "zorblat.md"}]], trigger_id=trigger)
    assert result.get("success"), result
    assert "zorblat.md" in doc_ids(server)
    assert server.http.delete("/api/documents/zorblat.md").status_code == 200


# -- 2: text that is not valid Unicode (a lone surrogate) ----------------------------------------
@pytest.mark.parametrize("path,body", [
    ("/api/ask", b'{"question": "missile \\ud800 airborne"}'),
    ("/api/search", b'{"query": "missile \\udfff airborne"}'),
    ("/api/ask", b'{"question": "How long did it fly?", "history": [{"role": "user", "content": "missile \\ud800"}]}'),
    ("/api/ask", b'{"question": "How long did it fly?", "history": ["missile \\ud800"]}'),
])
def test_a_lone_surrogate_is_a_json_400_and_the_connection_lives_on(server, path, body):
    r = server.http.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "surrogate" in r.json()["error"]
    # The same kept-alive connection answers the next request.
    assert server.http.post("/api/ask", json={"question": "How long did the missile stay airborne?"}).status_code == 200


def test_a_lone_surrogate_in_the_chat_is_a_visible_error(server):
    fn_index, trigger = event_of(server.http, "ask")
    result = call(server.http, fn_index, ["missile \ud800 airborne", 5, "hybrid", False, []], trigger_id=trigger)
    assert result.get("success") is False and "surrogate" in str(result["output"]), result


def test_cli_ask_with_bytes_that_are_not_utf8_is_one_line_and_exit_2(server, capsys):
    from rag.cli import main

    # Python hands a non-UTF-8 argv byte (b"\xff") to the program as the surrogate "\udcff".
    assert main(["ask", "missile \udcff airborne", "--index", str(server.assistant.folder.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "surrogate" in err and "Traceback" not in err


# -- 3: file names that cannot be stored or removed ----------------------------------------------
@pytest.mark.parametrize("name,words", [
    ("nul\x00byte.txt", "control character"),
    ("x" * 250 + ".txt", "bytes long"),
    ("new\nline.txt", "control character"),
])
def test_unusable_upload_names_are_a_json_400(server, name, words):
    before = doc_ids(server)
    # Raw multipart: httpx would percent-escape the NUL and the newline; curl and scripts do not.
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="' + name.encode()
            + b'"\r\nContent-Type: text/plain\r\n\r\nThe Quell ferry carried 40 people.\n\r\n--b0undary--\r\n')
    r = server.http.post("/api/documents", content=body,
                         headers={"content-type": "multipart/form-data; boundary=b0undary"})
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]
    assert doc_ids(server) == before


def test_cli_ingest_skips_unusable_file_names_and_ingests_the_rest(tmp_path, capsys):
    from rag.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / ("y" * 250 + ".txt")).write_text("The long name article says the ferry is red.\n")
    (corpus / "new\nline.txt").write_text("The newline article says the ferry is blue.\n")
    (corpus / "good.txt").write_text("The good article says the Quell ferry carried 40 people.\n")
    code = main(["ingest", str(corpus), "--index", str(tmp_path / "index"), "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err and err.count("skipped:") == 2
    import json

    report = json.loads(out)
    assert report["added"] == ["good.txt"] and len(report["skipped"]) == 2


# -- 4: size limits on history and request bodies ------------------------------------------------
def test_a_huge_history_turn_is_refused_quickly(server):
    history = [{"role": "user", "content": "missile " * 300_000}]  # 2.4 MB, as in the issue
    r = server.http.post("/api/ask", json={"question": "How long did it fly?", "history": history})
    assert r.status_code in (400, 413), r.text
    assert "history" in r.json()["error"] or "limit" in r.json()["error"]
    assert r.elapsed.total_seconds() < 2


def test_too_many_history_turns_are_a_400(server):
    history = [{"role": "user", "content": f"question {i}?"} for i in range(1000)]
    r = server.http.post("/api/ask", json={"question": "How long did it fly?", "history": history})
    assert r.status_code == 400 and "history" in r.json()["error"] and "turns" in r.json()["error"]


def test_a_huge_body_is_a_json_413(server):
    body = b'{"question": "' + b"a" * 20_000_000 + b'"}'
    r = server.http.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]

    def chunks():  # no content-length: the limit must count the bytes as they arrive
        yield b'{"question": "'
        for _ in range(100):
            yield b"a" * 100_000
        yield b'"}'

    r = server.http.post("/api/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = server.http.post("/gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = server.http.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = server.http.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    assert server.http.get("/api/health").status_code == 200


# -- 5: with a password, nothing but the login page answers without credentials -----------------
AUTH = ("ann", "s3cret")


@pytest.fixture(scope="module")
def locked(tmp_path_factory, embedder):
    assistant = seed_copy_assistant(tmp_path_factory, embedder, "locked")
    app = create_app(assistant, credentials=AUTH)
    with ServerThread(app) as url:
        yield SimpleNamespace(url=url, app=app, assistant=assistant)


def status_of(url: str, method: str, path: str, **kwargs) -> tuple[int, httpx.Headers, bytes]:
    """Status, headers and the start of the body; streams, so an event stream does not hang."""
    with httpx.Client(base_url=url, timeout=30) as http:
        with http.stream(method, path, **kwargs) as r:
            if "text/event-stream" in r.headers.get("content-type", ""):
                return r.status_code, r.headers, b""  # open: the request got through
            return r.status_code, r.headers, r.read()


@pytest.mark.parametrize("method,path", [
    ("GET", "/docs"), ("GET", "/redoc"), ("GET", "/openapi.json"),
    ("GET", "/gradio_api/heartbeat/abcdef12345"), ("POST", "/gradio_api/cancel"), ("POST", "/gradio_api/reset"),
])
def test_password_server_refuses_docs_and_gradio_internals_without_credentials(locked, method, path):
    body = {"session_hash": "abcdef12345", "fn_index": 1, "event_id": "x"} if method == "POST" else None
    status, headers, content = status_of(locked.url, method, path, json=body)
    assert status == 401, content
    assert "error" in json.loads(content)


def test_password_server_closes_every_route_but_the_login_page(locked):
    """Every route the server has, Gradio's included, with made-up path parameters: 401 unless it
    is one of the few the login page needs. A route a new Gradio version adds is caught here."""
    from starlette.routing import Mount

    from ui.auth import is_public

    def routes(app, prefix=""):
        for r in app.routes:
            if isinstance(r, Mount) and hasattr(r.app, "routes"):
                yield from routes(r.app, prefix + r.path)
            elif isinstance(r, Mount):  # static files
                yield prefix + r.path + "/x1", ["GET"]
            elif hasattr(r, "original_router"):  # FastAPI's record of an included router
                yield from routes(r.original_router, prefix + getattr(r.include_context, "prefix", ""))
            elif hasattr(r, "methods"):
                yield prefix + r.path, sorted(r.methods - {"HEAD"})

    seen = 0
    for path, methods in routes(locked.app):
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        if is_public(concrete):
            continue
        for method in methods:
            status, _, content = status_of(locked.url, method, concrete)
            assert status == 401, (method, concrete, status, content[:200])
            seen += 1
    assert seen > 40


def test_password_server_answers_with_credentials(locked):
    with httpx.Client(base_url=locked.url, timeout=60, auth=AUTH) as http:
        assert http.get("/openapi.json").status_code == 200
        assert http.get("/docs").status_code == 200 and http.get("/redoc").status_code == 404
        assert http.post("/api/ask", json={"question": "How long did the missile stay airborne?"}).status_code == 200
    with httpx.Client(base_url=locked.url, timeout=60) as http:  # the chat: Gradio's login cookie
        assert http.post("/login", data={"username": "ann", "password": "s3cret"}).status_code == 200
        status, _, _ = status_of(locked.url, "GET", "/gradio_api/heartbeat/abcdef12345", cookies=http.cookies)
        assert status == 200
        assert http.get("/config").status_code == 200
        assert http.get("/api/health").status_code == 401  # the API takes HTTP Basic only (no CSRF by cookie)
    from gradio_client import Client

    client = Client(locked.url, auth=AUTH, verbose=False, download_files=False)
    try:
        _, _, answer = client.predict("How long did the missile stay airborne?", 5, "hybrid", api_name="/ask")
        assert not answer["abstained"]
    finally:
        client.close()


def test_password_server_openai_endpoint_takes_basic_or_the_password_as_bearer(locked):
    body = {"model": "rag", "messages": [{"role": "user", "content": "How long did the missile stay airborne?"}]}
    with httpx.Client(base_url=locked.url, timeout=60) as http:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Bearer"}, {"authorization": "Basic x"}):
            r = http.post("/v1/chat/completions", json=body, headers=headers)
            assert r.status_code == 401 and "password" in r.json()["error"], headers
            assert http.get("/v1/models", headers=headers).status_code == 401
        bearer = {"authorization": f"Bearer {AUTH[1]}"}
        assert http.get("/v1/models", headers=bearer).json()["data"][0]["id"] == "rag"
        r = http.post("/v1/chat/completions", json=body, headers=bearer)
        assert r.status_code == 200 and "[1]" in r.json()["choices"][0]["message"]["content"]
        assert http.post("/v1/chat/completions", json=body, auth=AUTH).status_code == 200
        # The password as a Bearer token opens /v1 only: /api stays HTTP Basic.
        assert http.get("/api/health", headers=bearer).status_code == 401


def test_api_docs_load_nothing_from_another_host(server):
    assert server.http.get("/redoc").status_code == 404  # ReDoc loads its logo from a CDN: not served
    for page in ("/docs",):
        html = server.http.get(page).text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)|url:\s*["']([^"']+)""", html)
        urls = [a or b for a, b in urls]
        assert urls, html
        for u in urls:
            assert not re.match(r"(https?:)?//", u), f"{page} loads {u}"
            assert server.http.get(u).status_code == 200, u


# -- overload: a bounded number of questions in the server, 503 + Retry-After past it -----------
@pytest.mark.parametrize("path,body", [
    ("/api/ask", lambda i: {"question": f"How long did the missile stay airborne? ({i})"}),
    ("/v1/chat/completions", lambda i: {"model": "rag", "messages": [
        {"role": "user", "content": f"How long did the missile stay airborne? ({i})"}]}),
])
def test_past_its_question_limit_the_server_answers_503_with_retry_after(tmp_path, embedder, server, path, body):
    from concurrent.futures import ThreadPoolExecutor
    import threading

    app = create_app(server.assistant, uploads_dir=tmp_path / "uploads", max_questions=1)
    start = threading.Barrier(8)

    def ask(i: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            return http.post(path, json=body(i))

    with ServerThread(app) as url:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(ask, range(8)))
        codes = sorted(r.status_code for r in responses)
        assert set(codes) == {200, 503} and codes.count(200) >= 1, codes
        for r in responses:
            if r.status_code == 503:
                assert r.headers["retry-after"] == "1" and "retry" in r.json()["error"]
        # Once the burst is over, questions are answered again.
        assert httpx.post(f"{url}{path}", json=body(0), timeout=60).status_code == 200


# -- the URL field and POST /api/documents/url fetch web pages, never files of the server -------
@pytest.mark.parametrize("url", ["", "   ", "/etc", ".", "..", "secret.txt", str(SEEDS), "file:///etc/hostname",
                                 "ftp://example.org/a"])
def test_the_url_routes_refuse_anything_but_a_web_address(server, tmp_path, monkeypatch, url):
    # Found by the fuzzer: "" was ingested as the server's working directory. A readable file in
    # the server's working directory, as a path a user might name.
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = doc_ids(server)
    r = server.http.post("/api/documents/url", json={"url": url})
    assert r.status_code == 400, r.text
    assert "web address" in r.json()["error"] or "empty" in r.json()["error"]
    fn_index, trigger = event_of(server.http, "ingest_url")
    result = call(server.http, fn_index, [url], trigger_id=trigger)
    assert result.get("success", True), result
    assert doc_ids(server) == before
