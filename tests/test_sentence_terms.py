"""The analysed terms of every sentence, kept at ingest (rag/store/sentence_terms.py)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from conftest import make_assistant, write_corpus
from rag.errors import CorruptIndexError
from rag.retrieve import hybrid
from rag.store import IndexFolder, SentenceTerms
from rag.text.lexical import question_terms, terms

ARTICLE = "Alpha river report\n\nThe Alpha river floods every spring. Farmers plant rice after the floods.\n"


def test_an_update_keeps_the_kept_sentences_terms_and_forgets_unused_words():
    st = SentenceTerms.build([["river", "flood"], ["snow"], ["flood", "rice"]])
    after = st.updated(np.array([True, False, True]), [["dam", "river", "dam"]])
    assert after.terms_of(0, len(after)) == [{"river", "flood"}, {"flood", "rice"}, {"dam", "river"}]
    assert "snow" not in after.vocab and len(after.ids) == 6
    assert st.terms_of(0, 3)[1] == {"snow"}  # the old one is not changed


def test_coverage_is_the_idf_share_of_the_question_terms_each_sentence_holds():
    st = SentenceTerms.build([["river", "flood"], [], ["rice"]])
    got = st.coverage(np.array([0, 1, 2]), {"flood": 2.0, "rice": 1.0, "dam": 1.0}, 4.0)
    assert got.tolist() == [0.5, 0.0, 0.25]


def test_kept_terms_give_what_analysing_the_sentences_gives(seed_assistant):
    snap = seed_assistant.snapshot
    assert snap.sentence_term_index is not None  # a new index keeps them
    analysed = replace(snap, sentence_term_index=None)  # as an index written before them
    for row in range(len(snap.chunks)):
        assert snap.sentence_terms(row) == [frozenset(terms(s.text)) for s in snap.chunks[row].sentences]
    rows = np.arange(len(snap.chunks))
    for question in ("How high did the missile go?", "How many North Korean troops are in Russia?", "Who is Kim?"):
        q_terms = question_terms(question)
        assert np.array_equal(hybrid.best_sentence_coverage(snap, rows, q_terms),
                              hybrid.best_sentence_coverage(analysed, rows, q_terms))


def test_an_index_written_before_sentence_terms_answers_and_gets_them_at_its_next_ingest(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus", alpha=ARTICLE)
    a = make_assistant(tmp_path / "idx", embedder)
    a.ingest([corpus])
    version = IndexFolder(tmp_path / "idx").current_version()
    shutil.rmtree(version / "sentence_terms")  # what an older release wrote
    old = make_assistant(tmp_path / "idx", embedder)
    assert old.snapshot.sentence_term_index is None
    assert old.ask("When does the Alpha river flood?").citations[0].doc_id == "alpha.txt"
    (corpus / "beta.txt").write_text("Beta mountain notes\n\nBeta mountain is 3,200 metres high.\n")
    old.ingest([corpus])
    kept = old.snapshot.sentence_term_index
    assert kept is not None and len(kept) == int(old.snapshot.sentence_row_start[-1])
    reopened = make_assistant(tmp_path / "idx", embedder)
    assert reopened.snapshot.sentence_terms(0) == old.snapshot.sentence_terms(0)


def test_sentence_terms_that_do_not_match_the_index_are_refused(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus", alpha=ARTICLE)
    make_assistant(tmp_path / "idx", embedder).ingest([corpus])
    version = IndexFolder(tmp_path / "idx").current_version()
    np.save(version / "sentence_terms" / "start.npy", np.zeros(2, dtype=np.int64))
    with pytest.raises(CorruptIndexError, match="sentence terms do not match"):
        make_assistant(tmp_path / "idx", embedder).ask("When does the Alpha river flood?")
