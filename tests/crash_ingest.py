"""`rag ingest` that kills itself with SIGKILL at a named point (driven by tests/test_crash.py).

    python tests/crash_ingest.py POINT ingest PATH... --index DIR --quiet

Everything up to the point is the real command; then the process dies as from `kill -9`: no
exception handler, no `finally`, no atexit runs. The points follow one ingest in order.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at_call(owner: Any, name: str, n: int = 1, after: bool = False, when=lambda *a, **k: True) -> None:
    """Replace owner.name so that its n-th call (counting calls where `when` holds) kills us,
    before the original runs or, with `after`, once it has returned."""
    original = getattr(owner, name)
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        if when(*args, **kwargs):
            calls += 1
            if calls == n and not after:
                die()
        result = original(*args, **kwargs)
        if calls == n and after:
            die()
        return result

    setattr(owner, name, wrapper)


def arm(point: str) -> None:
    import rag.indexer as indexer
    import rag.store.folder as folder

    points = {
        "reading": lambda: kill_at_call(indexer, "read_article", 1),         # before anything is written
        "embedding": lambda: kill_at_call(indexer, "embed_with_cache", 1),   # model loaded, nothing written
        "mid-write": lambda: kill_at_call(folder.np, "save", 3),             # .tmp-*/ half written
        "before-swap": lambda: kill_at_call(folder, "_atomic_write_text", 1),  # v00000N/ complete, not current
        # CURRENT.tmp-* written, not yet renamed over CURRENT
        "mid-pointer": lambda: kill_at_call(folder.os, "replace", 1,
                                            when=lambda src, dst, *a, **k: str(dst).endswith("CURRENT")),
        "after-swap": lambda: kill_at_call(folder, "_atomic_write_text", 1, after=True),  # old version not yet removed
    }
    points[point]()


if __name__ == "__main__":
    arm(sys.argv[1])
    from rag.cli import main

    sys.exit(main(sys.argv[2:]))
