"""`rag eval` on SQuAD dev as .txt and as PDF, side by side: what PDF extraction costs.

Builds the PDF version with `squad_pdf.py` (build/squad-pdf/, gold spans moved into each PDF's
raw text), then runs the same evaluation on both folders: same questions (the seeded sample
is drawn from identical question lists), same held-out articles, same settings. Targets
(issue 12): hit@5 within 0.02 of the .txt run, citations_valid = 1.0, every citation carries a
page (citations_with_page = 1.0).

    python benchmarks/eval_pdf.py [--squad DIR] [--limit 2000] [--seed 0] [--holdout-docs 0.15]
                                  [--modes hybrid] [--out eval-out-pdf]

Each run's full report (report.md, questions.jsonl, plots) goes to OUT/txt and OUT/pdf; the
comparison table is printed and written to OUT/comparison.md and OUT/comparison.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_SQUAD, stamp  # noqa: E402
from squad_pdf import DEFAULT_BUILD, build  # noqa: E402

METRICS = ["n_questions", "n_unanswerable", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "citation_support@1",
           "citation_support@any", "citations_valid", "citations_with_page", "n_citations", "answer_contains_gold",
           "abstain_unanswerable", "false_abstain", "ask_ms_p50", "ask_ms_p95", "ingest_s"]
HIT5_TOLERANCE = 0.02


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def compare(txt: dict, pdf: dict, mode: str) -> tuple[str, dict]:
    a, b = txt["modes"][mode], pdf["modes"][mode]
    lines = [f"| metric ({mode}) | .txt | PDF | PDF − .txt |", "|---|---|---|---|"]
    for m in METRICS:
        va, vb = a.get(m), b.get(m)
        diff = f"{vb - va:+.3f}" if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else ""
        lines.append(f"| {m} | {_fmt(va)} | {_fmt(vb)} | {diff} |")
    checks = {
        "hit@5 within 0.02 of .txt": abs(b["hit@5"] - a["hit@5"]) <= HIT5_TOLERANCE,
        "citations_valid = 1.0": b["citations_valid"] == 1.0,
        "every citation carries a page": b.get("citations_with_page") == 1.0,
    }
    lines.append("")
    lines += [f"- {name}: {'yes' if ok else 'NO'}" for name, ok in checks.items()]
    return "\n".join(lines), checks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    p.add_argument("--build", type=Path, default=DEFAULT_BUILD)
    p.add_argument("--limit", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--holdout-docs", type=float, default=0.15)
    p.add_argument("--modes", default="hybrid")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("eval-out-pdf"))
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    from rag.eval.report import write_report
    from rag.eval.run import evaluate

    mapping = build(args.squad, args.build)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    reports = {}
    for name, dataset in (("txt", args.squad), ("pdf", args.build)):
        reports[name] = evaluate(dataset, None, limit=args.limit, seed=args.seed, modes=modes,
                                 holdout_docs=args.holdout_docs, k=args.k, show_progress=not args.quiet)
        write_report(reports[name], args.out / name)
    info = stamp()
    cfg = reports["pdf"]["config"]
    header = (f"`python benchmarks/eval_pdf.py` (rag eval --limit {args.limit} --seed {args.seed} "
              f"--holdout-docs {args.holdout_docs:g} --modes {args.modes} -k {args.k}, on "
              f"{args.squad.name} as .txt and as PDF), {info['date']}, {info['machine']}; "
              f"{cfg['documents']} articles indexed, PDF: {mapping['pages']} pages for {mapping['articles']} "
              f"articles, {mapping['spans_mapped']} gold spans moved into the PDFs' text "
              f"({mapping['spans_unmapped']} could not be):")
    tables, all_checks = [header, ""], {}
    for mode in modes:
        table, checks = compare(reports["txt"], reports["pdf"], mode)
        tables += [table, ""]
        all_checks[mode] = checks
    text = "\n".join(tables)
    print(text)
    (args.out / "comparison.md").write_text(text + "\n", encoding="utf-8")
    (args.out / "comparison.json").write_text(json.dumps(
        {**info, "mapping": mapping, "checks": all_checks,
         "modes": {n: r["modes"] for n, r in reports.items()}, "config": {n: r["config"] for n, r in reports.items()}},
        indent=2) + "\n", encoding="utf-8")
    print(f"reports: {args.out / 'txt'}, {args.out / 'pdf'}; table: {args.out / 'comparison.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
