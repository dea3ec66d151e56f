"""Answers, passages and document lists as HTML: pure functions, no Gradio, no server.

Everything that came from an article, a file name or a user goes through `esc`, which is
`html.escape` plus entity-encoding of `{ } $ \\``: Gradio's HTML component runs its value through
a template engine (JS template strings and Handlebars), and an article containing `{{...}}` or
`${...}` must show as text there too. The only markup in the output is written here.

A citation marker `[n]` becomes a link to the passage panel of that citation (`<details
id="cite-T-n">`, T = turn number, unique on the page). The page script in `ui.app` opens and
scrolls to the panel on click; without the script the link still works as a fragment link
(browsers open a closed `<details>` that holds the target). The marker's `title` shows the quote
on hover.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Sequence

from rag.cite.verify import citation_problem_for
from rag.conversation import corrected_question
from rag.ingest.formats import span_kind
from rag.ingest.html import SKIP_TAGS, visible_text
from rag.ingest.pages import body_lines, is_hyphen_break, keeps_hyphen
from rag.types import GENERATIVE, Answer, AnswerSentence, Citation, Hit

_TEMPLATE_CHARS = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})
_MARKER = re.compile(r"\[(\d+)\]")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

CONTEXT_CHARS = 400  # at most this much text is shown on each side of a cited span
MIN_CONTEXT_CHARS = 150  # paragraphs are added until a side shows at least this much


def esc(text: Any) -> str:
    """Escape `text` for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True).translate(_TEMPLATE_CHARS)


@dataclass(frozen=True)
class Passage:
    """What a citation's panel shows: the cited span with some raw text around it."""

    citation: Citation
    published: str | None
    before: str  # raw text before the span, already plain text (tags removed for HTML files)
    cited: str  # the span itself
    after: str
    verified: bool  # False: the article changed since the answer, only the quote is shown


def is_html_source(source: str) -> bool:
    return source.lower().endswith((".html", ".htm"))


def context_bounds(raw: str, start: int, end: int, chars: int = CONTEXT_CHARS,
                   min_chars: int = MIN_CONTEXT_CHARS) -> tuple[int, int, bool, bool]:
    """(from, to, cut_before, cut_after): whole paragraphs around [start, end), at most `chars` each side.

    Paragraphs end at blank lines. The context grows by whole paragraphs until it shows at least
    `min_chars` on a side (a one-sentence paragraph alone shows nothing around the quote); when a
    paragraph does not fit in `chars`, the context is cut at a space, flagged for an ellipsis.
    """
    lo_limit, hi_limit = max(0, start - chars), min(len(raw), end + chars)
    breaks = [m.end() for m in _BLANK_LINE.finditer(raw, lo_limit, start) if start - m.end() >= min_chars]
    if breaks:
        lo, cut_before = breaks[-1], False
    elif lo_limit == 0:
        lo, cut_before = 0, False
    else:
        space = raw.find(" ", lo_limit, start)
        lo, cut_before = (space + 1 if space != -1 else lo_limit), True
    breaks = [m.start() for m in _BLANK_LINE.finditer(raw, end, hi_limit) if m.start() - end >= min_chars]
    if breaks:
        hi, cut_after = breaks[0], False
    elif hi_limit == len(raw):
        hi, cut_after = len(raw), False
    else:
        space = raw.rfind(" ", end, hi_limit)
        hi, cut_after = (space if space != -1 else hi_limit), True
    return lo, hi, cut_before, cut_after


_SKIPPED_OR_COMMENT = re.compile(r"<(/?)(%s)\b[^>]*>|<!--|-->" % "|".join(sorted(SKIP_TAGS)), re.I)


def visible_from(raw: str, lo: int, hi: int) -> int:
    """The first position at or after `lo` that is outside every element the HTML reader skips
    (<script>, <style>, <nav>, ...) and every comment, judged from raw[lo:hi] alone: a context
    window cut in the source can start inside a <script>, whose code then read as the article's
    text (found by review). An end tag or "-->" with no start in the window closes something the
    window began inside; the window then starts after it. Reading the page from its top instead
    takes seconds for a large page."""
    safe, open_ = lo, 0
    for m in _SKIPPED_OR_COMMENT.finditer(raw, lo, hi):
        closing = m.group(1) == "/" or m.group(0) == "-->"
        if not closing:
            open_ += 1
        elif open_:
            open_ -= 1
        else:
            safe = m.end()
    return safe


