"""The whole system on Milvus Lite, its engine run by this process (no mocks): ingest, ask with
verified citations, remove, re-ingest; a reader keeps its version while a writer commits; a failed
or killed ingest leaves the previous version serving and the next ingest cleans up.

The vector store contract itself runs on Milvus in tests/contracts/test_vector_store.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="the milvus extra is not installed")

from conftest import SEED_FILE, assert_citations_verified, make_assistant, write_corpus  # noqa: E402
from rag.errors import BackendError, CorruptIndexError  # noqa: E402
from rag.store import IndexFolder  # noqa: E402
from rag.store.milvus_store import EXACT_MAX, LITE_EXACT_MAX, MilvusStore, disconnect  # noqa: E402

ALPHA = "Alpha river report\n\nThe Alpha river floods every spring. Farmers plant rice after the floods.\n"
BETA = "Beta mountain notes\n\nBeta mountain is 3,200 metres high. Snow covers it from October.\n"
GAMMA = "Gamma lake survey\n\nGamma lake is 80 metres deep. Trout live there all year.\n"


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus", alpha=ALPHA, beta=BETA)


def _milvus(index: Path, embedder):
    return make_assistant(index, embedder, vector_store="milvus")


def _rows(store: MilvusStore, expr: str) -> int:
    """Rows of the store's collection matching `expr`, whatever their version."""
    res = store._client().query(store.collection, filter=expr, output_fields=["count(*)"])
    return int(res[0]["count(*)"])


def test_ingest_ask_remove_reingest(corpus, tmp_path, embedder):
    a = _milvus(tmp_path / "idx", embedder)
    assert sorted(a.ingest([corpus]).added) == ["alpha.txt", "beta.txt", "seed.txt"]
    store = a.snapshot.vector_store
    assert isinstance(store, MilvusStore) and len(store) == len(a.snapshot.chunks)
    entry = json.loads((IndexFolder(tmp_path / "idx").current_version() / "manifest.json").read_text())["vector_store"]
    assert entry["kind"] == "milvus" and entry["uri"] == "milvus.db"  # inside the index folder, relative

    answer = a.ask("How long did the missile stay airborne?")
    assert not answer.abstained and answer.citations[0].doc_id == "seed.txt"
    assert_citations_verified(answer)
    answer = a.ask("How high is Beta mountain?")
    assert answer.citations and answer.citations[0].doc_id == "beta.txt"
    assert_citations_verified(answer)
    # A search restricted to one document's chunks (the `allowed` filter) finds only them.
    snap = a.snapshot
    beta_vids = snap.vids[[i for i, c in enumerate(snap.chunks) if c.doc_id == "beta.txt"]]
    _, got = store.search(a.query("Beta mountain snow").vector[None, :], 5, allowed=beta_vids)
    assert set(got[0][got[0] >= 0].tolist()) == set(beta_vids.tolist())

    a.remove("beta.txt")
    assert "beta.txt" not in a.snapshot.documents
    assert len(a.snapshot.vector_store) == len(a.snapshot.chunks)
    assert all(h.chunk.doc_id != "beta.txt" for h in a.search("Beta mountain metres high snow", k=10))
    report = a.ingest([corpus])
    assert report.added == ["beta.txt"] and sorted(report.unchanged) == ["alpha.txt", "seed.txt"]
    # A fresh process-level reader (another Assistant) opens the same version through the pointer.
    answer = _milvus(tmp_path / "idx", embedder).ask("How high is Beta mountain?")
    assert answer.citations[0].doc_id == "beta.txt"
    assert_citations_verified(answer)


def test_another_process_opens_the_index_and_answers(corpus, tmp_path, embedder):
    """`rag ask` in a new process: the engine starts from the database on disk, where the
    collection is stored but not loaded for search."""
    a = _milvus(tmp_path / "idx", embedder)
    a.ingest([corpus])
    disconnect(str(tmp_path / "idx" / "milvus.db"))  # Milvus Lite: one process per database
    env = {**os.environ, "RAG_VECTOR_STORE": "milvus"}
    env.pop("RAG_MILVUS_URI", None)
    out = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "How high is Beta mountain?", "--index",
                          str(tmp_path / "idx"), "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["citations"][0]["doc_id"] == "beta.txt"
    assert a.ask("How high is Beta mountain?").citations[0].doc_id == "beta.txt"  # and this one reconnects


def test_a_reader_keeps_its_version_while_a_writer_commits(corpus, tmp_path, embedder):
    _milvus(tmp_path / "idx", embedder).ingest([corpus])
    reader = _milvus(tmp_path / "idx", embedder)
    old = reader.snapshot
    writer = _milvus(tmp_path / "idx", embedder)
    (corpus / "gamma.txt").write_text(GAMMA)
    (corpus / "beta.txt").unlink()
    writer.ingest([corpus], prune=True)  # adds gamma, removes beta
    q = reader.query("How deep is Gamma lake? How high is Beta mountain?")
    hits = reader.retriever(snapshot=old).retrieve(q, 10)
    assert "beta.txt" in {h.chunk.doc_id for h in hits} and "gamma.txt" not in {h.chunk.doc_id for h in hits}
    _, vids = old.vector_store.search(q.vector[None, :], len(old.chunks))
    assert set(vids[0].tolist()) == set(old.vids.tolist())  # exactly the old version's rows
    answer = _milvus(tmp_path / "idx", embedder).ask("How deep is Gamma lake?")
    assert answer.citations[0].doc_id == "gamma.txt"
    assert_citations_verified(answer)


