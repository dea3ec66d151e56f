"""Every file format reader, on real and generated files: the contract, then each format's rules.

The contract (`ReaderContract`) is what the rest of the system relies on, for every reader:
the raw source is deterministic and re-derivable from the file alone, the cleaned text maps
into it character by character, and every sentence the chunker makes is a span the citation
checker accepts. No model is needed here.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import SEED_FILE
from documents import PAGES, article_pdf, locked_pdf, report_docx
from rag.cite.verify import citation_problem, citation_problem_for
from rag.errors import InputError
from rag.ingest import read_article
from rag.ingest.formats import READERS, raw_source, reader_for
from rag.ingest.pages import furniture_lines, page_at
from rag.text.chunking import ChunkingConfig, chunk_article
from rag.types import Citation

DATA = Path(__file__).parent / "data"
REAL_PDF = DATA / "shared-mime-info-spec.pdf"
REAL_DOCX = DATA / "officer-example.docx"
MB = 1_000_000


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """The generated documents, written once for this module."""
    out = tmp_path_factory.mktemp("documents")
    article_pdf(out / "article.pdf")
    article_pdf(out / "two-columns.pdf", columns=2)
    article_pdf(out / "with-scan.pdf", picture_page=2)
    report_docx(out / "report.docx")
    return out


class ReaderContract:
    """Shared tests: a subclass provides `path`, a file its reader must read."""

    @pytest.fixture
    def path(self) -> Path:
        raise NotImplementedError

    def test_raw_source_is_deterministic_and_rederived_from_the_file(self, path):
        article = read_article(path, 20 * MB)
        again = read_article(path, 20 * MB)
        assert article.raw == again.raw and article.clean.text == again.clean.text
        assert raw_source(path) == article.raw

    def test_cleaned_text_maps_into_the_raw_source(self, path):
        article = read_article(path, 20 * MB)
        clean, raw = article.clean, article.raw
        assert len(clean.offsets) == len(clean.text) and clean.text.strip()
        assert all(0 <= o < len(raw) for o in clean.offsets)
        html = reader_for(path).span_kind == "html"
        for ch, o in zip(clean.text, clean.offsets):
            if not ch.isspace():
                assert raw[o] == ch or (html and raw[o] == "&"), (ch, raw[o - 10:o + 10])

    def test_every_chunked_sentence_is_a_span_the_checker_accepts(self, path):
        article = read_article(path, 20 * MB)
        chunks = chunk_article(path.name, article.title, article.clean, ChunkingConfig())
        assert chunks
        for chunk in chunks:
            for s in chunk.sentences:
                c = Citation(1, path.name, article.title, str(path), s.start, s.end, s.text)
                assert citation_problem_for(c, article.raw) is None, s
        # And without the stored raw text: the checker re-reads (re-extracts) the file itself.
        s = chunks[-1].sentences[-1]
        assert citation_problem_for(Citation(1, path.name, "t", str(path), s.start, s.end, s.text)) is None


class TestTextFile(ReaderContract):
    @pytest.fixture
    def path(self):
        return SEED_FILE


class TestHtmlFile(ReaderContract):
    @pytest.fixture
    def path(self, tmp_path):
        p = tmp_path / "page.html"
        p.write_text("<html><head><title>T</title></head><body><nav>Home</nav><h1>Rivers &amp; bridges</h1>"
                     "<p>The <b>Quell</b> is 80&nbsp;km long.\nIt floods in spring.</p><p>Boats run daily.</p>"
                     "</body></html>", encoding="utf-8")
        return p


class TestFetchedWebPage(ReaderContract):
    """A page as `rag.ingest.url.fetch_page` stores it: the HTML and a sidecar naming the web reader."""

    @pytest.fixture
    def path(self, tmp_path):
        from webserver import ARTICLE

        p = tmp_path / "example-org-ferry-0123456789.html"
        p.write_text(ARTICLE, encoding="utf-8")
        p.with_name(p.stem + ".meta.json").write_text(
            '{"source_url": "https://example.org/ferry", "reader": "web"}', encoding="utf-8")
        assert reader_for(p).name == "web"
        return p


class TestRealPdf(ReaderContract):
    @pytest.fixture
    def path(self):
        return REAL_PDF


class TestGeneratedPdf(ReaderContract):
    @pytest.fixture
    def path(self, made):
        return made / "article.pdf"


class TestTwoColumnPdf(ReaderContract):
    @pytest.fixture
    def path(self, made):
        return made / "two-columns.pdf"


class TestPdfWithScannedPage(ReaderContract):
    @pytest.fixture
    def path(self, made):
        return made / "with-scan.pdf"


class TestRealDocx(ReaderContract):
    @pytest.fixture
    def path(self):
        return REAL_DOCX


class TestGeneratedDocx(ReaderContract):
    @pytest.fixture
    def path(self, made):
        return made / "report.docx"


def test_word_text_inside_fields_controls_insertions_and_nested_tables_is_read(tmp_path):
    """Found by review: python-docx's .text left these out, and answers quoted sentences with
    holes ("The bridge was restored in at a cost of 41 million euros."); a page break glued words."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml import parse_xml

    from rag.ingest.docx import docx_text

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    d = docx.Document()
    p = d.add_paragraph("The bridge was restored in ")
    p._p.append(parse_xml(f'<w:ins {w} w:id="1" w:author="a"><w:r><w:t>2021</w:t></w:r></w:ins>'))
    p.add_run(" by ")
    p._p.append(parse_xml(f'<w:fldSimple {w} w:instr=" AUTHOR "><w:r><w:t>Mirela Kostadin</w:t></w:r></w:fldSimple>'))
    p.add_run(" on ")
    p._p.append(parse_xml(f'<w:sdt {w}><w:sdtContent><w:r><w:t>12 May</w:t></w:r></w:sdtContent></w:sdt>'))
    p.add_run(".")
    p._p.append(parse_xml(f'<w:del {w} w:id="2" w:author="a"><w:r><w:delText>struck</w:delText></w:r></w:del>'))
    d.element.body.insert(1, parse_xml(f'<w:sdt {w}><w:sdtContent><w:p><w:r><w:t>It is 340 meters long.</w:t>'
                                        '</w:r></w:p></w:sdtContent></w:sdt>'))
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Span"
    inner = table.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "Main", "120 meters"
    p = d.add_paragraph("First line")
    p.add_run().add_break(WD_BREAK.PAGE)
    p.add_run("after the break.")
    path = tmp_path / "report.docx"
    d.save(str(path))
    raw, _ = docx_text(path, path.read_bytes())
    assert raw == ("The bridge was restored in 2021 by Mirela Kostadin on 12 May.\n\nIt is 340 meters long.\n\n"
                   "Span | Main 120 meters\n\nFirst line\nafter the break."), raw


