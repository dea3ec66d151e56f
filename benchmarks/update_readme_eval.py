"""Combine the three `rag eval` runs of `make eval` into one report, and put its tables in README.md.

    python benchmarks/update_readme_eval.py eval-out README.md

Reads eval-out/squad/report.json (SQuAD dev, seed 0), eval-out/natural/report.json (the
reporting part of eval/natural) and eval-out/fresh3/report.json (eval/fresh3), writes
eval-out/report.json and eval-out/report.md with all three, and replaces the README block
between the eval markers. Beside each table stands the previous release's hybrid column
(eval/baseline.json; none for eval/fresh3, which is newer), so a change shows as one. Numbers are
copied from the reports, never typed.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.eval.report import markdown_table  # noqa: E402

START, END = "<!-- eval:start -->", "<!-- eval:end -->"
SETS = {
    "squad": "SQuAD dev (seed 0: 2,000 questions, 15% of the 48 articles held out, their questions unanswerable)",
    "natural": "Natural questions, reporting part (eval/natural: everyday wording; near-topic and unrelated "
               "questions the articles do not answer)",
    "fresh3": "Fresh natural questions (eval/fresh3: the same rules, on the 6 SQuAD dev articles no other set "
              "uses, written on 2026-11-27 before its first run; nothing is fitted or tuned on it, and the one "
              "decision its first run counted in is named below the tables)",
}


def command(cfg: dict) -> str:
    parts = [f"rag eval {Path(cfg['dataset']).name}"]
    if cfg.get("limit"):
        parts.append(f"--limit {cfg['limit']} --seed {cfg['seed']}")
    if cfg.get("holdout_docs"):
        parts.append(f"--holdout-docs {cfg['holdout_docs']}")
    if cfg.get("split"):
        parts.append(f"--split {cfg['split']}")
    parts.append(f"--modes {','.join(cfg['modes'])}")
    return " ".join(parts)


def second_opinion(cfg: dict) -> str:
    """", abstention second opinion bge-small-en-v1.5" from the model id the run recorded
    ("BAAI/bge-small-en-v1.5 (int8 onnx, ...)"), or "" when the run had none."""
    model_id = cfg.get("second_opinion")
    if not model_id:
        return ""
    return f", abstention second opinion {model_id.split(' (')[0].split('/')[-1]}"


def section(name: str, report: dict, baseline: dict | None) -> list[str]:
    cfg = report["config"]
    modes = dict(report["modes"])
    if baseline:
        modes["previous release (hybrid)"] = baseline
    return [f"**{SETS[name]}**: `{command(cfg)}`, {cfg['documents']} articles / {cfg['chunks']} chunks, "
            f"encoder {cfg['encoder']}, reranker {cfg.get('reranker', 'none')}"
            f"{second_opinion(cfg)}, k={cfg['k']}:", "",
            markdown_table({"modes": modes}), ""]


def main(out_dir: str = "eval-out", readme: str = "README.md") -> None:
    out = ROOT / out_dir
    reports = {name: json.loads((out / name / "report.json").read_text()) for name in SETS}
    baseline = json.loads((ROOT / "eval" / "baseline.json").read_text())
    (out / "report.json").write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    date = max(r["config"]["date"] for r in reports.values())
    arithmetic = reports["squad"]["config"]["versions"].get("int8_arithmetic")
    lines = [f"`make eval`, {date}, {platform.machine()} with {os.cpu_count()} cores, model "
             f"{reports['squad']['config']['model']['id']}"
             f"{f', int8 models: {arithmetic}' if arithmetic else ''}:", ""]
    for name, report in reports.items():
        lines += section(name, report, baseline.get(name))
    (out / "report.md").write_text("# Evaluation report\n\n" + "\n".join(lines) +
                                   "\nPer-set details, worst misses and plots: "
                                   + ", ".join(f"{name}/report.md" for name in SETS) + ".\n",
                                   encoding="utf-8")
    block = "\n".join([START, *lines, END])
    path = ROOT / readme
    text = path.read_text()
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text += "\n" + block + "\n"
    path.write_text(text)
    print(f"wrote {out / 'report.md'}, {out / 'report.json'}; updated {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
