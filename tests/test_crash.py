"""kill -9 of a real `rag ingest` process at every step of an ingest: the index must open at the
old or the new version, the next ingest must clean what the dead one left, and a re-run must
complete. The kills are real SIGKILLs of a real subprocess; tests/crash_ingest.py picks the
moment (deterministic points), and one more kill comes from outside at a moment of the OS's
choosing (when a .tmp-* folder appears)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SEED_FILE, assert_citations_verified, make_assistant
from rag.store import IndexFolder

pytestmark = pytest.mark.slow

POINTS = ["reading", "embedding", "mid-write", "before-swap", "mid-pointer", "after-swap"]
OLD = {"seed.txt", "beta.txt"}
NEW = OLD | {"gamma.txt"}
LOGS = 16  # files the outside kill's ingest adds


@pytest.fixture(scope="module")
def base(tmp_path_factory, embedder) -> Path:
    corpus = tmp_path_factory.mktemp("crash-corpus")
    shutil.copy(SEED_FILE, corpus / "seed.txt")
    (corpus / "beta.txt").write_text("Beta mountain notes\n\nBeta mountain is 3,200 metres high.\n")
    index = tmp_path_factory.mktemp("crash-base") / "index"
    make_assistant(index, embedder).ingest([corpus])
    return index


@pytest.fixture
def setup(base, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(base, index)
    more = tmp_path / "more"
    more.mkdir()
    (more / "gamma.txt").write_text("Gamma lake report\n\nGamma lake is 80 metres deep. Trout live there.\n")
    return index, more


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}


def entries(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith(("v", ".tmp-", "CURRENT.tmp-")))


def check_opens_at(index: Path, embedder, allowed: list[set[str]]) -> set[str]:
    assistant = make_assistant(index, embedder)
    docs = set(assistant.snapshot.documents)
    assert docs in allowed, docs
    answer = assistant.ask("How high is Beta mountain?")
    assert answer.citations and answer.citations[0].doc_id == "beta.txt"
    assert_citations_verified(answer)
    assistant.close()
    return docs


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_each_step_of_an_ingest(point, setup, embedder):
    index, more = setup
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "crash_ingest.py"), point, "ingest", str(more),
                           "--index", str(index), "--quiet"], cwd=ROOT, env=env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = entries(index)
    check_opens_at(index, embedder, [NEW] if point in ("after-swap",) else [OLD])
    # The re-run completes and leaves only the live version.
    report = make_assistant(index, embedder).ingest([more])
    assert set(make_assistant(index, embedder).snapshot.documents) == NEW
    assert entries(index) == [IndexFolder(index).current_version().name], (left, report.summary())


def test_kill_9_from_outside_while_the_version_is_written(setup, embedder):
    index, more = setup
    # Enough text that writing is not instantaneous: with 16 such files the .tmp-* folder lived 20
    # to 320 ms (the 2 ms polling below catches it); 40 files encoded for 70 s, twice, to the same end.
    for i in range(LOGS):
        (more / f"log{i}.txt").write_text(f"Ferry log {i}\n\n" + " ".join(
            f"Ferry {i} carried {n} passengers on day {n}." for n in range(200)) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(more), "--index", str(index), "--quiet"],
                            cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".tmp-") for p in index.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the ingest ended before its version was caught being written"
    docs = check_opens_at(index, embedder, [OLD, NEW | {f"log{i}.txt" for i in range(LOGS)}])
    # A real re-run of the command completes and cleans up.
    rerun = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(more), "--index", str(index), "--quiet"],
                           cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert len(make_assistant(index, embedder).snapshot.documents) == len(OLD) + 1 + LOGS
    assert entries(index) == [IndexFolder(index).current_version().name], docs
