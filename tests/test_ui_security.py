"""The holes found by attacking a running server (issue 11), each replayed over real HTTP.

A real server (`ui.app.ServerThread`), the real model, real Gradio requests: every test sends
what an attacker or a careless client sent, and checks the answer is a JSON 4xx and the index
is unchanged.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import httpx
import pytest

from conftest import SEEDS, make_assistant
from gradio_queue import call, event_of
from ui.app import ServerThread, create_app

pytestmark = pytest.mark.slow

SECRET = "The vault combination of Kettleford bank is 4-8-15-16-23-42, said the manager.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    corpus = tmp_path_factory.mktemp("security-corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    assistant = make_assistant(tmp_path_factory.mktemp("security") / "index", embedder)
    assert assistant.ingest([corpus]).added
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
