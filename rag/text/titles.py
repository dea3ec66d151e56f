"""The part of a document's title that names its topic, for the encoder and the reranker.

A title tells a passage's topic: "Super Bowl 50" before "The game was played on February 7"
says which game. But a news headline says much more than its topic ("US says 8,000 North Korean
troops reached Russia's Kursk region as Pyongyang tests solid-fuel ICBM", 18 words), and put
before a short sentence it outweighs the sentence: every sentence of the article then looks
like the headline to the encoder, and a question about anything else matches none of them well.
So what is embedded with a chunk or a sentence (rag/embed/base.py, passage_text), and what the
reranker reads before a sentence (rag/answer/extractive.py, rerank_text), start with at most the
title's first TITLE_WORDS words.

Measured by benchmarks/title_words.py on the fitting sets with their titles replaced by
news-style headlines (each article's first sentence, up to 16 words), hybrid mode, shipped
models: the whole headline against its first 8 words, SQuAD seed 1 / natural tuning part: hit@5
0.956 -> 0.959 / 0.914 -> 0.923, citation_support@1 0.778 -> 0.780 / 0.581 -> 0.615,
answer_contains_gold 0.842 -> 0.847 / 0.667 -> 0.701. No title at all did worse (natural
answer_contains_gold 0.658). The sets' own titles have at most 5 words, so on them nothing
changes (with every text encoded alone, the natural tuning part's results are identical both
ways; batched, the int8 encoder's batch effects move them a little: README "Known gaps").
"""

from __future__ import annotations

TITLE_WORDS = 8


def title_topic(title: str) -> str:
    """The first TITLE_WORDS words of a title (the whole title when it is that short)."""
    words = title.split()
    return " ".join(words[:TITLE_WORDS]) if len(words) > TITLE_WORDS else title
