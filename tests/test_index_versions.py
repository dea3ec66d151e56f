"""Index versions over time: a running server picks up another process's ingest (finding 6),
and what dead writers and swaps leave behind is cleaned without pulling a version from under a
reader (finding 7). Real model, real FAISS, real subprocesses and a real server."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, SEED_FILE, make_assistant
from rag.store import IndexFolder
from ui.server import ServerThread, create_app

GAMMA = "Gamma lake report\n\nGamma lake is 80 metres deep. Trout live in Gamma lake.\n"


@pytest.fixture
def corpus(tmp_path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    shutil.copy(SEED_FILE, d / "seed.txt")
    (d / "beta.txt").write_text("Beta mountain notes\n\nBeta mountain is 3,200 metres high.\n")
    return d


def rag_cli(*args: str) -> subprocess.CompletedProcess:
    """The real `rag` command in a new process."""
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def versions(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith(("v", ".tmp-", "CURRENT.tmp-")))


@pytest.mark.slow
def test_a_running_server_sees_a_cli_ingest_without_restart(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    assistant = make_assistant(index, embedder)
    assistant.ingest([corpus])
    with ServerThread(create_app(assistant)) as url, httpx.Client(base_url=url, timeout=60) as http:
        assert sorted(d["id"] for d in http.get("/api/documents").json()) == ["beta.txt", "seed.txt"]
        more = tmp_path / "more"
        more.mkdir()
        (more / "gamma.txt").write_text(GAMMA)
        done = rag_cli("ingest", str(more), "--index", str(index), "--quiet")
        assert done.returncode == 0, done.stderr
        seen_at = time.monotonic()
        deadline = seen_at + 5
        while "gamma.txt" not in [d["id"] for d in http.get("/api/documents").json()]:
            assert time.monotonic() < deadline, "the server still lists the old version after 5 s"
            time.sleep(0.05)
        assert time.monotonic() - seen_at < 2
        d = http.post("/api/ask", json={"question": "How deep is Gamma lake?"}).json()
        assert d["citations"] and d["citations"][0]["doc_id"] == "gamma.txt"
        assert http.get("/api/health").json()["documents"] == 3
        r = http.delete("/api/documents/gamma.txt")
        assert r.status_code == 200, r.text
        assert "gamma.txt" not in [d["id"] for d in http.get("/api/documents").json()]


def test_leftovers_of_dead_writers_are_removed_by_the_next_ingest(corpus, tmp_path, embedder):
    index = tmp_path / "idx"
    writer = make_assistant(index, embedder)
    writer.ingest([corpus])
    live = IndexFolder(index).current_version()
    # What kill -9 leaves at each step of a write: a half-written version, a finished but never
    # pointed-to version, a half-written pointer, and an old version not yet removed.
    (index / ".tmp-deadbeef").mkdir()
    (index / ".tmp-deadbeef" / "vectors.npy").write_bytes(b"half")
    shutil.copytree(live, index / "v000099")
    (index / "CURRENT.tmp-0badf00d").write_text("v000099\n")
    shutil.copytree(live, index / "v000000")
    report = make_assistant(index, embedder).ingest([corpus])  # nothing changed: nothing written
    assert not report.changed
    assert versions(index) == [live.name]
    assert make_assistant(index, embedder).ask("How high is Beta mountain?").citations


def test_a_version_a_live_snapshot_maps_is_kept_until_it_is_released(corpus, tmp_path, embedder):
    index = tmp_path / "idx"
    make_assistant(index, embedder).ingest([corpus])
    reader = make_assistant(index, embedder)
    old = reader.snapshot
    old_version = IndexFolder(index).current_version()
    writer = make_assistant(index, embedder)
    (corpus / "gamma.txt").write_text(GAMMA)
    writer.ingest([corpus])
    new_version = IndexFolder(index).current_version()
    assert old_version.exists(), "removed a version that a snapshot in this process still maps"
    hits = reader.retriever(snapshot=old).retrieve(reader.query("How high is Beta mountain?"), 3)
    assert "beta.txt" in {h.chunk.doc_id for h in hits}
    del old, hits
    reader.close()
    gc.collect()
    (corpus / "delta.txt").write_text("Delta port report\n\nDelta port handles 9 ships a day.\n")
    writer.ingest([corpus])
    assert versions(index) == [IndexFolder(index).current_version().name]
    assert not old_version.exists() and not new_version.exists()