def test_word_text_boxes_are_left_out_in_a_table_cell_as_in_the_body(tmp_path):
    """Found by review: a cell read every paragraph under it, a text box's among them, while the
    body skipped text boxes; the same floating sidebar gave different text by where it sat."""
    import docx
    from docx.oxml import parse_xml

    from rag.ingest.docx import docx_text

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    box = (f'<w:r {w}><w:pict><w:txbxContent><w:p><w:r><w:t>Sidebar note.</w:t></w:r></w:p>'
           '</w:txbxContent></w:pict></w:r>')
    d = docx.Document()
    d.add_paragraph("The dam is 90 meters high.")._p.append(parse_xml(box))
    cell = d.add_table(rows=1, cols=2).cell(0, 1)
    cell.paragraphs[0].add_run("Height")
    cell.paragraphs[0]._p.append(parse_xml(box))
    path = tmp_path / "boxes.docx"
    d.save(str(path))
    raw, _ = docx_text(path, path.read_bytes())
    assert raw == "The dam is 90 meters high.\n\nHeight", raw


def test_a_pdf_titled_untitled_takes_its_first_line():
    """Found by review: reportlab's default document title "untitled" was taken as the title."""
    from rag.ingest.pdf import pdf_metadata

    class Reader:
        def __init__(self, title):
            self.metadata = {"/Title": title, "/Author": "Ada"}

    for placeholder in ("untitled", "Untitled Document", "anonymous"):
        assert pdf_metadata(Reader(placeholder)) == {"author": "Ada"}
    assert pdf_metadata(Reader("Untitled Lands of the North"))["title"] == "Untitled Lands of the North"


