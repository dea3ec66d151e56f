"""Requests for what an article says as a whole, answered with its lead.

"What is this article about?", "Summarize the article", "tl;dr", "What are the main points?"
ask for no fact, so no sentence states what they ask, and the question-answering path refuses
them ("The articles do not say"). Yet an article's first sentences are its own summary: news is
written with the most important facts first, and a wiki page opens with what its subject is. So
such a request is answered with those sentences, verbatim and cited like any answer.

Which article:
- the search found one article, or the request names its topic ("Summarize the article about
  the Amazon"): the first 3 sentences of the best hit's article;
- it found several and the request names no topic: the first sentence of each of the 3
  best-ranked articles, best first;
- the request asks for the articles in the plural ("Summarize the articles", "What are these
  documents about?") and names no topic: the same, the articles the search found first, then
  others of the index in the order they were added. A review found "Summarize the articles"
  over four articles answered with one, whose chunks were all the search found.
"Names a topic" means the search text holds a word other than the request's own ("summarize",
"article", "main points"...); for a follow-up ("Summarize it") the search text has the earlier
question in front (rag/conversation.py), so the article it was about is the one summarised.

Only requests phrased as one of the patterns below count, and what they summarise must be an
article or a pronoun: "What was the treaty about?" asks about a treaty, and "Summarize the
missile test" goes the question-answering way (the first sentences of the article would not be
about the test). Heading lines ("Ukraine outrage") are skipped: they state nothing.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

from rag.text.lexical import question_terms, terms
from rag.text.sentences import is_heading
from rag.types import Chunk, Hit, Sentence

LEAD_SENTENCES = 3  # of one article
ARTICLES = 3  # of several, their first sentence each

_POLITE = r"(?:(?:can|could|would|will) you (?:please )?|please )?"
# What a request refers to: a pronoun, or an article, document, story... with up to 4 words before
# it ("the Amazon article"). "paper" and "report" are left out: "What was the Plos Pathogens paper
# about?" (SQuAD dev) asks about a paper an article mentions.
_REF = (r"(?:it|this|that|them|these|those|(?:the |this |that |these |those |your |my )?(?:[\w'-]+ ){0,4}?"
        r"(?:article|document|doc|story|text|page|piece|file|passage)s?)")
_TAIL = r"(?: (?:about|on|of|regarding) .+| for me| please)*"
_REQUESTS = [re.compile(p, re.I) for p in (
    _POLITE + r"(?:summari[sz]e|sum up|recap)(?: %s)?%s" % (_REF, _TAIL),
    _POLITE + r"sum (?:it|this|them) up%s" % _TAIL,
    _POLITE + r"(?:give|show|tell) (?:me|us) (?:an? |the )?(?:short |brief |quick )?(?:summary|overview|gist|"
              r"rundown|recap|synopsis|tl;?dr|(?:main|key) (?:points|facts|ideas))(?: of %s)?%s" % (_REF, _TAIL),
    r"what(?:'s| is| are| was| were|s) %s (?:about|saying)" % _REF,
    r"what do(?:es)? %s say" % _REF,
    r"(?:what are )?(?:the )?(?:main|key) (?:points|facts|ideas|takeaways|findings)(?: of %s)?" % _REF,
    r"tl;?dr",
    r"what happened",
    # "What's the news here?", "What's the story?", "What's going on?"
    r"what(?:'s| is|s) (?:the (?:news|story|gist|big picture)|new|going on)(?: here| (?:in|of) %s)?" % _REF,
)]
# The words of a request itself (those of the patterns above): what is left of the search text
# beyond them names a topic ("report" does: "Summarize the article about the report").
_REQUEST_WORDS = frozenset(terms(
    "can could would will you please summarize summarise sum up recap give show tell me us a an the "
    "short brief quick summary overview gist rundown synopsis tl dr tldr main key points facts ideas takeaways "
    "findings what whats is are was were do does say saying about happened article articles document documents "
    "doc docs story stories text texts page pages piece pieces file files passage passages it this that they "
    "these those them of for in news new going on here gist big picture"))


# A request for every article, not one ("Summarize the articles", "What are these about?").
_PLURAL = re.compile(r"\b(?:articles|documents|docs|stories|texts|pages|pieces|files|passages|them|these|those|all)\b",
                     re.I)


class Chunks(Protocol):
    """What the lead needs of an index: its chunks in row order (`rag.store.Snapshot` has them)."""

    chunks: Sequence[Chunk]


def is_overview_request(question: str) -> bool:
    """True when `question` (as the models read it, greetings aside) asks what an article says
    as a whole rather than for a fact."""
    text = re.sub(r"\s+", " ", question.strip().rstrip("?.! ").strip())
    return any(p.fullmatch(text) for p in _REQUESTS)


def names_topic(search_text: str) -> bool:
    """True when the search text holds a word beyond the request's own."""
    return any(t not in _REQUEST_WORDS for t in question_terms(search_text))


def lead(hits: Sequence[Hit], index: Chunks, search_text: str) -> list[tuple[Hit, int, Sentence]]:
    """The sentences that answer an overview request, as (hit of their chunk, position in it,
    sentence), in the order shown."""
    best: dict[str, Hit] = {}  # each article's best hit, best article first
    for h in hits:
        best.setdefault(h.chunk.doc_id, h)
    if not best:
        return []
    if names_topic(search_text):
        return _first_sentences(_first_chunk(hits[0], index), LEAD_SENTENCES)
    firsts = [_first_chunk(h, index) for h in best.values()]
    if _PLURAL.search(search_text):
        firsts += _other_articles(index, set(best), ARTICLES - len(firsts), rank=len(hits) + 1)
    if len(firsts) == 1:
        return _first_sentences(firsts[0], LEAD_SENTENCES)
    return [s for h in firsts[:ARTICLES] for s in _first_sentences(h, 1)]


def _other_articles(index: Chunks, found: set[str], n: int, rank: int) -> list[Hit]:
    """Hits for the first chunks of up to `n` articles not in `found`, in index order."""
    out: list[Hit] = []
    for row, chunk in enumerate(index.chunks):
        if len(out) >= n:
            break
        if chunk.index == 0 and chunk.doc_id not in found:
            found = found | {chunk.doc_id}
            out.append(Hit(chunk, rank + len(out), 0.0, None, None, row))
    return out


def _first_chunk(hit: Hit, index: Chunks) -> Hit:
    """The hit for the first chunk of `hit`'s article. An article's chunks lie in consecutive rows
    in their order (rag/indexer.py appends them so, and an update keeps the order of what it
    keeps), so it is `index` rows up; when that row is not it, the hit's own chunk is used."""
    row = hit.row - hit.chunk.index
    if hit.row < 0 or hit.chunk.index == 0 or row < 0 or row >= len(index.chunks):
        return hit
    chunk = index.chunks[row]
    if chunk.doc_id != hit.chunk.doc_id or chunk.index != 0:
        return hit
    return Hit(chunk, hit.rank, hit.score, None, None, row)


def _first_sentences(hit: Hit, n: int) -> list[tuple[Hit, int, Sentence]]:
    out = [(hit, j, s) for j, s in enumerate(hit.chunk.sentences) if not is_heading(s.text)]
    return out[:n]
