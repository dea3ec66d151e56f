"""PDF, Word and web pages end to end with the real model: ask, cite the right page, check the span.

For each format: ingest, ask a question whose answer is on a later page (or in a later
section), check the quote, the page number, and that the checker accepts the span both
against the stored raw text and against the file itself (re-extracted).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from conftest import assert_citations_verified, make_assistant
from documents import article_pdf, locked_pdf, report_docx
from rag.cite.verify import citation_problem_for
from rag.cli import main
from rag.errors import InputError
from rag.types import Citation
from ui import render
from ui.app import cited_passages
from ui.server import ServerThread, create_app
from webserver import LocalWebServer

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def web():
    with LocalWebServer() as base:
        yield base


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder, web):
    """One index holding a generated PDF (with a scanned page 2), a real PDF, two Word files and a web page."""
    corpus = tmp_path_factory.mktemp("documents")
    article_pdf(corpus / "zorblat.pdf", picture_page=2)
    report_docx(corpus / "harbour.docx")
    shutil.copy(DATA / "shared-mime-info-spec.pdf", corpus)
    shutil.copy(DATA / "officer-example.docx", corpus)
    assistant = make_assistant(tmp_path_factory.mktemp("documents-index") / "index", embedder)
    report = assistant.ingest([corpus, f"{web}/article"])
    assert len(report.added) == 5 and not report.skipped, report.summary()
    return assistant, report


def _answer(assistant, question: str, expect: str):
    answer = assistant.ask(question)
    assert not answer.abstained, (question, answer.answer)
    assert_citations_verified(answer)  # re-reads each source file: PDFs and Word files are re-extracted
    snap = assistant.snapshot
    for c in answer.citations:
        assert citation_problem_for(c, snap.raw_texts[c.doc_id]) is None
    cited = [c for c in answer.citations if expect in c.quote]
    assert cited, (question, [c.quote for c in answer.citations])
    return answer, cited[0]


@pytest.mark.parametrize("question,expect,page", [
    ("How long is the Zorblat bridge?", "340 meters", 4),
    ("How much did the restoration of the Zorblat bridge cost?", "41 million euros", 4),
    ("On which afternoons can visitors see Kostadin's original drawings?", "Thursday afternoons", 5),
])
def test_generated_pdf_answer_cites_its_page(library, question, expect, page):
    assistant, _ = library
    answer, c = _answer(assistant, question, expect)
    assert c.doc_id == "zorblat.pdf" and c.page == page
    d = answer.to_dict()["citations"][c.n - 1]
    assert d["page"] == page and list(d)[:7] == ["n", "doc_id", "title", "source", "start", "end", "quote"]


def test_real_pdf_answer_cites_its_page(library):
    assistant, _ = library
    _, c = _answer(assistant, "In which byte order are the numbers of the MIME cache file stored?", "big-endian")
    assert c.doc_id == "shared-mime-info-spec.pdf" and c.page == 13


def test_word_answer_from_a_later_section_has_no_page(library):
    assistant, _ = library
    answer, c = _answer(assistant, "How much silt did the last dredging of the harbour channel remove?",
                        "18,000 cubic meters")
    assert c.doc_id == "harbour.docx" and c.page is None
    assert "page" not in answer.to_dict()["citations"][c.n - 1]


def test_real_word_file_is_searchable_and_cited(library):
    assistant, _ = library
    hits = assistant.search("Morbi rhoncus sapien leo eleifend", k=3, mode="lexical")
    assert hits[0].chunk.doc_id == "officer-example.docx"
    _answer(assistant, "What does the Morbi rhoncus sapien sentence say about leo eleifend?", "Morbi rhoncus")


def test_web_page_answer_cites_the_stored_html(library, web):
    assistant, _ = library
    _, c = _answer(assistant, "How many passengers does the new night ferry carry?", "140 passengers")
    record = assistant.snapshot.documents[c.doc_id]
    assert Path(c.source).parent == assistant.fetched_dir and c.source.endswith(".html")
    assert record.metadata["source_url"] == f"{web}/article" and record.metadata["published"] == "2024-05-02"
    assert record.title == "The night ferry returns to the river Quell" and c.page is None


def test_scanned_page_is_reported_at_ingest(library):
    _, report = library
    assert any("zorblat.pdf: 1 of 5 pages have no text layer" in w for w in report.warnings)
    doc = next(d for d in library[0].documents() if d["id"] == "zorblat.pdf")
    assert doc["metadata"]["pages"] == 5 and doc["metadata"]["pages_without_text"] == [2]


def test_passage_viewer_shows_the_page_and_verifies_the_span(library):
    assistant, _ = library
    answer = assistant.ask("How much did the restoration of the Zorblat bridge cost?")
    passages = cited_passages(assistant, answer)
    pdf = [p for p in passages if p.citation.doc_id == "zorblat.pdf"]
    assert pdf and all(p.verified for p in passages)
    html = render.answer_html(answer, passages, turn=1)
    assert f'<span class="rag-page">page {pdf[0].citation.page}</span>' in html
    assert "41 million euros" in pdf[0].cited
    # The context reads like the cleaned text: no running header or page footer, no "restor- ation".
    shown = " ".join(" ".join(" ".join((p.before, p.cited, p.after)).split()) for p in pdf)
    assert "The council approved a full restoration in 2019." in shown
    assert "Kettleford Quarterly Review" not in shown and "Page 4 of 5" not in shown


def test_bad_documents_leave_the_index_as_it_was(library, tmp_path, web):
    assistant, _ = library
    current = (assistant.folder.path / "CURRENT").read_text()
    bad = tmp_path / "bad"
    bad.mkdir()
    locked_pdf(bad / "locked.pdf")
    (bad / "bomb.docx").write_bytes(b"PK\x03\x04 not really a zip")
    report = assistant.ingest([bad])
    assert not report.changed and len(report.skipped) == 2
    assert any("locked.pdf: encrypted PDF" in s for s in report.skipped)
    with pytest.raises(InputError, match="report.pdf: content type 'application/pdf'"):
        assistant.ingest([f"{web}/report.pdf"])
    assert (assistant.folder.path / "CURRENT").read_text() == current


def test_cli_ingest_of_a_url_that_times_out_is_one_line_and_exit_2(tmp_path, web, capsys, embedder):
    index = tmp_path / "index"
    code = main(["ingest", f"{web}/slow", "--index", str(index), "--url-timeout", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert f"{web}/slow: no answer within 1 s (RAG_URL_TIMEOUT)" in err
    assert not (index / "CURRENT").exists()


def test_two_column_pdf_answer_cites_its_page(tmp_path, embedder):
    article_pdf(tmp_path / "columns.pdf", columns=2)
    assistant = make_assistant(tmp_path / "index", embedder)
    assistant.ingest([tmp_path / "columns.pdf"])
    _, c = _answer(assistant, "How much did the restoration of the Zorblat bridge cost?", "41 million euros")
    assert c.page == 3


@pytest.mark.slow
def test_api_uploads_pdf_and_docx_fetches_a_url_and_returns_pages(tmp_path, embedder, web):
    article_pdf(tmp_path / "zorblat.pdf")
    report_docx(tmp_path / "harbour.docx")
    locked_pdf(tmp_path / "locked.pdf")
    # The test's web server is on 127.0.0.1: a private address, which the server refuses by default.
    assistant = make_assistant(tmp_path / "index", embedder, url_allow_private=True)
    with ServerThread(create_app(assistant)) as url, httpx.Client(base_url=url, timeout=120) as http:
        files = [("files", (p.name, p.read_bytes())) for p in (tmp_path / "zorblat.pdf", tmp_path / "harbour.docx")]
        r = http.post("/api/documents", files=files)
        assert r.status_code == 200 and sorted(r.json()["added"]) == ["harbour.docx", "zorblat.pdf"]

        r = http.post("/api/documents", files=[("files", ("locked.pdf", (tmp_path / "locked.pdf").read_bytes()))])
        assert r.status_code == 400 and "locked.pdf: encrypted PDF (needs a password)" in r.json()["error"]

        r = http.post("/api/documents/url", json={"url": f"{web}/article"})
        assert r.status_code == 200 and len(r.json()["added"]) == 1
        r = http.post("/api/documents/url", json={"url": f"{web}/loop/0"})
        assert r.status_code == 400 and "redirects" in r.json()["error"]

        d = http.post("/api/ask", json={"question": "How long is the Zorblat bridge?"}).json()
        pdf = [c for c in d["citations"] if c["doc_id"] == "zorblat.pdf"]
        assert pdf and pdf[0]["page"] == 3 and citation_problem_for(Citation(**pdf[0])) is None
        d = http.post("/api/ask", json={"question": "How many passengers does the new night ferry carry?"}).json()
        assert any("140 passengers" in c["quote"] and "page" not in c for c in d["citations"])


def test_the_api_fetches_public_pages_only_unless_the_operator_allows_private_ones(tmp_path, embedder, web):
    """A remote user must not make the server read its own network (an intranet page, a cloud
    metadata endpoint): the HTTP API and the chat refuse private and local addresses by default."""
    assistant = make_assistant(tmp_path / "index", embedder)
    with ServerThread(create_app(assistant)) as url, httpx.Client(base_url=url, timeout=60) as http:
        for address in (f"{web}/article", "http://localhost/", "http://10.0.0.1/", "http://169.254.169.254/latest"):
            r = http.post("/api/documents/url", json={"url": address})
            assert r.status_code == 400 and "private or local address" in r.json()["error"], (address, r.text)
        assert http.get("/api/documents").json() == []
    # The person running the program may fetch any address (CLI and Python: `ingest`).
    assert assistant.ingest([f"{web}/article"]).added


def test_a_refetch_that_is_not_committed_leaves_the_stored_page_alone(tmp_path, embedder, web):
    """The stored page is the file a fetched document's citations point into. A re-fetch whose
    ingest is refused (here: other chunk settings) once overwrote it anyway, and every citation of
    that document, old and new, then failed its check (found by review)."""
    index = tmp_path / "index"
    assistant = make_assistant(index, embedder)
    assert assistant.ingest([f"{web}/edited"]).added
    [stored] = (index / "fetched").glob("*.html")
    before = stored.read_bytes()
    question = "How many passengers can the new boat carry?"
    assert_citations_verified(assistant.ask(question))
    refused = make_assistant(index, embedder, chunk_tokens=100)  # the page changed meanwhile
    with pytest.raises(InputError, match="chunked with"):
        refused.ingest([f"{web}/edited"])
    assert stored.read_bytes() == before and len(list((index / "fetched").iterdir())) == 2
    answer = make_assistant(index, embedder).ask(question)
    assert not answer.abstained
    assert_citations_verified(answer)  # re-reads the stored page
    # A committed re-fetch keeps the new page, and its citations check against it.
    assert assistant.ingest([f"{web}/edited"]).updated
    assert stored.read_bytes() != before
    assert_citations_verified(assistant.ask(question))
