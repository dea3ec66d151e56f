"""The natural question set typed as people type: without question marks, in capitals,
wrapped the way people talk to an assistant ("Can you tell me ...", "Hi! ...", "... Thanks!"),
after a sentence of their own ("I have a question about an article I read. ..."), and with a
typo (two neighbouring letters of one content word swapped, "misslie").

Writes each variant of eval/natural (same articles and index, same gold answers, only the question
text changed) to build/question-forms/<variant>/ and runs `rag eval` on it, hybrid mode, for the tuning
part (where choices are made) and the reporting part. rag/conversation.py `as_question` and
rag/answer/answer_type.py `question_names` quote the tuning part's rows.

    .venv/bin/python benchmarks/question_forms.py [--splits tune,report]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.eval.report import write_report  # noqa: E402
from rag.eval.run import evaluate  # noqa: E402
from rag.text.lexical import question_terms  # noqa: E402


def lower_first(q: str) -> str:
    return q[:1].lower() + q[1:]


def one_typo(q: str) -> str:
    """Two neighbouring letters swapped inside one content word of 5+ letters, chosen by a
    generator seeded with the question (the same typo on every run): "How high did the misslie
    go?". Swaps are among the commonest typing slips; first and last letters are kept."""
    rng = random.Random(q)
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", q) if question_terms(m.group())]
    if not words:
        return q
    m = rng.choice(words)
    w, i = m.group(), rng.randrange(1, len(m.group()) - 2)
    return q[:m.start()] + w[:i] + w[i + 1] + w[i] + w[i + 2:] + q[m.end():]


VARIANTS = {
    "as written": lambda q: q,
    "no question mark": lambda q: q.rstrip().rstrip("?").rstrip(),
    "capitals": lambda q: q.upper(),
    "can you tell me": lambda q: f"Can you tell me {lower_first(q)}",
    "hi!": lambda q: f"Hi! {q}",
    "please tell me:": lambda q: f"Please tell me: {q}",
    "thanks after": lambda q: f"{q} Thanks!",
    "a sentence first": lambda q: f"I have a question about an article I read. {q}",
    "after a colon": lambda q: f"I was reading about this and got curious: {lower_first(q)}",
    "one typo": one_typo,
}
METRICS = ("hit@1", "hit@5", "citation_support@1", "answer_contains_gold", "abstain_unanswerable", "false_abstain")


def write_variant(name: str, change, out: Path) -> Path:
    src = ROOT / "eval" / "natural"
    folder = out / name.replace(" ", "-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    articles = [json.loads(line) for line in (src / "articles.jsonl").read_text().splitlines() if line.strip()]
    for a in articles:  # paths are relative to the set's folder
        a["path"] = str((src / a["path"]).resolve())
    (folder / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
    rows = [json.loads(line) for line in (src / "questions.jsonl").read_text().splitlines() if line.strip()]
    for r in rows:
        r["question"] = change(r["question"])
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--splits", default="tune,report")
    p.add_argument("--variants", help="comma-separated names of VARIANTS to run (default: all)")
    p.add_argument("--out", type=Path, default=ROOT / "build" / "question-forms")
    args = p.parse_args()
    print(f"{'split':7s} {'variant':18s} " + " ".join(f"{m:>20s}" for m in METRICS))
    for split in args.splits.split(","):
        for name, change in VARIANTS.items():
            if args.variants and name not in args.variants.split(","):
                continue
            folder = write_variant(name, change, args.out)
            report = evaluate(dataset_path=folder, index_dir=args.out / "index", split=split, modes=("hybrid",), k=10)
            write_report(report, folder / f"eval-{split}")
            m = report["modes"]["hybrid"]
            print(f"{split:7s} {name:18s} " + " ".join(f"{m[k]:20.3f}" for k in METRICS), flush=True)


if __name__ == "__main__":
    main()
