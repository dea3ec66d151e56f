"""Checks on text that comes from outside: a question, a history turn, a file name.

Python strings may hold lone surrogates (U+D800..U+DFFF) that no UTF-8 encoder accepts: JSON
parsers produce them from escapes like "\\ud800", and Python turns undecodable argv bytes into
them ("\\udcff" for b"\\xff"). Such text cannot be tokenised, logged or echoed back in a JSON
answer, so it is refused at the edge with an InputError instead of failing deep inside.
"""

from __future__ import annotations

import re

from rag.errors import InputError

_SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_problem(text: str) -> str | None:
    """None for text that encodes as UTF-8, else where the first lone surrogate is."""
    bad = _SURROGATE.search(text)
    if bad is None:
        return None
    return f"a lone surrogate U+{ord(bad.group()):04X} at character {bad.start()}"


def check_text(text: str, name: str) -> str:
    """`text` unchanged, or InputError naming `name` when it is not valid Unicode text."""
    problem = unicode_problem(text)
    if problem:
        raise InputError(f"{name} is not valid Unicode text ({problem}); send UTF-8 text")
    return text


def size_text(n_bytes: float) -> str:
    """A size for a message: "20.0 MB", or "1,234 bytes" below 0.1 MB (a limit of 0.0001 MB
    said "over the 0.0 MB limit")."""
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{int(n_bytes):,} bytes"
