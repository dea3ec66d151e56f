from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SEED_FILE
from rag.text.chunking import ChunkingConfig, chunk_article, get_encoding
from rag.cite.verify import citation_problem
from rag.ingest import read_article
from rag.ingest.mapped import MappedText
from rag.text.sentences import is_heading, split_sentences


def test_sentences_respect_abbreviations_and_quotes():
    text = 'Citing U.S. intelligence, Dr. Smith spoke. "It is done," he said. It flew 1,000 km! Then? Yes.'
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == ["Citing U.S. intelligence, Dr. Smith spoke.", '"It is done," he said.',
                   "It flew 1,000 km!", "Then?", "Yes."]


@pytest.mark.parametrize("text, sentences", [
    ("The capital moved to Japan. Über was founded there.", ["The capital moved to Japan.", "Über was founded there."]),
    ("The khan died in 1227. Ögedei succeeded him.", ["The khan died in 1227.", "Ögedei succeeded him."]),
    ("He left. ¿Cuándo vuelve? ¡Pronto! Yes.", ["He left.", "¿Cuándo vuelve?", "¡Pronto!", "Yes."]),
    ("Costs rose, e.g. rent. and food.", ["Costs rose, e.g. rent. and food."]),  # no capital: one sentence
    ("Mr. Ørsted spoke. Он ушёл.", ["Mr. Ørsted spoke.", "Он ушёл."]),  # an abbreviation still holds
])
def test_a_capital_of_any_script_starts_a_sentence(text, sentences):
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


def test_seed_chunks_are_whole_sentences_within_the_token_limit():
    article = read_article(SEED_FILE, 10**7)
    config = ChunkingConfig(max_tokens=120, overlap_sentences=1)
    chunks = chunk_article("seed", article.title, article.clean, config)
    enc = get_encoding(config.encoding)
    all_sentences = [article.clean.text[s:e] for s, e in split_sentences(article.clean.text)]
    assert len(chunks) > 3
    for c in chunks:
        assert sum(len(enc.encode_ordinary(s.text)) for s in c.sentences) <= 120
        for s in c.sentences:
            assert s.text in all_sentences  # never a cut sentence
            assert citation_problem(article.raw, s.start, s.end, s.text) is None
        assert c.start == c.sentences[0].start and c.end == c.sentences[-1].end
    for a, b in zip(chunks, chunks[1:]):
        assert a.sentences[-1] == b.sentences[0]  # one sentence of overlap


def test_a_sentence_longer_than_the_limit_is_split_at_words():
    text = " ".join(f"word{i}" for i in range(300)) + "."
    chunks = chunk_article("d", "t", MappedText.identity(text), ChunkingConfig(max_tokens=50, overlap_sentences=0))
    assert len(chunks) > 3
    joined = " ".join(c.text for c in chunks)
    assert joined == text
    for c in chunks:
        assert c.n_tokens <= 50


@pytest.mark.parametrize("sentence, heading", [
    ("Ukraine outrage", True),
    ("Advance on missile technology", True),
    ("It flew 1,000 kilometers.", False),
    ("Height: 7,000 km", False),  # a short line with a number may be the one place a fact is
    ("Seeking advantage in his grinding invasion of Ukraine without a full stop at the end", False),
    ("- Antony Blinken - Lloyd Austin", False),  # a list may be the answer ("Who attended?")
    ("Antony Blinken, Lloyd Austin", False),
    ("The action and the reaction are simultaneous:", False),  # leads into what follows
])
def test_a_heading_is_a_few_words_that_state_nothing(sentence, heading):
    assert is_heading(sentence) is heading


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(body=st.lists(st.sampled_from(list("ab.U.S!?)\"’ \n1") + ["Dr", "e.g", "x" * 70, "a." * 40]),
                     max_size=60).map("".join),
       cut=st.integers(0, 2000))
def test_the_word_before_a_full_stop_is_found_from_the_end_alone(body, cut):
    """`_word_before` reads only the end of a paragraph (splitting was quadratic in its length,
    found by review); it must find what searching the whole of it finds, long words included."""
    from rag.text.sentences import _WORD_BEFORE, _word_before

    end = min(cut, len(body))
    whole, tail = _WORD_BEFORE.search(body[:end]), _word_before(body, end)
    assert (whole is None) == (tail is None)
    if whole is not None:
        assert whole.group(1) == tail.group(1)


def test_a_byte_order_mark_is_not_part_of_the_first_sentence():
    # Found by review: an answer from a .txt saved with a BOM began with U+FEFF.
    assert split_sentences("\ufeffThe keeper retired in 1987. He left.") == [(1, 28), (29, 37)]


def test_a_long_run_of_dots_is_read_once():
    # A PDF's dot leaders ("Contents .......... 7"): the boundary was tried from every dot of the
    # run, in time growing with the square of its length (50,000 dots: 168 s); now one pass.
    text = "Contents" + "." * 50_000 + "x. Then it ends."
    assert [text[s:e] for s, e in split_sentences(text)] == ["Contents" + "." * 50_000 + "x.", "Then it ends."]
    short = "Wait... Then. x!!! Yes?! No."
    assert [short[s:e] for s, e in split_sentences(short)] == ["Wait...", "Then. x!!!", "Yes?!", "No."]
