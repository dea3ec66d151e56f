"""Idempotence, updates, removal, crash safety and mismatch errors, on a real index."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import assert_citations_verified, make_assistant, write_corpus
from rag import IndexMismatchError, IndexNotFoundError
from rag.errors import CorruptIndexError, InputError
from rag.store import IndexFolder

ARTICLE_A = "Alpha river report\n\nThe Alpha river floods every spring. Farmers plant rice after the floods.\n"
ARTICLE_B = "Beta mountain notes\n\nBeta mountain is 3,200 metres high. Snow covers it from October.\n"


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != ".lock":
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus", alpha=ARTICLE_A, beta=ARTICLE_B)


def test_reingest_unchanged_embeds_nothing_and_keeps_bytes(corpus, tmp_path, embedder):
    a = make_assistant(tmp_path / "idx", embedder)
    first = a.ingest([corpus])
    assert sorted(first.added) == ["alpha.txt", "beta.txt", "seed.txt"]
    before = _tree_hash(tmp_path / "idx")
    second = a.ingest([corpus])
    assert second.unchanged and not second.changed and second.chunks_embedded == 0
    assert _tree_hash(tmp_path / "idx") == before


def test_changed_file_replaces_its_chunks_and_reuses_cached_vectors(corpus, tmp_path, embedder):
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    (corpus / "alpha.txt").write_text(ARTICLE_A + "\nA new dam was built in 2020.\n")
    report = a.ingest([corpus])
    assert report.updated == ["alpha.txt"] and sorted(report.unchanged) == ["beta.txt", "seed.txt"]
    assert report.chunks_embedded == 1
    texts = [c.text for c in a.snapshot.chunks if c.doc_id == "alpha.txt"]
    assert any("dam was built" in t for t in texts)
    # Reopening from disk gives the same answer as the in-memory snapshot.
    reopened = make_assistant(tmp_path / "idx", embedder)
    assert reopened.ask("When was the dam built?").citations[0].doc_id == "alpha.txt"


def test_prune_and_remove(corpus, tmp_path, embedder):
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    (corpus / "beta.txt").unlink()
    assert a.ingest([corpus]).removed == []  # without --prune nothing is removed
    report = a.ingest([corpus], prune=True)
    assert report.removed == ["beta.txt"]
    assert "beta.txt" not in a.snapshot.documents
    a.remove("alpha.txt")
    assert sorted(a.snapshot.documents) == ["seed.txt"]
    assert all(c.doc_id == "seed.txt" for c in a.snapshot.chunks)
    assert len(a.snapshot.vector_store) == len(a.snapshot.chunks) == len(a.snapshot.lexical)
    with pytest.raises(InputError, match="no document"):
        a.remove("alpha.txt")


def test_crash_mid_write_leaves_the_last_good_index(corpus, tmp_path, embedder, monkeypatch):
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    before = _tree_hash(tmp_path / "idx")
    (corpus / "gamma.txt").write_text("Gamma lake is deep. Fish live there.\n")

    import rag.store.folder

    def explode(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(rag.store.folder.np, "save", explode)
    with pytest.raises(OSError, match="simulated"):
        a.ingest([corpus])
    monkeypatch.undo()
    assert _tree_hash(tmp_path / "idx") == before
    assert not list((tmp_path / "idx").glob(".tmp-*"))
    reopened = make_assistant(tmp_path / "idx", embedder)
    assert "gamma.txt" not in reopened.snapshot.documents and "alpha.txt" in reopened.snapshot.documents


def test_model_mismatch_names_both_models(corpus, tmp_path, embedder):
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    manifest_path = IndexFolder(tmp_path / "idx").current_version() / "manifest.json"
    m = json.loads(manifest_path.read_text())
    m["model"]["id"] = "some-other-model"
    manifest_path.write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="some-other-model.*all-MiniLM-L6-v2.*--rebuild"):
        make_assistant(tmp_path / "idx", embedder).ask("river?")
    m["model"]["id"], m["format_version"] = "all-MiniLM-L6-v2", 99
    manifest_path.write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="format version 99"):
        make_assistant(tmp_path / "idx", embedder).ask("river?")


def test_corrupt_and_missing_index(corpus, tmp_path, embedder):
    with pytest.raises(IndexNotFoundError):
        make_assistant(tmp_path / "none", embedder).ask("river?")
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    version = IndexFolder(tmp_path / "idx").current_version()
    (version / "chunks.jsonl").write_text('{"broken": ')
    with pytest.raises(CorruptIndexError, match="rebuild"):
        make_assistant(tmp_path / "idx", embedder).ask("river?")


@pytest.mark.parametrize("name", ["vectors.npy", "sentence_vectors.npy"])
def test_vectors_overwritten_with_other_bytes_of_the_same_size_are_a_clear_error(corpus, tmp_path, embedder, name):
    # Found by review: every shape check passed, and answers came out silently wrong.
    import numpy as np

    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    path = IndexFolder(tmp_path / "idx").current_version() / name
    header = len(path.read_bytes()) - np.load(path).nbytes
    data = bytearray(path.read_bytes())
    data[header:] = np.random.default_rng(0).bytes(len(data) - header)
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptIndexError, match=f"{name} is damaged .*rebuild"):
        make_assistant(tmp_path / "idx", embedder).ask("river?")


def test_bad_files_are_skipped_and_counted(tmp_path, embedder):
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "good.txt").write_text(ARTICLE_A)
    (d / "empty.txt").write_text("")
    (d / "bin.txt").write_bytes(b"\x00\x01\x02")
    (d / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    (d / "big.txt").write_text("word " * 400_000)
    a = make_assistant(tmp_path / "idx", embedder, max_file_mb=1)
    report = a.ingest([d])
    assert report.added == ["good.txt"]
    assert len(report.skipped) == 4
    assert all(any(name in m for name in ("empty", "bin", "latin", "big")) for m in report.skipped)


def test_rebuild_reuses_cached_vectors(corpus, tmp_path, embedder):
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    report = a.ingest([corpus], rebuild=True)
    assert report.chunks_embedded == 0 or report.chunks_reused > 0


def test_rebuild_works_with_new_chunking_and_stale_analyzer(corpus, tmp_path, embedder):
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    manifest_path = IndexFolder(tmp_path / "idx").current_version() / "manifest.json"
    m = json.loads(manifest_path.read_text())
    m["lexical_analyzer"] = "an-older-analyzer"
    manifest_path.write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="an-older-analyzer"):
        make_assistant(tmp_path / "idx", embedder).ask("river?")
    report = make_assistant(tmp_path / "idx", embedder).ingest([corpus], rebuild=True)
    assert report.chunks_embedded == 0 and report.chunks_reused > 0  # vectors came from the old index
    smaller = make_assistant(tmp_path / "idx", embedder, chunk_tokens=60)
    with pytest.raises(InputError, match="chunked with"):
        smaller.ingest([corpus])
    report = smaller.ingest([corpus], rebuild=True)
    assert report.added and smaller.ask("How high is Beta mountain?").citations


def test_a_rebuild_from_an_older_format_embeds_everything_again(corpus, tmp_path, embedder):
    # Format 3 embedded whole titles (rag/text/titles.py): its vectors belong to other texts, and
    # reusing them under today's texts would mix two kinds of vector in one index.
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    manifest_path = IndexFolder(tmp_path / "idx").current_version() / "manifest.json"
    m = json.loads(manifest_path.read_text())
    m["format_version"] = 3
    manifest_path.write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="format version 3.*--rebuild"):
        make_assistant(tmp_path / "idx", embedder).ask("river?")
    report = make_assistant(tmp_path / "idx", embedder).ingest([corpus], rebuild=True)
    assert report.chunks_reused == 0 and report.chunks_embedded > 0
    assert make_assistant(tmp_path / "idx", embedder).ask("How high is Beta mountain?").citations


def test_loaded_index_reads_chunks_on_demand_and_outlives_a_swap(corpus, tmp_path, embedder):
    from rag.store.chunk_table import ChunkTable

    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    reader = make_assistant(tmp_path / "idx", embedder)
    old = reader.snapshot
    assert isinstance(old.chunks, ChunkTable)  # records stay on disk until a query needs one
    old_version = IndexFolder(tmp_path / "idx").current_version()
    writer = make_assistant(tmp_path / "idx", embedder)
    (corpus / "gamma.txt").write_text("Gamma lake is 80 metres deep. Trout live there.\n")
    writer.ingest([corpus])
    # A writer keeps a version a snapshot in its own process uses (tests/test_index_versions.py);
    # a writer in another process does not know of this reader and removes it, as here.
    shutil.rmtree(old_version)
    # The reader's snapshot still answers from its own (now deleted) version, whole.
    hits = reader.retriever(snapshot=old).retrieve(reader.query("How high is Beta mountain?"), 3)
    assert hits and all(h.chunk.doc_id != "gamma.txt" for h in hits)
    assert "beta.txt" in {h.chunk.doc_id for h in hits}
    assert make_assistant(tmp_path / "idx", embedder).ask("How deep is Gamma lake?").citations[0].doc_id == "gamma.txt"


def test_a_corrupt_chunk_line_is_a_clear_error(corpus, tmp_path, embedder):
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    version = IndexFolder(tmp_path / "idx").current_version()
    path = version / "chunks.jsonl"
    data = bytearray(path.read_bytes())
    data[5:15] = b"#" * 10  # same length, so the offsets still line up
    path.write_bytes(bytes(data))
    snap = make_assistant(tmp_path / "idx", embedder).snapshot
    with pytest.raises(CorruptIndexError, match="line 1"):
        snap.chunks[0]


def test_a_changed_sidecar_title_reingests_the_file(corpus, tmp_path, embedder):
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    (corpus / "alpha.meta.json").write_text('{"title": "The Alpha river"}')
    report = a.ingest([corpus])
    assert report.updated == ["alpha.txt"]
    assert a.snapshot.documents["alpha.txt"].title == "The Alpha river"


def test_a_new_text_version_reads_each_file_again_and_reuses_its_vectors(corpus, tmp_path, embedder, monkeypatch):
    # A change to sentence splitting or term analysis (rag/text VERSION) must reach indexed files
    # at their next ingest, though their bytes did not change; their vectors are reused.
    import rag.ingest.reader as reader

    monkeypatch.setattr(reader, "TEXT_VERSION", "text-1")
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    monkeypatch.undo()
    report = a.ingest([corpus])
    assert sorted(report.updated) == ["alpha.txt", "beta.txt", "seed.txt"]
    assert report.chunks_embedded == 0 and report.sentences_embedded == 0
    assert not a.ingest([corpus]).changed


def test_an_index_of_the_analyzer_before_nfkc_is_still_read(corpus, tmp_path, embedder, monkeypatch):
    import rag.ingest.reader as reader

    monkeypatch.setattr(reader, "TEXT_VERSION", "text-1")  # as an index of that analyzer was made
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    monkeypatch.undo()
    manifest_path = IndexFolder(tmp_path / "idx").current_version() / "manifest.json"
    m = json.loads(manifest_path.read_text())
    m["lexical_analyzer"] = "words-lower-stop_en-irregular_en-snowball_en"
    manifest_path.write_text(json.dumps(m))
    a = make_assistant(tmp_path / "idx", embedder)
    assert a.ask("How high is Beta mountain?").citations[0].doc_id == "beta.txt"
    # An ingest that reads every document again (their hashes hold the old text version) leaves
    # an index of today's terms, and says so.
    assert sorted(a.ingest([corpus]).updated) == ["alpha.txt", "beta.txt", "seed.txt"]
    from rag.store import LEXICAL_ANALYZER
    assert a.snapshot.manifest["lexical_analyzer"] == LEXICAL_ANALYZER


def test_a_decomposed_file_is_found_and_split_as_typed(tmp_path, embedder):
    # Saved decomposed ("u" + U+0308, as macOS writes it), asked composed, as keyboards type it,
    # in lexical mode, where only the terms can match; and a sentence that starts with a
    # non-ASCII capital is cited alone, at its exact offsets in the file.
    text = ("Zurich lakes\n\nThe old harbour was rebuilt in 1890. Über 40 boats use it. "
            "The ferry to Ku\u0308snacht runs hourly and carries 300 passengers.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lakes.txt").write_text(text, encoding="utf-8")
    (corpus / "other.txt").write_text("Lake ferries\n\nThe ferry to Rapperswil carries 500 passengers.\n")
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    assert [h.chunk.doc_id for h in a.search("Küsnacht", mode="lexical")] == ["lakes.txt"]
    answer = a.ask("How many passengers does the ferry to Küsnacht carry?", mode="lexical")
    assert not answer.abstained and answer.citations[0].doc_id == "lakes.txt"
    assert "300 passengers" in answer.citations[0].quote
    assert_citations_verified(answer)
    boats = a.ask("How many boats use the harbour?")
    assert any(c.quote == "Über 40 boats use it." for c in boats.citations)
    assert_citations_verified(boats)


def test_the_python_api_names_a_wrong_type(seed_assistant, tmp_path):
    # Found by review: a string was read as a list of one-letter paths ("s: no such file or
    # folder"), None was a TypeError, and a number was "question is empty".
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "note.md").write_text("Quell ferry\n\nThe ferry carries 90 passengers.\n", encoding="utf-8")
    assistant = make_assistant(tmp_path / "index", seed_assistant.embedder)
    assert assistant.ingest(str(folder)).added == ["note.md"]  # one path, as a string
    with pytest.raises(InputError, match="got NoneType"):
        assistant.ingest([None])
    with pytest.raises(InputError, match="question must be text, got int"):
        seed_assistant.ask(123)