def html_to_text(fragment: str) -> str:
    """Visible text of a piece of HTML source, cut anywhere: partial tags at the edges are dropped."""
    first_close, first_open = fragment.find(">"), fragment.find("<")
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        fragment = fragment[first_close + 1:]  # the tail of a tag cut at the left edge
    last_open = fragment.rfind("<")
    if last_open != -1 and fragment.find(">", last_open) == -1:
        fragment = fragment[:last_open]  # the head of a tag cut at the right edge
    # Read by the HTML reader's own rules, as the citation checker reads a span: a block tag is a
    # line break (a paragraph break where one ends a paragraph), an inline one (<b>, <a>) nothing.
    return visible_text(fragment)


def paged_text(raw: str, start: int, end: int) -> str:
    """Readable text of raw[start:end] of a PDF: without the pages' headers, footers and page
    numbers, and words cut by a line-end hyphen whole again (the cleaner's rules, rag.ingest.pages)."""
    lines = [line for line in body_lines(raw, start, end) if line.strip()]
    out = []
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and is_hyphen_break(line, lines[i + 1]):
            stripped = line.rstrip()
            out.append(stripped if keeps_hyphen(raw, line, lines[i + 1]) else stripped[:-1])
            lines[i + 1] = lines[i + 1].lstrip()
        else:
            out.append(line + ("\n" if i + 1 < len(lines) else ""))
    text = "".join(out)
    # Keep one edge space where the raw text has one, so words beside the highlight stay apart.
    lead = " " if start < end and raw[start].isspace() else ""
    tail = " " if start < end and raw[end - 1].isspace() else ""
    return lead + text + tail


def passage_for(citation: Citation, raw: str | None, published: str | None = None,
                chars: int = CONTEXT_CHARS) -> Passage:
    """The panel content for `citation`, given the document's current raw text (None: gone)."""
    html_file = is_html_source(citation.source)
    if raw is None or citation_problem_for(citation, raw):
        return Passage(citation, published, "", citation.quote, "", verified=False)
    lo, hi, cut_before, cut_after = context_bounds(raw, citation.start, citation.end, chars)
    before, cited, after = raw[lo:citation.start], raw[citation.start:citation.end], raw[citation.end:hi]
    if html_file:
        lo = visible_from(raw, lo, citation.start)
        before, cited, after = html_to_text(raw[lo:citation.start]), html_to_text(cited), html_to_text(after)
    elif span_kind(citation.source) == "pages":
        before, cited, after = (paged_text(raw, lo, citation.start), paged_text(raw, citation.start, citation.end),
                                paged_text(raw, citation.end, hi))
    return Passage(citation, published, ("…" if cut_before else "") + before, cited,
                   after + ("…" if cut_after else ""), verified=True)


def _flow(text: str) -> str:
    """Escaped text where blank lines stay paragraph breaks and other line breaks become spaces."""
    parts = [" ".join(p.split()) for p in _BLANK_LINE.split(text)]
    # Keep a single edge space so words on both sides of the highlight do not run together.
    lead = " " if text[:1].isspace() and parts[0] else ""
    tail = " " if text[-1:].isspace() and parts[-1] else ""
    return lead + "<br><br>".join(esc(p) for p in parts) + tail


def cite_id(turn: int, n: int) -> str:
    return f"cite-{turn}-{n}"


def _source_line(c: Citation, published: str | None) -> str:
    bits = [f'<span class="rag-source-path" title="document id: {esc(c.doc_id)}">{esc(c.source)}</span>']
    if published:
        bits.append(f'<span class="rag-date">{esc(published)}</span>')
    if c.page is not None:
        bits.append(f'<span class="rag-page">page {c.page}</span>')
    bits.append(f'<span class="rag-chars">chars {c.start}–{c.end}</span>')
    return " · ".join(bits)


