"""ui.render without a server: escaping, citation markers, passage context, abstentions."""

from __future__ import annotations

import re

from conftest import SEED_FILE
from rag.cite.verify import citation_problem
from rag.types import Answer, Chunk, Citation, Hit
from ui import render

RAW = SEED_FILE.read_text(encoding="utf-8")
QUOTE_START = RAW.index('Japan said that the "ICBM-class"')
QUOTE_END = RAW.index("kilometers.", QUOTE_START) + len("kilometers.")


def seed_citation(n: int = 1) -> Citation:
    quote = " ".join(RAW[QUOTE_START:QUOTE_END].split())
    assert citation_problem(RAW, QUOTE_START, QUOTE_END, quote) is None
    return Citation(n, SEED_FILE.name, "Seed <title>", str(SEED_FILE), QUOTE_START, QUOTE_END, quote)


def make_answer(text: str, citations: tuple[Citation, ...], abstained: bool = False,
                hits: tuple[Hit, ...] = ()) -> Answer:
    return Answer("q?", text, abstained, citations, hits, {})


def test_esc_neutralises_html_and_template_syntax():
    out = render.esc('<script>x</script> <img src=x onerror="a"> {{this}} ${1+1} `b` &')
    assert "<" not in out and ">" not in out and '"' not in out
    assert not re.search(r"[{}$`]", out)
    assert "&lt;script&gt;" in out and "&amp;" in out


def test_passage_highlights_the_exact_span_with_paragraphs_around():
    c = seed_citation()
    p = render.passage_for(c, RAW, "2024-10-31")
    assert p.verified and p.cited == RAW[QUOTE_START:QUOTE_END]
    assert "strategic missile capability" in p.before  # the one-sentence paragraph gets its neighbours
    assert "Blinken and his South Korean" in p.after
    html = render.passage_html(p, turn=3)
    assert 'id="cite-3-1"' in html and "2024-10-31" in html
    marked = re.search(r'<mark class="rag-cited">(.*?)</mark>', html).group(1)
    assert " ".join(marked.split()) == render.esc(c.quote)
    assert "Seed &lt;title&gt;" in html


def test_passage_falls_back_to_the_quote_when_the_article_changed():
    c = seed_citation()
    for raw in (None, "something else entirely " * 20):
        p = render.passage_for(c, raw)
        assert not p.verified and p.cited == c.quote and not p.before
        assert "changed or was removed" in render.passage_html(p, 1)


def test_article_markup_in_context_is_shown_as_text():
    raw = "<script>alert(1)</script> {{this}}\n\nThe bridge is 340 meters long.\n\n<img src=x onerror=alert(1)>"
    start = raw.index("The bridge")
    end = raw.index("long.") + len("long.")
    c = Citation(1, "a.txt", "<b>t</b>", "/x/a.txt", start, end, "The bridge is 340 meters long.")
    html = render.passage_html(render.passage_for(c, raw, None, chars=200), 1)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "{{" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_html_sources_show_visible_text_only():
    raw = "<html><body><p>Intro <b>bold</b> text.</p>\n\n<p>The bridge is <i>340</i> meters long.</p></body></html>"
    start = raw.index("The bridge")
    end = raw.index("long.") + len("long.")
    c = Citation(1, "a.html", "t", "/x/a.html", start, end, "The bridge is 340 meters long.")
    p = render.passage_for(c, raw, chars=200)
    assert p.verified and p.cited == "The bridge is 340 meters long."
    assert "<" not in p.before + p.cited + p.after and "Intro" in p.before


def test_an_html_context_that_starts_inside_a_script_shows_no_code():
    """Found by review: a context window cut in the source inside a <script> (or <nav>, or a
    comment) showed its code as the article's text before the quote."""
    code = "".join(f"  var item{i} = compute(limit > {i}, 'SCRIPT-CODE-{i}');\n" for i in range(40))
    for opening, closing in (("<script>", "</script>"), ("<nav><a href='/'>", "Home</a></nav>"),
                             ("<!-- ", " -->"), ("<nav><form>", "</form></nav>")):
        raw = (f"<html><body><h1>Corvel lighthouse</h1>\n{opening}\n{code}{closing}\n"
               "<p>The Corvel lighthouse stands 58 metres tall.</p></body></html>")
        start = raw.index("The Corvel")
        end = raw.index("tall.") + len("tall.")
        c = Citation(1, "a.html", "t", "/x/a.html", start, end, "The Corvel lighthouse stands 58 metres tall.")
        p = render.passage_for(c, raw, chars=200)
        assert p.verified and p.cited == c.quote
        assert "compute" not in p.before and "SCRIPT" not in p.before and "Home" not in p.before, (opening, p.before)


def test_markers_link_to_their_passages_and_unknown_numbers_stay_text():
    c = seed_citation()
    answer = make_answer(f"{c.quote} [1] and a literal [7] <b>", (c,))
    html = render.answer_html(answer, [render.passage_for(c, RAW)], turn=2)
    assert re.search(r'<a class="rag-cite" href="#cite-2-1" data-cite="cite-2-1"[^>]*>\[1\]</a>', html)
    assert "[7]" in html and "cite-2-7" not in html
    assert "&lt;b&gt;" in html and 'id="cite-2-1"' in html
    sources = render.sources_html(answer, [render.passage_for(c, RAW)], 2)
    assert 'data-cite="cite-2-1"' in sources and "id=" not in sources  # ids live in the chat only


def test_abstained_answer_is_marked_and_lists_nearest_passages():
    chunk = Chunk("c1", "d.txt", 0, "<i>Near</i>", "Some nearby text <script>x</script>", 0, 10, (), 5)
    answer = make_answer("The articles do not say.", (), abstained=True, hits=(Hit(chunk, 1, 0.5, 0.4, 1.0),))
    html = render.answer_html(answer, [], 1)
    assert "rag-abstained" in html and "No answer in the articles" in html
    assert "&lt;i&gt;Near&lt;/i&gt;" in html and "&lt;script&gt;" in html and "rag-cite" not in html
    assert "No sources" in render.sources_html(answer, [], 1)


def test_documents_table_escapes_titles_and_ids():
    docs = [{"id": "a/<x>.txt", "title": '<img src=x onerror="y">', "source": "/s", "n_chunks": 3,
             "ingested_at": "2026-01-01T00:00:00+00:00", "metadata": {"published": "2024-10-31"}}]
    html = render.documents_html(docs)
    assert "<img" not in html and "&lt;img" in html and "a/&lt;x&gt;.txt" in html and "2024-10-31" in html
    assert "empty" in render.documents_html([])


def test_a_corrected_question_is_shown_as_read_and_a_wrapped_one_is_not():
    from dataclasses import replace

    answer = make_answer("It flew. [1]", (seed_citation(),))
    corrected = replace(answer, question="How high did the misslie go?", asked="How high did the missile go?")
    html = render.answer_html(corrected, [], 1)
    assert "Read as: <i>How high did the missile go?</i>" in html
    wrapped = replace(answer, question="Hi! How high did the missile go? Thanks", asked="How high did the missile go?")
    assert "Read as" not in render.answer_html(wrapped, [], 1)
    assert "Read as" not in render.answer_html(answer, [], 1)  # built without `asked`
    context = replace(answer, question="North Korea tested a missile. How high did it go?", asked="How high did it go?")
    assert "Read as" not in render.answer_html(context, [], 1)
