"""The BM25 index (rag/store/lexical.py) against bm25s itself, and its updates against a rebuild."""

from __future__ import annotations

import random

import bm25s
import numpy as np

from rag.store.lexical import Bm25Index, load_lexical


def _rows(seed: int, n: int = 400) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    return [[rng.choice(words[: rng.randint(5, 300)]) for _ in range(rng.randint(0, 60))] for _ in range(n)]


def test_scores_match_bm25s():
    rows = _rows(0)
    ours = Bm25Index.build(rows)
    ref = bm25s.BM25()
    ref.index(rows, show_progress=False)
    rng = random.Random(1)
    for _ in range(50):
        query = [f"w{rng.randint(0, 320)}" for _ in range(rng.randint(1, 5))]
        known = [t for t in query if t in ref.vocab_dict]
        want = ref.get_scores(known) if known else np.zeros(len(rows))
        np.testing.assert_allclose(ours.scores(query), want, atol=1e-5)
    for term, idf in list(ours.idf.items())[:20]:
        df = sum(term in r for r in rows)
        assert abs(idf - np.log(1 + (len(rows) - df + 0.5) / (df + 0.5))) < 1e-5


def test_an_update_equals_a_rebuild_and_survives_a_save(tmp_path):
    rows = _rows(2)
    index = Bm25Index.build(rows)
    keep = np.array([i % 3 != 0 for i in range(len(rows))])
    new = _rows(3, 50) + [["only", "new", "words"]]
    updated = index.updated(keep, new)
    rebuilt = Bm25Index.build([r for r, k in zip(rows, keep) if k] + new)
    assert len(updated) == len(rebuilt) and set(updated.vocab) == set(rebuilt.vocab)
    for query in (["w1", "w5"], ["only", "w77"], ["w299", "w299"]):
        np.testing.assert_allclose(updated.scores(query), rebuilt.scores(query), atol=1e-6)
    assert updated.idf == rebuilt.idf
    assert len(index) == len(rows)  # the old version is untouched
    updated.save(tmp_path / "lexical")
    loaded = load_lexical(tmp_path / "lexical")
    np.testing.assert_allclose(loaded.scores(["w1", "only"]), updated.scores(["w1", "only"]))
    # Terms no kept row holds are gone from the vocabulary, so idf means "occurs somewhere".
    dropped = {t for r, k in zip(rows, keep) if not k for t in r} - {t for r, k in zip(rows, keep) if k for t in r}
    assert not dropped & set(updated.idf)


def test_top_and_scores_of_agree_with_the_full_scores():
    index = Bm25Index.build(_rows(4))
    query = ["w3", "w40", "w40", "nowhere"]
    full = index.scores(query)
    rows, scores = index.top(query, 10)
    assert len(rows) == 10 and (scores > 0).all()
    np.testing.assert_allclose(np.sort(scores)[::-1], np.sort(full)[::-1][:10])
    np.testing.assert_allclose(index.scores_of(query, rows), scores)
    assert index.top(["nowhere"], 10)[0].size == 0