def test_every_suffix_has_a_reader_with_a_known_span_kind():
    assert {".txt", ".md", ".html", ".pdf", ".docx"} <= set(READERS)
    assert {r.span_kind for r in READERS.values()} <= {"text", "html", "pages"}


# -- PDF ---------------------------------------------------------------------------------------
def test_pdf_headers_footers_and_page_numbers_are_dropped_but_stay_in_raw(made):
    a = read_article(made / "article.pdf", MB)
    assert "Kettleford Quarterly Review" not in a.clean.text and not re.search(r"Page \d of", a.clean.text)
    assert a.raw.count("Kettleford Quarterly Review") == 4 and "Page 3 of 4" in a.raw
    assert a.title == "The Zorblat Bridge of Kettleford" and a.pages == 4 and a.metadata["pages"] == 4
    assert a.raw.count("\f") == 3


def test_pdf_hyphenated_words_are_rejoined_and_the_hyphen_kept_only_when_the_text_has_it(made):
    text = read_article(made / "article.pdf", MB).clean.text
    assert "The council approved a full restoration in 2019." in text
    assert "restor-" not in text
    # "well-" / "known" at a line end: the document spells "well-known" elsewhere, so the hyphen stays.
    assert "as a well-known design borrowed from harbour cranes" in text


def test_pdf_sentence_runs_across_the_page_break_and_cites_its_first_page(made):
    a = read_article(made / "article.pdf", MB)
    sentence = "Every summer the annual Lantern Festival on the bridge draws about twelve thousand visitors"
    assert sentence in a.clean.text
    i = a.clean.text.index(sentence)
    start, end = a.clean.raw_span(i, i + len(sentence))
    assert page_at(a.raw, start) == 3 and page_at(a.raw, end) == 4
    # The span crosses the page break and the next page's header and footer (drawn first).
    assert "\fKettleford Quarterly Review - Spring 2024\nPage 4 of 4\n" in a.raw[start:end]
    assert citation_problem(a.raw, start, end, sentence, pages=True) is None
    assert citation_problem(a.raw, start, end, sentence.replace("twelve", "ten"), pages=True) is not None


def test_pdf_two_columns_keep_reading_order(made):
    one = read_article(made / "article.pdf", MB).clean.text.split()
    two = read_article(made / "two-columns.pdf", MB).clean.text.split()
    assert two == one
    assert " ".join(PAGES[1][0].split()[:12]) in " ".join(two)


def test_pdf_pages_without_text_are_reported_by_count_and_number(made):
    a = read_article(made / "with-scan.pdf", MB)
    assert a.metadata["pages_without_text"] == [2] and a.pages == 5
    assert len(a.warnings) == 1 and "1 of 5 pages have no text layer" in a.warnings[0]
    assert "pages 2;" in a.warnings[0] and "with-scan.pdf" in a.warnings[0]
    assert page_at(a.raw, a.raw.index("340 meters")) == 4  # the picture page still counts


def test_pdf_without_any_text_layer_is_refused(tmp_path):
    from reportlab.pdfgen import canvas

    p = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(p))
    for _ in range(3):
        c.rect(100, 100, 300, 300, fill=1)
        c.showPage()
    c.save()
    with pytest.raises(InputError, match=r"none of its 3 pages has a text layer.*OCR") as e:
        read_article(p, MB)
    assert str(p) in str(e.value)


def test_encrypted_pdf_needs_its_password_but_an_owner_only_lock_opens(tmp_path):
    with pytest.raises(InputError, match="encrypted PDF .needs a password") as e:
        read_article(locked_pdf(tmp_path / "locked.pdf"), MB)
    assert "locked.pdf" in str(e.value)
    opened = read_article(locked_pdf(tmp_path / "copy-protected.pdf", user_password=""), MB)
    assert "This text is behind a password." in opened.clean.text


