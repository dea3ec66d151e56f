"""SQuAD dev as PDFs: each article typeset by reportlab, with its gold answers mapped into the PDF.

Writes a question-set folder in the layout `rag eval` reads (README, "Evaluation"), beside
the index builds and never in the repository:

    build/squad-pdf/
      articles/<doc_id>.pdf   A4, justified 10.5 pt DejaVu Sans (matplotlib's copy: no font
                              download), the title as a heading, the article title as a running
                              header and "Page N of M" as a footer on every page
      articles.jsonl          {id, title, path} as in the source folder, paths to the PDFs
      questions.jsonl         the same questions, in the same order, with `answer_start` and
                              `answer_end` moved into each PDF's raw source (rag.ingest.pdf)
      mapping.json            how many gold spans were mapped, and which could not be

Gold spans are moved by aligning words: the .txt article's words and the PDF extraction's
words are matched with difflib (the extraction has extra words: headers, footers, page
numbers), and each span's first and last words carry over with their offsets inside the word.
The mapping uses only the extraction, not our cleaner, so it cannot flatter it.

    python benchmarks/squad_pdf.py [--squad DIR] [--out build/squad-pdf] [--articles N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from bisect import bisect_right
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_SQUAD, ROOT  # noqa: E402

DEFAULT_BUILD = ROOT / "build" / "squad-pdf"
RENDERER_VERSION = "squad-pdf-1"  # bump to re-render existing builds


def _font() -> str:
    """Register DejaVu Sans (matplotlib ships it) so that non-Latin-1 text survives the round trip."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans"


def render(text: str, title: str, paragraphs: list[tuple[int, int]], out: Path) -> int:
    """Typeset one article; returns its page count."""
    from xml.sax.saxutils import escape

    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=14, alignment=TA_JUSTIFY, spaceAfter=7)
    heading = ParagraphStyle("heading", fontName=f"{font}-Bold", fontSize=17, leading=21, spaceAfter=12)
    pages = [0]

    def furniture(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(doc.leftMargin, A4[1] - 40, f"SQuAD dev articles — {title}")
        canvas.drawCentredString(A4[0] / 2, 30, f"Page {doc.page}")
        canvas.restoreState()
        pages[0] = doc.page

    story = [Paragraph(escape(title), heading), Spacer(1, 4)]
    story += [Paragraph(escape(text[a:b]), body) for a, b in paragraphs]
    doc = SimpleDocTemplate(str(out), pagesize=A4, title=title, author="SQuAD v1.1 dev (rendered by rag)",
                            leftMargin=72, rightMargin=72, topMargin=64, bottomMargin=56, invariant=1)
    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return pages[0]


def _words(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


class SpanMap:
    """Moves character spans of the .txt article into the PDF's raw text by aligning words."""

    def __init__(self, txt: str, raw: str) -> None:
        self.txt, self.raw = txt, raw
        self.tw, self.rw = _words(txt), _words(raw)
        self.starts = [a for a, _ in self.tw]
        matcher = SequenceMatcher(None, [txt[a:b] for a, b in self.tw], [raw[a:b] for a, b in self.rw],
                                  autojunk=False)
        self.to_raw: dict[int, int] = {}
        for i, j, size in matcher.get_matching_blocks():
            for k in range(size):
                self.to_raw[i + k] = j + k

    def _word(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        first, last = self._word(start), self._word(end - 1)
        if first < 0 or first not in self.to_raw or last not in self.to_raw:
            return None
        r_first, r_last = self.rw[self.to_raw[first]], self.rw[self.to_raw[last]]
        new_start = r_first[0] + (start - self.tw[first][0])
        new_end = r_last[0] + (end - self.tw[last][0])
        return (new_start, new_end) if new_start < new_end else None


def build(squad: Path, out: Path, limit: int | None = None, quiet: bool = False) -> dict:
    """Render the articles (reusing PDFs already rendered by this version) and map the questions."""
    from rag.ingest.pdf import PdfReader

    articles = [json.loads(line) for line in (squad / "articles.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()][:limit]
    (out / "articles").mkdir(parents=True, exist_ok=True)
    stamp_file = out / "renderer.txt"
    fresh = not stamp_file.exists() or stamp_file.read_text().strip() != RENDERER_VERSION
    reader = PdfReader()
    maps: dict[str, SpanMap] = {}
    rows, pages_total, t0 = [], 0, time.perf_counter()
    for a in articles:
        txt = (squad / a["path"]).read_text(encoding="utf-8")
        pdf = out / "articles" / f"{a['id']}.pdf"
        paragraphs = [tuple(p) for p in a.get("paragraphs") or []] or [
            (m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]*)*", txt)]
        if fresh or not pdf.exists():
            render(txt, a.get("title") or a["id"], paragraphs, pdf)
        raw = reader.raw_text(pdf, pdf.read_bytes())
        pages_total += raw.count("\f") + 1
        maps[a["id"]] = SpanMap(txt, raw)
        rows.append({"id": a["id"], "title": a.get("title") or a["id"], "path": f"articles/{pdf.name}"})
    stamp_file.write_text(RENDERER_VERSION + "\n")
    (out / "articles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    mapped = unmapped = 0
    failures = []
    with open(out / "questions.jsonl", "w", encoding="utf-8") as f:
        for line in (squad / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            if q["doc_id"] not in maps:
                continue
            m = maps[q["doc_id"]]
            answers, starts, ends = [], [], []
            for ans, s in zip(q["answers"], q["answer_start"]):
                span = m.span(s, s + len(ans))
                if span is None:
                    unmapped += 1
                    failures.append({"id": q["id"], "answer": ans})
                    continue
                mapped += 1
                answers.append(ans)
                starts.append(span[0])
                ends.append(span[1])
            # A question whose every answer failed to map keeps its answers without offsets, so the
            # question list (and `rag eval`'s seeded sample) stays the same as the .txt run's.
            q.update(answers=answers or q["answers"], answer_start=starts, answer_end=ends)
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    report = {"articles": len(rows), "pages": pages_total, "spans_mapped": mapped, "spans_unmapped": unmapped,
              "unmapped": failures[:50], "seconds": round(time.perf_counter() - t0, 1),
              "renderer": RENDERER_VERSION}
    (out / "mapping.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        print(f"{len(rows)} articles, {pages_total} pages in {out}; gold spans mapped {mapped}, "
              f"unmapped {unmapped} ({report['seconds']} s)")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    p.add_argument("--out", type=Path, default=DEFAULT_BUILD)
    p.add_argument("--articles", type=int, default=None, help="first N articles (default: all)")
    args = p.parse_args(argv)
    build(args.squad, args.out, args.articles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