@pytest.mark.parametrize("how", ["fails", "dies"])
def test_a_failed_ingest_leaves_the_previous_version_and_the_next_cleans_up(corpus, tmp_path, embedder,
                                                                            monkeypatch, how):
    a = _milvus(tmp_path / "idx", embedder)
    a.ingest([corpus])
    before = a.snapshot
    (corpus / "gamma.txt").write_text(GAMMA)

    import rag.store.folder

    def no_swap(*args, **kwargs):  # after the Milvus rows and the version folder, before CURRENT
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(rag.store.folder, "_atomic_write_text", no_swap)
    if how == "dies":  # a killed process runs no clean-up: its rows stay in Milvus
        monkeypatch.setattr(MilvusStore, "discard", lambda self: None)
    with pytest.raises(OSError, match="simulated"):
        a.ingest([corpus])
    monkeypatch.undo()

    store = before.vector_store
    leftover = _rows(store, f"added_in > {store.version}")
    assert (leftover > 0) == (how == "dies")
    for reader in (a, _milvus(tmp_path / "idx", embedder)):  # this process, and a fresh reader
        assert "gamma.txt" not in reader.snapshot.documents
        assert all(h.chunk.doc_id != "gamma.txt" for h in reader.search("How deep is Gamma lake?", k=10))
        _, vids = reader.snapshot.vector_store.search(reader.query("Gamma lake trout").vector[None, :], 100)
        assert np.isin(vids[vids >= 0], reader.snapshot.vids).all()  # never a row of the failed version

    report = a.ingest([corpus])
    assert report.added == ["gamma.txt"]
    answer = a.ask("How deep is Gamma lake?")
    assert answer.citations[0].doc_id == "gamma.txt"
    assert_citations_verified(answer)
    new = a.snapshot.vector_store
    assert _rows(new, f"added_in > {new.version}") == 0
    assert _rows(new, "vid >= 0") == len(a.snapshot.chunks) + len(new.removed)  # nothing else is stored


def test_a_rebuild_writes_a_new_collection_and_the_next_ingest_drops_the_old(corpus, tmp_path, embedder):
    a = _milvus(tmp_path / "idx", embedder)
    a.ingest([corpus])
    old = a.snapshot.vector_store
    a.ingest([corpus], rebuild=True)
    new = a.snapshot.vector_store
    assert new.collection != old.collection and new.family == old.family
    client = new._client()
    assert old.collection in client.list_collections()  # readers of the previous version may still use it
    (corpus / "gamma.txt").write_text(GAMMA)
    a.ingest([corpus])
    assert old.collection not in client.list_collections()
    assert a.ask("How deep is Gamma lake?").citations[0].doc_id == "gamma.txt"


def test_milvus_lite_searches_exactly_at_every_size_and_a_server_switches_to_ivf(tmp_path):
    # Milvus Lite's IVF_FLAT ignores nprobe (recall@10 0.926 at 100k chunks, benchmarks/milvus.py);
    # a server's IVF_FLAT is what makes large collections fast there.
    from rag import Settings

    lite = MilvusStore.empty(Settings(index_dir=tmp_path / "a", vector_store="milvus"), 8)
    server = MilvusStore.empty(Settings(index_dir=tmp_path / "b", vector_store="milvus",
                                        milvus_uri="http://127.0.0.1:19530"), 8)
    assert lite.exact_max == LITE_EXACT_MAX and lite._kind_for(10_000_000) == "FLAT"
    assert server.exact_max == EXACT_MAX and server._kind_for(EXACT_MAX) == "IVF_FLAT"


def test_a_milvus_lite_3_database_folder_is_a_clear_error(tmp_path, embedder):
    (tmp_path / "old.db").mkdir()  # milvus-lite 3.x kept its database in a folder
    a = make_assistant(tmp_path / "idx", embedder, vector_store="milvus", milvus_uri=str(tmp_path / "old.db"))
    with pytest.raises(CorruptIndexError, match="milvus-lite 3.x.*--rebuild"):
        a.ingest([SEED_FILE])
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_a_milvus_lite_database_used_by_another_process_is_a_clear_error(tmp_path, embedder, caplog):
    db = tmp_path / "busy.db"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pymilvus import MilvusClient; "
                               f"MilvusClient({str(db)!r}); print('ready', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        a = make_assistant(tmp_path / "idx", embedder, vector_store="milvus", milvus_uri=str(db))
        with pytest.raises(BackendError, match="one process per database"):
            a.ingest([SEED_FILE])
        assert not (tmp_path / "idx" / "CURRENT").exists()
        # Only the error above says it: Milvus Lite's own log lines on the root logger are dropped.
        assert not [r for r in caplog.records if "milvus_lite" in r.pathname], caplog.text
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
