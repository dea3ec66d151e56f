from __future__ import annotations

import pytest

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
