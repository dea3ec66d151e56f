"""Replace the evaluation table in README.md (between eval markers) with eval-out/report.json.

`make eval` runs this after `rag eval`, so the README's numbers are regenerated, never typed.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.eval.report import markdown_table  # noqa: E402

START, END = "<!-- eval:start -->", "<!-- eval:end -->"


def main(report_path: str = "eval-out/report.json", readme: str = "README.md") -> None:
    report = json.loads((ROOT / report_path).read_text())
    cfg = report["config"]
    cmd = (f"rag eval {Path(cfg['dataset']).name} --limit {cfg['limit']} --seed {cfg['seed']} "
           f"--holdout-docs {cfg['holdout_docs']} --modes {','.join(cfg['modes'])}")
    block = "\n".join([
        START,
        f"`make eval` ({cmd}), {cfg['date']}, {platform.machine()} with {__import__('os').cpu_count()} cores, "
        f"{cfg['documents']} articles indexed / {cfg['chunks']} chunks, model {cfg['model']['id']}, k={cfg['k']}:",
        "",
        markdown_table({"modes": report["modes"]}),
        END,
    ])
    path = ROOT / readme
    text = path.read_text()
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text += "\n" + block + "\n"
    path.write_text(text)
    print(f"updated {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
