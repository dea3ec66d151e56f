"""Word-level text analysis shared by BM25 indexing and sentence scoring.

Lower-cased word tokens, English stop words removed, Snowball-stemmed (PyStemmer), so
"troops" matches "troop" and "flew" stays "flew". One function, used on both sides, so the
query and the index can never disagree on what a term is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"\w+(?:[.'’]\w+)*")
_STOP = frozenset(STOPWORDS_EN) | {"s"}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    words = [w.replace("’", "'").replace(".", "") for w in _WORD.findall(text.lower())]
    words = [w.split("'")[0] if w.endswith(("'s", "'t")) else w for w in words]
    return _stemmer().stemWords([w for w in words if w and w not in _STOP])


def terms_batch(texts: list[str]) -> list[list[str]]:
    return [terms(t) for t in texts]
