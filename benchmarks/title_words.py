"""How much of a title to embed with a passage, measured on the fitting sets with news headlines.

The fitting sets (SQuAD dev seed 1, the natural tuning part) have SQuAD's titles, at most five
words ("Super Bowl 50"); news articles have headlines of 15 to 20 words. This writes copies of
both sets whose titles are headlines (each article's first sentence, up to 16 words: the lead a
headline sums up) to build/title-words/, and runs the `rag eval` question loop on each, hybrid
mode, with the title embedded whole (the previous release), by its first 4 or 8 words, or not at
all. The embedded text is rag/embed/base.py `passage_text`; what the reranker reads before a
sentence is rag/answer/extractive.py `rerank_text`, at most 8 words in every row, so only the
encoder's input changes between rows. The sets' own titles are run once, as shipped, for scale.
rag/text/titles.py quotes this table.

`--part noise` measures how much the natural tuning part moves when nothing about its own
articles changes: the int8 encoder quantizes each batch with one scale (DynamicQuantizeLinear),
so a text's vector depends on the texts batched with it, and any change elsewhere in the index
(the seed article's shorter title, one more article) shifts every vector a little. It runs the
tuning part with its own titles, embedded whole and by their first 8 words, each with and
without one more small article (three sentences on gardening, no questions) in the index, and
each with every text encoded alone (batches of 1, so no vector depends on another text).

    .venv/bin/python benchmarks/title_words.py [--part headlines|noise] [--squad ../shared/data/squad-v1.1-dev]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rag.indexer  # noqa: E402
from common import DEFAULT_SQUAD, stamp, table  # noqa: E402
from rag.eval.datasets import sample  # noqa: E402
from rag.eval.run import prepare, run_questions  # noqa: E402

OUT = ROOT / "build" / "title-words"
METRICS = ("hit@1", "hit@5", "citation_support@1", "answer_contains_gold", "abstain_unanswerable", "false_abstain")


def headline(text: str, words: int = 16) -> str:
    """The first sentence of an article, at most `words` words: a stand-in for its headline."""
    first = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0]
    return " ".join(first.split()[:words]).rstrip(".,;:")


def with_headlines(src: Path, name: str) -> Path:
    """A copy of a dataset folder's article list with headline titles (articles and questions are
    read from where they are)."""
    out = OUT / "sets" / name
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (src / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        path = (src / a["path"]).resolve()
        lines.append(json.dumps({**a, "path": str(path), "title": headline(path.read_text(encoding="utf-8"))}))
    (out / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "questions.jsonl").write_text((src / "questions.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def embedded_title(words: int | None):
    """passage_text with the title cut to `words` words (None: whole, 0: no title)."""
    def text(title: str, passage: str) -> str:
        kept = title if words is None else " ".join(title.split()[:words])
        return f"{kept}\n{passage}" if kept else passage
    return text


def run(name: str, squad: Path, natural: Path, words: int | None) -> list[dict]:
    rag.indexer.passage_text = embedded_title(words)  # what the indexer embeds; queries have no title
    rows = []
    for set_name, path, kw in (("squad", squad, dict(holdout_docs=0.15, seed=1)),
                               ("natural", natural, dict(split="tune"))):
        tag = re.sub(r"\W+", "-", f"{name}-{set_name}")
        prepared = prepare(path, OUT / "index" / tag, **kw)
        questions = prepared.dataset.questions
        if set_name == "squad":
            questions = sample(questions, 2000, 1)
        prepared.assistant.warm_up()
        m = run_questions(prepared.assistant, questions, "hybrid", 10, False).metrics()
        rows.append({"titles": name, "set": set_name, **{k: m[k] for k in METRICS}})
        print(f"{name}, {set_name}: " + ", ".join(f"{k} {m[k]:.3f}" for k in METRICS), flush=True)
    return rows


def with_one_more_article(src: Path) -> Path:
    """A copy of a dataset folder's article list with one more small article that no question
    asks about."""
    out = OUT / "sets" / "natural-plus-one"
    out.mkdir(parents=True, exist_ok=True)
    extra = out / "garden-notes.txt"
    extra.write_text("Tomatoes grow best in warm soil. Water them in the morning. Pick them when they are red.\n",
                     encoding="utf-8")
    lines = [json.dumps({**a, "path": str((src / a["path"]).resolve())})
             for a in map(json.loads, (src / "articles.jsonl").read_text(encoding="utf-8").splitlines())]
    lines.append(json.dumps({"id": "garden-notes", "title": "Garden notes", "path": str(extra), "split": "report"}))
    (out / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "questions.jsonl").write_text((src / "questions.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def noise() -> None:
    natural = ROOT / "eval" / "natural"
    plus_one = with_one_more_article(natural)
    from rag.embed.onnx_int8 import OnnxInt8Embedder

    alone = OnnxInt8Embedder(batch_size=1)  # every text quantized on its own: no batch mates
    rows = []
    for name, path, words, embedder in (
            ("whole", natural, None, None), ("whole, one more article", plus_one, None, None),
            ("first 8 words", natural, 8, None), ("first 8 words, one more article", plus_one, 8, None),
            ("whole, batches of 1", natural, None, alone), ("first 8 words, batches of 1", natural, 8, alone)):
        rag.indexer.passage_text = embedded_title(words)
        prepared = prepare(path, OUT / "index" / re.sub(r"\W+", "-", f"noise-{name}"), split="tune",
                           embedder=embedder)
        prepared.assistant.warm_up()
        m = run_questions(prepared.assistant, prepared.dataset.questions, "hybrid", 10, False).metrics()
        rows.append({"titles": name, **{k: m[k] for k in METRICS}})
    print(f"\ntitle_words --part noise: hybrid, the natural tuning part with its own titles ({stamp()['date']})")
    print(table(rows, ["titles", *METRICS]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--part", choices=("headlines", "noise"), default="headlines")
    args = ap.parse_args()
    if args.part == "noise":
        noise()
        return
    squad_long = with_headlines(args.squad, "squad")
    natural_long = with_headlines(ROOT / "eval" / "natural", "natural")
    rows = run("SQuAD titles, whole", args.squad, ROOT / "eval" / "natural", None)
    for name, words in (("headlines, whole", None), ("headlines, first 8 words", 8),
                        ("headlines, first 4 words", 4), ("headlines, no title", 0)):
        rows += run(name, squad_long, natural_long, words)
    print(f"\ntitle_words: hybrid, SQuAD dev seed 1 (2,000 questions) and the natural tuning part ({stamp()['date']})")
    print(table(rows, ["titles", "set", *METRICS]))


if __name__ == "__main__":
    main()
