"""The JSON API and the Gradio endpoint over real HTTP: a real server, the real model, real files."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest

from conftest import SEEDS, SEED_FILE, assert_citations_verified, make_assistant
from rag.cli import main
from rag.errors import InputError
from rag.types import Citation
from ui.server import ServerThread, check_bind, create_app, credentials_from_env

pytestmark = pytest.mark.slow

MISSILE_Q = "How long did the missile stay airborne?"
TROOPS_Q = "How many North Korean troops have reached the Kursk region?"
BRIDGE_MD = ("# Zorblat Bridge\n\nThe Zorblat bridge in Kettleford was completed in 1911.\n\n"
             "The Zorblat bridge is 340 meters long and crosses the river Quell.\n")


def check_answer(d: dict) -> list[Citation]:
    """The answer dict's citations, each verified against its original file."""
    citations = [Citation(**c) for c in d["citations"]]
    assert_citations_verified(SimpleNamespace(citations=citations, answer=d["answer"], abstained=d["abstained"]))
    return citations


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    corpus = tmp_path_factory.mktemp("ui-api-corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    (corpus / "desk").mkdir()
    (corpus / "desk" / "weather.txt").write_text(
        "Kettleford weather\n\nIt rained in Kettleford for nine days in March.\n", encoding="utf-8")
    assistant = make_assistant(tmp_path_factory.mktemp("ui-api") / "index", embedder)
    assert assistant.ingest([corpus]).added
    with ServerThread(create_app(assistant)) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield SimpleNamespace(url=url, assistant=assistant, http=client)


def index_state(assistant) -> tuple[str, list[str]]:
    folder = assistant.folder.path
    return (folder / "CURRENT").read_text(), sorted(p.name for p in folder.rglob("*"))


def test_health_reports_counts_and_model(server):
    r = server.http.get("/api/health")
    assert r.status_code == 200
    d = r.json()
    assert d["status"] == "ok" and d["documents"] == 2 and d["chunks"] >= 2
    assert d["model"] == server.assistant.stats()["model"]["id"]


def test_ask_returns_the_core_answer_schema_with_verified_citations(server):
    r = server.http.post("/api/ask", json={"question": MISSILE_Q})
    assert r.status_code == 200
    d = r.json()
    direct = server.assistant.ask(MISSILE_Q).to_dict()
    assert set(d) == set(direct) and d["answer"] == direct["answer"]
    assert not d["abstained"]
    citations = check_answer(d)
    assert citations and "86 minutes" in citations[0].quote
    assert citations[0].source == str(server.assistant.snapshot.documents[SEED_FILE.name].source)


def test_ask_passes_k_mode_and_history_to_the_core(server):
    d = server.http.post("/api/ask", json={"question": TROOPS_Q, "k": 2, "mode": "lexical"}).json()
    assert len(d["hits"]) == 2 and all(h["dense"] is None for h in d["hits"])
    check_answer(d)
    follow_up = "And how long did it stay up?"
    history = [{"role": "user", "content": MISSILE_Q}, {"role": "assistant", "content": "about 86 minutes [1]"}]
    alone = server.http.post("/api/ask", json={"question": follow_up}).json()
    with_history = server.http.post("/api/ask", json={"question": follow_up, "history": history}).json()
    direct = server.assistant.ask(follow_up, history=history).to_dict()
    assert with_history["hits"] == direct["hits"] != alone["hits"]
    check_answer(with_history)


def test_search_returns_hits(server):
    r = server.http.post("/api/search", json={"query": "Kursk troops", "k": 3})
    assert r.status_code == 200
    hits = r.json()
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert {"doc_id", "chunk_id", "title", "start", "end", "text", "score"} <= set(hits[0])


@pytest.mark.parametrize("path,body,status,words", [
    ("/api/ask", {"question": "   "}, 400, "question is empty"),
    ("/api/ask", {"question": MISSILE_Q, "k": 0}, 400, "k must be"),
    ("/api/ask", {"question": MISSILE_Q, "k": 10_000}, 400, "k must be"),
    ("/api/ask", {"question": MISSILE_Q, "k": "five"}, 422, "k"),
    ("/api/ask", {"question": MISSILE_Q, "mode": "psychic"}, 400, "mode"),
    ("/api/ask", {"question": MISSILE_Q, "top_k": 3}, 422, "top_k"),
    ("/api/ask", {}, 422, "question"),
    ("/api/ask", {"question": "x" * 5000}, 400, "limit"),
    ("/api/ask", {"question": MISSILE_Q, "history": [42]}, 400, "history"),
    # Streaming checks first too (a bad history was once an error event in a 200 stream).
    ("/api/ask", {"question": MISSILE_Q, "history": [42], "stream": True}, 400, "history"),
    ("/api/ask", {"question": MISSILE_Q, "history": [[1, 2]], "stream": True}, 400, "history"),
    ("/api/search", {"query": ""}, 400, "query is empty"),
])
def test_bad_requests_get_a_json_error_and_change_nothing(server, path, body, status, words):
    before = index_state(server.assistant)
    r = server.http.post(path, json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]
    assert index_state(server.assistant) == before


def test_malformed_json_is_a_4xx_not_a_500(server):
    r = server.http.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()
    # It says what is wrong where (it said "1: JSON decode error": a character offset, unnamed).
    error = r.json()["error"]
    assert error.startswith("the request body is not valid JSON (") and "at character 1)" in error


def test_bad_uploads_are_rejected_whole_and_the_index_is_unchanged(server):
    before = index_state(server.assistant)
    cases = [
        [("files", ("report.pdf", b"%PDF-1.4", "application/pdf"))],
        [("files", ("binary.txt", b"abc\x00def", "text/plain"))],
        [("files", ("empty.md", b"   \n", "text/markdown"))],
        [("files", ("latin1.txt", "caf\u00e9".encode("latin-1"), "text/plain"))],
        [("files", ("good.md", BRIDGE_MD.encode(), "text/markdown")),
         ("files", ("bad.exe", b"MZ", "application/octet-stream"))],
    ]
    for files in cases:
        r = server.http.post("/api/documents", files=files)
        assert r.status_code == 400, r.text
        d = r.json()
        assert d["error"] and d["rejected"]
        assert files[-1][1][0] in d["error"]  # the message names the bad file
    assert server.http.post("/api/documents").status_code == 422
    assert index_state(server.assistant) == before
    assert not (server.assistant.folder.path / "uploads").exists()


def test_upload_ask_and_remove(server):
    r = server.http.post("/api/documents", files=[("files", ("zorblat.md", BRIDGE_MD.encode(), "text/markdown"))])
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["added"] == ["zorblat.md"] and "1 added" in report["summary"]
    copy = server.assistant.folder.path / "uploads" / "zorblat.md"
    assert copy.read_text(encoding="utf-8") == BRIDGE_MD
    assert "zorblat.md" in [d["id"] for d in server.http.get("/api/documents").json()]

    d = server.http.post("/api/ask", json={"question": "How long is the Zorblat bridge?"}).json()
    citations = check_answer(d)
    assert not d["abstained"] and citations[0].doc_id == "zorblat.md" and "340 meters" in citations[0].quote
    assert citations[0].source == str(copy)

    r = server.http.delete("/api/documents/zorblat.md")
    assert r.status_code == 200 and r.json() == {"removed": "zorblat.md"}
    assert "zorblat.md" not in [d["id"] for d in server.http.get("/api/documents").json()]
    assert not copy.exists()
    r = server.http.delete("/api/documents/zorblat.md")
    assert r.status_code == 404 and "zorblat.md" in r.json()["error"]


def test_html_upload_is_cited_and_rendered_as_text(server):
    page = ("<html><head><title>Quell &amp; harbour notes</title></head><body><nav>Menu</nav>"
            "<p>The Quell lighthouse is <b>52 meters</b> tall and was first lit in 1887.</p></body></html>")
    r = server.http.post("/api/documents", files=[("files", ("quell.html", page.encode(), "text/html"))])
    assert r.status_code == 200 and r.json()["added"] == ["quell.html"]
    d = server.http.post("/api/ask", json={"question": "How tall is the Quell lighthouse?"}).json()
    citations = check_answer(d)
    assert citations[0].doc_id == "quell.html" and citations[0].title == "Quell & harbour notes"
    from ui.render import passage_for

    p = passage_for(citations[0], server.assistant.raw_text("quell.html"))
    assert p.verified and "52 meters" in p.cited and "<" not in p.before + p.cited + p.after
    assert server.http.delete("/api/documents/quell.html").status_code == 200


def test_delete_accepts_document_ids_with_slashes(server):
    ids = [d["id"] for d in server.http.get("/api/documents").json()]
    assert "desk/weather.txt" in ids
    r = server.http.delete("/api/documents/desk/weather.txt")
    assert r.status_code == 200 and r.json() == {"removed": "desk/weather.txt"}
    assert server.http.get("/api/health").json()["documents"] == len(ids) - 1


def test_questions_are_answered_while_an_upload_is_ingested(server, tmp_path):
    # Enough text that embedding takes a noticeable while on a small CPU.
    paragraphs = [f"Section {i}. The Quell river ferry number {i} carried {100 + i} passengers across "
                  f"Kettleford harbour on day {i} of the festival, according to harbour master Ilse Varga."
                  for i in range(120)]
    article = "Quell ferry log\n\n" + "\n\n".join(paragraphs) + "\n"
    start = server.http.get("/api/health").json()
    old = (start["documents"], start["chunks"])
    seen_states, answers, errors = set(), [], []
    done = threading.Event()

    def upload():
        try:
            with httpx.Client(base_url=server.url, timeout=120) as c:
                return c.post("/api/documents", files=[("files", ("ferry.txt", article.encode(), "text/plain"))])
        finally:
            done.set()

    def poll():
        with httpx.Client(base_url=server.url, timeout=60) as c:
            finished = False
            while not finished:
                finished = done.is_set()  # one more round after the upload returned
                h = c.get("/api/health").json()
                seen_states.add((h["documents"], h["chunks"]))
                r = c.post("/api/ask", json={"question": TROOPS_Q})
                (answers if r.status_code == 200 else errors).append(r)

    with ThreadPoolExecutor(3) as pool:
        pollers = [pool.submit(poll) for _ in range(2)]
        uploaded = pool.submit(upload).result()
        for p in pollers:
            p.result()
    assert uploaded.status_code == 200, uploaded.text
    assert not errors, [e.text for e in errors]
    assert answers  # the server answered questions while the upload was in flight
    end = server.http.get("/api/health").json()
    new = (end["documents"], end["chunks"])
    assert new[0] == old[0] + 1
    assert old in seen_states and new in seen_states
    assert seen_states <= {old, new}  # every reader saw a whole index: the old one or the new one
    for r in answers:
        d = r.json()
        check_answer(d)
        assert not d["abstained"]
    d = server.http.post("/api/ask", json={"question": "How many passengers did ferry number 7 carry?"}).json()
    assert check_answer(d) and d["citations"][0]["doc_id"] == "ferry.txt"
    server.http.delete("/api/documents/ferry.txt")


def test_gradio_named_endpoint_works_from_gradio_client(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False, download_files=False)
    try:
        chat, sources, answer = client.predict(MISSILE_Q, 5, "hybrid", api_name="/ask")
        check_answer(answer)
        assert not answer["abstained"] and 'data-cite="cite-1-1"' in chat and "[1]" in sources
        # The session keeps the conversation: the second turn is numbered 2 and uses the first as history.
        chat, _, answer = client.predict("And how long did it stay up?", 5, "hybrid", api_name="/ask")
        assert 'data-turn="2"' in chat and MISSILE_Q in chat
        direct = server.assistant.ask("And how long did it stay up?",
                                      history=[{"role": "user", "content": MISSILE_Q}]).to_dict()
        assert answer["hits"] == direct["hits"]
        check_answer(answer)
    finally:
        client.close()  # stops its heartbeat stream


def test_openapi_docs_are_served(server):
    spec = server.http.get("/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/documents", "/api/health"} <= set(spec["paths"])
    assert server.http.get("/docs").status_code == 200


def test_without_an_index_questions_get_409_and_an_upload_creates_it(tmp_path, embedder):
    assistant = make_assistant(tmp_path / "index", embedder, max_file_mb=0.01)
    with ServerThread(create_app(assistant)) as url, httpx.Client(base_url=url, timeout=60) as http:
        assert http.get("/api/health").json()["status"] == "no_index"
        assert http.get("/api/documents").json() == []
        for path, body in (("/api/ask", {"question": MISSILE_Q}), ("/api/search", {"query": "missile"})):
            r = http.post(path, json=body)
            assert r.status_code == 409 and "no index" in r.json()["error"]
        r = http.post("/api/documents", files=[("files", ("big.txt", b"word " * 5000, "text/plain"))])
        assert r.status_code == 413 and "limit" in r.json()["error"]
        assert not assistant.folder.exists()
        r = http.post("/api/documents", files=[("files", ("zorblat.md", BRIDGE_MD.encode(), "text/markdown"))])
        assert r.status_code == 200 and r.json()["added"] == ["zorblat.md"]
        d = http.post("/api/ask", json={"question": "When was the Zorblat bridge completed?"}).json()
        assert check_answer(d) and "1911" in d["citations"][0]["quote"]


def test_password_protects_the_api_and_the_chat(tmp_path, embedder):
    assistant = make_assistant(tmp_path / "index", embedder)
    with ServerThread(create_app(assistant, credentials=("ann", "s3cret"))) as url:
        r = httpx.get(f"{url}/api/health")
        assert r.status_code == 401 and "password" in r.json()["error"]
        assert httpx.get(f"{url}/api/health", auth=("ann", "wrong")).status_code == 401
        assert httpx.get(f"{url}/api/health", auth=("ann", "s3cret")).status_code == 200
        assert httpx.get(f"{url}/config").status_code == 401  # the chat's config needs a login
        login = httpx.post(f"{url}/login", data={"username": "ann", "password": "s3cret"})
        assert login.status_code == 200 and login.cookies


def test_serving_beyond_loopback_needs_a_password(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("RAG_UI_USERNAME", raising=False)
    monkeypatch.delenv("RAG_UI_PASSWORD", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--index", str(tmp_path / "index")]) == 2
    assert "RAG_UI_PASSWORD" in capsys.readouterr().err
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    check_bind("0.0.0.0", ("a", "b"))
    with pytest.raises(InputError):
        check_bind("192.168.1.5", None)
    with pytest.raises(InputError, match="both"):
        credentials_from_env({"RAG_UI_USERNAME": "ann"})
    assert credentials_from_env({"RAG_UI_USERNAME": "ann", "RAG_UI_PASSWORD": "pw"}) == ("ann", "pw")
    assert credentials_from_env({}) is None


def test_gradio_analytics_are_off():
    import gradio.analytics

    assert gradio.analytics.analytics_enabled() is False


def test_a_vector_engine_that_does_not_answer_is_a_503():
    from rag.errors import BackendError, InputError
    from ui.api import status_for

    assert status_for(BackendError("milvus at http://db:19530 does not answer")) == 503
    assert status_for(InputError("k must be an integer")) == 400