def passage_html(p: Passage, turn: int) -> str:
    c = p.citation
    if p.verified:
        body = (f'<p class="rag-context">{_flow(p.before)}<mark class="rag-cited">{_flow(p.cited)}</mark>'
                f"{_flow(p.after)}</p>")
    else:
        body = (f'<p class="rag-context"><mark class="rag-cited">{_flow(p.cited)}</mark></p>'
                '<p class="rag-warning">The article changed or was removed since this answer; '
                "only the quote is shown.</p>")
    return (f'<details class="rag-passage" id="{cite_id(turn, c.n)}">'
            f'<summary><span class="rag-n">[{c.n}]</span> <span class="rag-title">{esc(c.title)}</span></summary>'
            f'<div class="rag-meta">{_source_line(c, p.published)}</div>{body}</details>')


def answer_text_html(answer: Answer, turn: int) -> str:
    """The answer sentence(s) with each known `[n]` turned into a link to its passage."""
    quotes = {c.n: c.quote for c in answer.citations}

    def marker(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n not in quotes:
            return m.group(0)
        target = cite_id(turn, n)
        return (f'<a class="rag-cite" href="#{target}" data-cite="{target}" title="{esc(quotes[n])}" '
                f'role="button">[{n}]</a>')

    return _MARKER.sub(marker, esc(answer.answer))


def hit_html(h: Hit, chars: int = 320) -> str:
    text = h.chunk.text if len(h.chunk.text) <= chars else h.chunk.text[:chars].rsplit(" ", 1)[0] + "…"
    return (f'<li class="rag-hit"><div class="rag-title">{esc(h.chunk.title)}</div>'
            f'<div class="rag-meta"><span class="rag-doc-id">{esc(h.chunk.doc_id)}</span> · '
            f"chars {h.chunk.start}–{h.chunk.end} · score {h.score:.3f}</div>"
            f'<p class="rag-context">{esc(text)}</p></li>')


def unsupported_html(sentences: Sequence[AnswerSentence]) -> str:
    """The model's sentences that failed verification: visibly marked, never part of the answer."""
    items = "".join(f'<li class="rag-unsupported"><span class="rag-unsupported-label">Not supported by the articles'
                    f'</span> <s>{esc(s.text)}</s> <span class="rag-meta">({esc(s.problem or "not supported")})</span></li>'
                    for s in sentences if not s.supported)
    return f'<ul class="rag-unsupported-list">{items}</ul>' if items else ""


def answerer_html(answer: Answer) -> str:
    """Who wrote the answer: the model (its sentences verified), or why the extractive answer is
    shown; and the question as it was read when a misspelt word of it was corrected."""
    return read_as_html(answer) + _writer_html(answer)


def read_as_html(answer: Answer) -> str:
    """ "Read as: How high did the missile go?" when spelling correction (rag/text/spelling.py)
    changed the question, or a bare follow-up was read as a whole question (rag/conversation.py
    `elliptical_question`); nothing for a question read as typed (a greeting or request around
    it, or a sentence before it, is set aside silently: it changes no word of the question)."""
    read_as = corrected_question(answer.question, answer.asked)
    if read_as is None:
        return ""
    return f'<div class="rag-answerer rag-read-as">Read as: <i>{esc(read_as)}</i></div>'


def _writer_html(answer: Answer) -> str:
    who = answer.answerer
    if who.kind == GENERATIVE:
        return (f'<div class="rag-answerer">Written by the language model <b>{esc(who.model or "")}</b>; every '
                f"sentence was checked against the sentence it cites.</div>")
    if who.fallback == "not_asked":
        return f'<div class="rag-answerer">{esc(who.message or "")}</div>'
    if who.fallback is not None:
        return (f'<div class="rag-fallback" data-fallback="{esc(who.fallback)}"><b>Extractive answer (fallback).</b> '
                f"{esc(who.message or '')}</div>")
    return ""


def answer_html(answer: Answer, passages: Sequence[Passage], turn: int) -> str:
    """One assistant message: the cited answer and its passage panels, or an abstention; for a
    generative answer also who wrote it and the sentences that were left out as unsupported."""
    head, rejected = answerer_html(answer), unsupported_html(answer.sentences)
    if answer.abstained:
        nearest = "".join(hit_html(h) for h in answer.hits[:3])
        nearest_html = (f'<div class="rag-nearest-label">Nearest passages (not an answer):</div>'
                        f'<ol class="rag-hits">{nearest}</ol>') if nearest else ""
        return (f'<div class="rag-answer rag-abstained" data-turn="{turn}">{head}'
                f'<div class="rag-badge">No answer in the articles</div>'
                f'<p class="rag-answer-text">{esc(answer.answer)}</p>{rejected}{nearest_html}</div>')
    panels = "".join(passage_html(p, turn) for p in passages)
    kind = " rag-generative" if answer.answerer.kind == GENERATIVE else ""
    return (f'<div class="rag-answer{kind}" data-turn="{turn}">{head}'
            f'<p class="rag-answer-text">{answer_text_html(answer, turn)}</p>{rejected}'
            f'<div class="rag-passages">{panels}</div></div>')


def draft_turn_html(question: str, draft: str) -> str:
    """A question with the model's draft as it streams in: plain text, marked as not yet checked;
    the verified answer replaces it."""
    return _turn(question, '<div class="rag-answer rag-draft">'
                           '<div class="rag-answerer">Draft from the language model, not yet checked against the '
                           f'articles…</div><p class="rag-answer-text">{esc(draft) or "…"}</p></div>')


def turn_html(question: str, answer: Answer, passages: Sequence[Passage], turn: int) -> str:
    return _turn(question, answer_html(answer, passages, turn))


def _turn(question: str, answer_part: str) -> str:
    """One exchange: the question, then `answer_part` (HTML)."""
    return (f'<div class="rag-turn"><div class="rag-question"><span class="rag-role">You</span>'
            f"<p>{esc(question)}</p></div>{answer_part}</div>")


def conversation_html(turns: Sequence[str]) -> str:
    """The chat: pre-rendered turns, oldest first (a turn is rendered once, when it is answered)."""
    if not turns:
        return ('<div class="rag-chat rag-empty"><p>Ask a question about the indexed articles. '
                "Every answer quotes its sources; click a marker like <b>[1]</b> to read the passage.</p></div>")
    return f'<div class="rag-chat">{"".join(turns)}</div>'


def sources_html(answer: Answer | None, passages: Sequence[Passage], turn: int) -> str:
    """The sources panel: the current answer's citations in order, each linking to its passage."""
    if answer is None:
        return '<div class="rag-sources rag-empty"><p>Sources of the latest answer appear here.</p></div>'
    if answer.abstained or not passages:
        return ('<div class="rag-sources rag-empty"><p>No sources: the articles do not answer this question.'
                "</p></div>")
    items = []
    for p in passages:
        c = p.citation
        target = cite_id(turn, c.n)
        items.append(f'<li class="rag-source"><a class="rag-cite" href="#{target}" data-cite="{target}" '
                     f'role="button">[{c.n}]</a> <span class="rag-title">{esc(c.title)}</span>'
                     f'<div class="rag-meta">{_source_line(c, p.published)}</div>'
                     f'<blockquote class="rag-quote">{esc(c.quote)}</blockquote></li>')
    return f'<div class="rag-sources"><ol>{"".join(items)}</ol></div>'


def documents_html(documents: Sequence[dict[str, Any]]) -> str:
    """The index panel table: one row per document (`Assistant.documents()` dicts)."""
    if not documents:
        return '<div class="rag-docs rag-empty"><p>The index is empty: upload an article above.</p></div>'
    rows = []
    for d in documents:
        published = (d.get("metadata") or {}).get("published") or ""
        rows.append(f'<tr><td class="rag-title">{esc(d.get("title", ""))}</td>'
                    f'<td class="rag-doc-id" title="{esc(d.get("source", ""))}">{esc(d.get("id", ""))}</td>'
                    f'<td>{esc(published)}</td><td class="rag-num">{esc(d.get("n_chunks", ""))}</td>'
                    f'<td>{esc(d.get("ingested_at", ""))}</td></tr>')
    return ('<table class="rag-docs"><thead><tr><th>Title</th><th>Id</th><th>Published</th>'
            f'<th>Chunks</th><th>Ingested at</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def notice_html(message: str, problems: Sequence[str] = (), kind: str = "info") -> str:
    """A status line (upload results, errors) with an optional list of per-file problems."""
    items = "".join(f"<li>{esc(p)}</li>" for p in problems)
    listing = f"<ul>{items}</ul>" if items else ""
    kind = kind if kind in ("info", "ok", "error") else "info"
    return f'<div class="rag-notice rag-{kind}"><p>{esc(message)}</p>{listing}</div>'