@pytest.mark.parametrize("name,data", [
    ("truncated.pdf", REAL_PDF.read_bytes()[:700]),
    ("garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20),
    ("not-a-pdf.pdf", b"Just some text pretending to be a PDF.\n"),
    ("empty.pdf", b""),
])
def test_malformed_pdf_is_one_clear_error(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(InputError, match="PDF") as e:
        read_article(p, MB)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_pypdf_repair_warnings_do_not_reach_stderr(tmp_path):
    # In a fresh interpreter: pytest's own logging handlers would hide Python's stderr fallback.
    p = tmp_path / "no-xref.pdf"
    p.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n")
    code = ("import sys\nfrom pathlib import Path\nfrom rag.ingest import read_article\n"
            "try:\n    read_article(Path(sys.argv[1]), 10**6)\nexcept Exception as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=60)
    assert "not a readable PDF" in done.stdout and done.stderr == ""


def test_real_pdf_running_header_and_page_numbers_are_furniture():
    a = read_article(REAL_PDF, MB)
    assert a.pages == 17 and a.title == "Shared MIME-info Database"
    furniture = {_line_at(a.raw, o).strip() for o in furniture_lines(a.raw)}
    assert "Shared MIME-info Database" in furniture and "13" in furniture
    assert "All numbers are in network (big-endian) order." in a.clean.text
    assert page_at(a.raw, a.raw.index("All numbers are in network")) == 13


def _line_at(raw: str, offset: int) -> str:
    return re.match(r"[^\n\f]*", raw[offset:]).group()


def test_furniture_needs_repetition_across_pages():
    def body(river: str) -> str:
        return "\n".join(f"The {river} river {fact}." for fact in (
            "rises in the hills", "floods in spring", "carries barges", "has six bridges", "freezes in winter",
            "feeds the mills", "is home to otters", "reaches the sea"))

    assert furniture_lines(f"Header\n{body('Quell')}\n1") == frozenset()  # one page: nothing repeats
    raw = "\f".join(f"Annual Report 2024\n{body(river)}\n- {n} -" for n, river in
                    enumerate(["Quell", "Ardon", "Mirra"], start=1))
    assert {_line_at(raw, o) for o in furniture_lines(raw)} == {"Annual Report 2024", "- 1 -", "- 2 -", "- 3 -"}


# -- Word --------------------------------------------------------------------------------------
def test_docx_headings_paragraphs_and_tables_in_document_order(made):
    a = read_article(made / "report.docx", MB)
    assert a.title == "Kettleford Harbour Report" and a.metadata["author"] == "Harbour Office"
    assert a.pages is None and "pages" not in a.metadata
    text = a.clean.text
    assert text.index("Traffic") < text.index("2023 | 1,240") < text.index("Dredging") < text.index("Oren Vasquez")
    assert "\n\nDredging\n\nThe channel is dredged every third winter." in text


def test_real_docx_is_read_with_its_table():
    a = read_article(REAL_DOCX, MB)
    assert "Morbi rhoncus sapien sit amet leo eleifend, vel fermentum nisi mattis." in a.clean.text
    assert "Petals | Internode | Sepal | Bract" in a.clean.text
    assert a.clean.text.startswith("Title 1\n\nLorem ipsum")


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("data,problem", [
    (_zip({"word/document.xml": b"\0" * 5_000_000}), "zip bomb"),
    (b"Just text with a .docx name", "not a zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, r"old binary \.doc"),
    (_zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"}), "no word/document.xml"),
    (_zip({"word/document.xml": b"<w:document", "[Content_Types].xml": b"<Types/>"}), "not a readable Word"),
])
def test_bad_docx_is_one_clear_error_before_anything_is_unpacked(tmp_path, data, problem):
    p = tmp_path / "upload.docx"
    p.write_bytes(data)
    with pytest.raises(InputError, match=problem) as e:
        read_article(p, 20 * MB)
    assert str(p) in str(e.value)
