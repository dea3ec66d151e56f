"""Writing an evaluation report: report.json, report.md, per-question rows and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.eval.metrics import FALLBACK_REASONS, KS

COLUMNS = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "citation_support@1", "citation_support@any",
           "citations_valid", "answer_contains_gold", "abstain_unanswerable", "abstain_near", "abstain_unrelated",
           "false_abstain", "ask_ms_p50", "ask_ms_p95", "ingest_s"]
# Rows only a generative run has (rag.eval.metrics.generative_metrics); "–" in other columns.
GENERATIVE_COLUMNS = ["supported_share", "unsupported_shown", "generative_share", "not_asked_share",
                      "fallback_share", *(f"fallback_{r}" for r in FALLBACK_REASONS),
                      "first_draft_ms_p50", "first_draft_ms_p95"]


def markdown_table(report: dict[str, Any]) -> str:
    modes = report["modes"]
    lines = ["| metric | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    extra = GENERATIVE_COLUMNS if any("supported_share" in m for m in modes.values()) else []
    for col in ["n_questions", "n_unanswerable", *COLUMNS, *extra]:
        cells = []
        for m in modes.values():
            v = m.get(col)
            cells.append("–" if v is None else (f"{v:.3f}" if isinstance(v, float) and col.endswith(("_s", "p50", "p95")) is False else f"{v}"))
        lines.append(f"| {col} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(report: dict[str, Any], out: Path, worst: int = 15) -> str:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"config": report["config"], "modes": report["modes"]},
                                                indent=2) + "\n", encoding="utf-8")
    with open(out / "questions.jsonl", "w", encoding="utf-8") as f:
        for mode, rows in report["rows"].items():
            for r in rows:
                f.write(json.dumps({"mode": mode, **r}, ensure_ascii=False) + "\n")
    table = markdown_table(report)
    cfg = report["config"]
    md = ["# Evaluation report\n", f"Dataset `{cfg['dataset']}`, {cfg['date']}.\n", table, "",
          "## Configuration\n", "```json", json.dumps(cfg, indent=2), "```", ""]
    for mode, rows in report["rows"].items():
        misses = [r for r in rows if r["answerable"] and (r["rank"] is None or r["rank"] > 1)][:worst]
        md += [f"## Worst misses ({mode}): gold passage not ranked first\n",
               "| question | expected | got (first citation) | gold rank |", "|---|---|---|---|"]
        beyond = f">{cfg.get('k', max(KS))}"  # not among the hits retrieved
        for r in misses:
            got = "(abstained)" if r["abstained"] else (r["first_citation"] or "")[:160]
            md.append(f"| {_cell(r['question'])} | {_cell(r['answers'][0] if r['answers'] else '')} | "
                      f"{_cell(got)} | {r['rank'] or beyond} |")
        wrong_abstain = [r for r in rows if not r["answerable"] and not r["abstained"]][:5]
        if wrong_abstain:
            md += ["", f"Unanswerable but answered ({mode}):", ""]
            md += [f"- {_cell(r['question'])} → {_cell(r['answer'][:160])}" for r in wrong_abstain]
        md.append("")
    md += ["![hit@k](hit_at_k.png)", "", "![latency](latency.png)", ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    _plots(report, out)
    return table


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _plots(report: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, rows in report["rows"].items():
        ans = [r for r in rows if r["answerable"]]
        ks = list(range(1, min(max(KS), report["config"].get("k", max(KS))) + 1))  # only what was retrieved
        ys = [sum(1 for r in ans if r["rank"] is not None and r["rank"] <= k) / max(1, len(ans)) for k in ks]
        ax.plot(ks, ys, marker="o", label=mode)
    ax.set_xlabel("k")
    ax.set_ylabel("hit@k")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Gold passage within the top k")
    fig.tight_layout()
    fig.savefig(out / "hit_at_k.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, rows in report["rows"].items():
        ax.hist([r["ms"] for r in rows], bins=40, alpha=0.6, label=mode)
    ax.set_xlabel("ask latency (ms)")
    ax.set_ylabel("questions")
    ax.legend()
    ax.set_title("Latency per question")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)
