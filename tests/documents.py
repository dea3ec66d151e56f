"""Generated test documents: PDFs (reportlab) and Word files (python-docx) with known layouts.

Each PDF is drawn line by line on a canvas, so the test knows exactly what is where: a
running header and a "Page N of M" footer on every page, words hyphenated at line ends,
a sentence that runs across a page break, optionally two columns, optionally a page that
is only a picture (no text layer). The article is fictional, so the model cannot answer
from anything but the document.

Run as a script to write the fixtures to a folder and look at them:
    python tests/documents.py OUT_DIR
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

HEADER = "Kettleford Quarterly Review - Spring 2024"
TITLE = "The Zorblat Bridge of Kettleford"

# One entry per page: paragraphs. "\n" inside a paragraph forces a line break there, which is
# how a hyphenated word ("restor-\nation") ends up split across two lines.
PAGES: list[list[str]] = [
    [TITLE,
     "Kettleford is a market town on the river Quell. For more than a century its life has "
     "turned around one crossing, the Zorblat bridge, which joins the old town on the north "
     "bank to the mills and the railway station on the south bank.",
     "This article tells the story of the bridge: how it was built, how it nearly fell, and "
     "how the town paid to save it. The figures come from the town archive and the council's "
     "published accounts."],
    ["Construction began in 1907 under the engineer Mirela Kostadin, who had learned her trade "
     "on the railways of the eastern plain. She chose riveted steel for the main span because "
     "timber from the hills was scarce and expensive that decade.",
     "The bridge opened to carts and pedestrians in the spring of 1911. A well-known photograph "
     "shows the first market day on the deck, with cattle crossing in both directions while the "
     "band of the fire brigade played on the north pier."],
    ["The Zorblat bridge is 340 meters long and rests on six stone piers. Floods in 1958 and "
     "again in 1994 scoured the foundations of the fourth pier, and by 2015 inspectors had closed "
     "the deck to lorries heavier than seven tonnes.",
     "The council approved a full restor-\nation in 2019. The work replaced every one of the 212 "
     "steel cables and widened the deck for a tram line; it cost 41 million euros, less than the "
     "first estimate of 55 million, and it was finished in 2021.",
     "Engineers describe the new cable anchors as a well-\nknown design borrowed from harbour "
     "cranes. Every summer the annual Lantern Festival on the bridge draws"],
    ["about twelve thousand visitors to Kettleford, most of them arriving by the new tram.",
     "The town museum keeps Kostadin's original drawings in its reading room, where visitors may "
     "ask to see them on Thursday afternoons.",
     "The next inspection of the piers is planned for 2027, when divers will survey the riverbed "
     "around the fourth pier for the first time since the restoration."],
]

QUESTIONS = {  # question -> (words the cited quote must hold, page in the one-column layout)
    "How long is the Zorblat bridge?": ("340 meters", 3),
    "How much did the restoration of the bridge cost?": ("41 million euros", 3),
    "When were the engineer's original drawings shown to visitors?": ("Thursday afternoons", 4),
}


def _lines(paragraph: str, width: int) -> list[str]:
    out: list[str] = []
    for segment in paragraph.split("\n"):
        out.extend(textwrap.wrap(segment, width=width, break_long_words=False, break_on_hyphens=False))
    return out


def article_pdf(path: Path, columns: int = 1, picture_page: int | None = None) -> Path:
    """Write the article as a PDF; `picture_page` (1-based) inserts a page without a text layer there."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    width, height = A4
    margin, leading = 72, 14
    pages = list(PAGES)
    if picture_page is not None:
        pages.insert(picture_page - 1, [])
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle(TITLE)
    c.setAuthor("Kettleford Quarterly Review")
    col_gap = 24
    col_width = (width - 2 * margin - (columns - 1) * col_gap) / columns
    chars = int(col_width / 5.2)  # Helvetica 10 pt is about 5 pt per character on average
    for number, paragraphs in enumerate(pages, start=1):
        if not paragraphs:  # a scanned page: a picture, no text at all
            c.setFillGray(0.6)
            c.rect(margin, margin, width - 2 * margin, height - 2 * margin, fill=1, stroke=0)
            c.setFillGray(0)
            c.showPage()
            continue
        c.setFont("Helvetica", 8)
        c.drawString(margin, height - 40, HEADER)
        c.drawCentredString(width / 2, 36, f"Page {number} of {len(pages)}")
        lines: list[str] = []
        for p in paragraphs:
            lines.extend(_lines(p, chars))
            lines.append("")  # paragraph spacing
        per_column = -(-len(lines) // columns)
        c.setFont("Helvetica", 10)
        for col in range(columns):
            x = margin + col * (col_width + col_gap)
            y = height - 90
            for line in lines[col * per_column:(col + 1) * per_column]:
                if line:
                    c.drawString(x, y, line)
                y -= leading
        c.showPage()
    c.save()
    return path


def locked_pdf(path: Path, user_password: str = "secret") -> Path:
    """A one-page PDF encrypted with a user password (RC4, as reportlab writes it)."""
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    enc = pdfencrypt.StandardEncryption(user_password, ownerPassword="owner", strength=40)
    c = canvas.Canvas(str(path), encrypt=enc)
    c.drawString(72, 720, "This text is behind a password.")
    c.showPage()
    c.save()
    return path


def report_docx(path: Path) -> Path:
    """A Word file with a title, headings, paragraphs and a table; the answer is in a later section."""
    import docx

    d = docx.Document()
    d.core_properties.title = "Kettleford Harbour Report"
    d.core_properties.author = "Harbour Office"
    d.add_heading("Kettleford Harbour Report", level=0)
    d.add_heading("Traffic", level=1)
    d.add_paragraph("The harbour handled 1,240 barges in 2023, most of them carrying grain from the "
                    "eastern plain to the mills on the south bank.")
    d.add_paragraph("Passenger boats run from April to October; the busiest month is August.")
    table = d.add_table(rows=3, cols=2)
    for row, (a, b) in zip(table.rows, [("Year", "Barges"), ("2022", "1,105"), ("2023", "1,240")]):
        row.cells[0].text, row.cells[1].text = a, b
    d.add_heading("Dredging", level=1)
    d.add_paragraph("The channel is dredged every third winter. The last dredging removed 18,000 "
                    "cubic meters of silt and was paid for by the river authority.")
    d.add_heading("Staff", level=2)
    d.add_paragraph("The harbour master, Oren Vasquez, has led a crew of nine since 2016.")
    d.save(str(path))
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/test-documents")
    out.mkdir(parents=True, exist_ok=True)
    article_pdf(out / "article.pdf")
    article_pdf(out / "article-two-columns.pdf", columns=2)
    article_pdf(out / "article-with-scan.pdf", picture_page=2)
    locked_pdf(out / "locked.pdf")
    report_docx(out / "report.docx")
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir()))} to {out}")
