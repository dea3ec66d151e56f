"""Shared fixtures: one real MiniLM model for the whole session, real FAISS, real BM25."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.cite.verify import citation_problem_for
from rag.embed.torch_encoder import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "2024-10-31-afp-north-korean-troops-kursk-icbm-test.txt"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    e = SentenceTransformerEmbedder()
    e.warm_up()
    return e


def make_assistant(index_dir: Path, embedder, **settings) -> Assistant:
    return Assistant(Settings(index_dir=index_dir, **settings), embedder=embedder)


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
    """Every citation of `answer` matches its original file, and numbering is 1..n."""
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        problem = citation_problem_for(c)
        assert problem is None, f"citation [{c.n}] {c.source} {c.start}-{c.end}: {problem}"
        assert f"[{c.n}]" in answer.answer
    if answer.abstained:
        assert not answer.citations
