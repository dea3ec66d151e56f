from __future__ import annotations

from rag.cite.verify import citation_problem

RAW = "It said we would\n\nhttps://example.com/author/x\n\n\nexpect that soon.\nRelated article: Other\nNext one."


def test_span_across_removed_url_lines_is_valid():
    start = RAW.index("we would")
    end = RAW.index("soon.") + len("soon.")
    assert citation_problem(RAW, start, end, "we would expect that soon.") is None


def test_wrong_quote_wrong_span_and_loose_span_are_caught():
    start = RAW.index("we would")
    end = RAW.index("soon.") + len("soon.")
    assert citation_problem(RAW, start, end, "we would expect this soon.") is not None
    assert citation_problem(RAW, start + 1, end, "we would expect that soon.") is not None
    assert citation_problem(RAW, start - 1, end, "we would expect that soon.") is not None
    assert citation_problem(RAW, start, len(RAW) + 5, "x") is not None


def test_html_tags_and_entities_are_allowed_between_words():
    raw = "<p>Salt &amp; <b>pepper</b> here.</p><p>Next.</p>"
    start = raw.index("Salt")
    end = raw.index("Next.") + 5
    assert citation_problem(raw, start, end, "Salt & pepper here.\n\nNext.", html=True) is None
    assert citation_problem(raw, start, end, "Salt & pepper here.Next.", html=True) is not None
