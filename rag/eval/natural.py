"""The natural question set (eval/natural/): format, the paraphrase rule, and its checker.

SQuAD's crowd workers wrote their questions while reading the paragraph, so the questions copy
its words. People do not: they ask "How high did the missile go?" of an article that says
"hitting altitudes of 7,000 kilometers". This module defines the set that measures that, and
checks every question against the rule that keeps it honest:

- the gold answer and the evidence sentence are verbatim spans of the article at their offsets,
  and the answer lies inside the evidence sentence;
- the question shares at most ONE content word with its evidence sentence, and no two
  consecutive content words. Content words are what is left after a broad English function-word
  list, compared after the project's own analysis (irregular verb -> base form, Snowball stem),
  so "flew"/"fly" and "troops"/"troop" count as shared. The article's subject names (listed per
  article in articles.jsonl: proper names only, e.g. "North Korea", "Kursk") are not counted:
  a person asking about the Kursk article says "Kursk".

Layout of eval/natural/:
    articles.jsonl   {"id", "title", "path" (relative to the folder), "split": "tune"|"report",
                      "subject_names": [...]}
    questions.jsonl  answerable: {"id", "question", "answers": [str], "answer_start": [int],
                      "doc_id", "evidence", "evidence_start", "type", "split"}
                     unanswerable: {"id", "question", "answers": [], "answer_start": [],
                      "doc_id": null, "near_doc": id or null, "kind": "near"|"unrelated",
                      "type", "split"}

New questions are written as drafts, without offsets or ids: {"doc_id", "question", "answer",
"evidence", "type"} or {"question", "kind", "near_doc", "type"}, one per line; the evidence
must occur exactly once in its article. Then:

    python -m rag.eval.natural check-drafts eval/natural drafts.jsonl   # every problem, one line each
    python -m rag.eval.natural add eval/natural drafts.jsonl            # offsets found, ids given, appended
    python -m rag.eval.natural check eval/natural                       # the whole set
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from rag.eval.datasets import article_path

QUESTION_TYPES = ("how many", "how much", "how far", "how long", "how high", "how old", "how big",
                  "when", "who", "where", "why", "yes/no", "what", "which", "how")
SPLITS = ("tune", "report")
KINDS = ("near", "unrelated")

# Function words (a broad list: pronouns, auxiliaries, prepositions, determiners, question
# words, light adverbs). A question may use any of them freely; everything else is content.
FUNCTION_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each either ever every few for from further get gets got had hadn't has hasn't
have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i
i'd i'll i'm i've if in into is isn't it it's its itself just let's many may me might more most
much must mustn't my myself neither no nor not now of off on once one only or other ought our ours
ourselves out over own per same shall shan't she she'd she'll she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they'd they'll
they're they've this those though through to too under until up upon us very was wasn't we we'd
we'll we're we've were weren't what what's when when's where where's whether which while who
who's whom whose why why's will with won't would wouldn't yes yet you you'd you'll you're you've
your yours yourself yourselves
kind sort type name called
""".split())

_WORD = re.compile(r"\w+(?:[.'’]\w+)*")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_words(text: str, exempt: frozenset[str] = frozenset()) -> list[str]:
    """The content words of `text` in order, analysed (base form, stem), minus `exempt` stems."""
    from rag.text.irregular import BASE_FORM

    words = [w.replace("’", "'").replace(".", "") for w in _WORD.findall(text.lower())]
    words = [w for w in words if w and w not in FUNCTION_WORDS]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    stems = _stemmer().stemWords([BASE_FORM.get(w, w) for w in words])
    return [s for s in stems if s not in exempt]


def exempt_stems(subject_names: Iterable[str]) -> frozenset[str]:
    return frozenset(s for name in subject_names for s in content_words(name))


def overlap_problem(question: str, evidence: str, subject_names: Iterable[str] = ()) -> str | None:
    """None when `question` paraphrases `evidence` enough, else what it copies."""
    exempt = exempt_stems(subject_names)
    q, e = content_words(question, exempt), content_words(evidence, exempt)
    shared = sorted(set(q) & set(e))
    e_pairs = set(zip(e, e[1:]))
    copied_pairs = [f"{a} {b}" for a, b in zip(q, q[1:]) if (a, b) in e_pairs]
    if copied_pairs:
        return f"shares consecutive content words with its evidence: {copied_pairs}"
    if len(shared) > 1:
        return f"shares {len(shared)} content words with its evidence (at most 1): {shared}"
    return None


@dataclass(frozen=True)
class NaturalArticle:
    id: str
    title: str
    path: Path
    split: str
    subject_names: tuple[str, ...]

    def text(self) -> str:
        return self.path.read_bytes().decode("utf-8")


def load_articles(folder: Path) -> dict[str, NaturalArticle]:
    out = {}
    for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            a = json.loads(line)
            out[a["id"]] = NaturalArticle(a["id"], a["title"], article_path(folder, a["path"]), a["split"],
                                          tuple(a.get("subject_names", ())))
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every object of a JSON-lines file (blank lines skipped), e.g. a question set's files."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def question_problems(q: dict[str, Any], articles: dict[str, NaturalArticle],
                      texts: dict[str, str]) -> list[str]:
    """Everything wrong with one question of questions.jsonl (empty list: fine)."""
    where = f"{q.get('id', '?')} {q.get('question', '')!r}"
    problems = []
    if q.get("type") not in QUESTION_TYPES:
        problems.append(f"{where}: type {q.get('type')!r} is not one of {QUESTION_TYPES}")
    if q.get("split") not in SPLITS:
        problems.append(f"{where}: split {q.get('split')!r} is not one of {SPLITS}")
    if not q.get("answers"):
        if q.get("kind") not in KINDS:
            problems.append(f"{where}: unanswerable question needs kind in {KINDS}")
        near = q.get("near_doc")
        if q.get("kind") == "near" and near not in articles:
            problems.append(f"{where}: near_doc {near!r} is not an article of the set")
        return problems
    doc = articles.get(q.get("doc_id"))
    if doc is None:
        return problems + [f"{where}: doc_id {q.get('doc_id')!r} is not an article of the set"]
    if q["split"] != doc.split:
        problems.append(f"{where}: split {q['split']} but its article is in {doc.split}")
    text = texts[doc.id]
    ev, ev_start = q.get("evidence", ""), q.get("evidence_start", -1)
    if not ev or text[ev_start : ev_start + len(ev)] != ev:
        problems.append(f"{where}: evidence is not the article's text at evidence_start={ev_start}")
    for answer, start in zip(q["answers"], q.get("answer_start", [])):
        if text[start : start + len(answer)] != answer:
            problems.append(f"{where}: answer {answer!r} is not the article's text at {start}")
    if len(q.get("answer_start", [])) != len(q["answers"]):
        problems.append(f"{where}: answers and answer_start differ in length")
    first = q.get("answer_start", [-1])[0]
    if not (ev_start <= first and first + len(q["answers"][0]) <= ev_start + len(ev)):
        problems.append(f"{where}: the first answer is not inside the evidence sentence")
    overlap = overlap_problem(q["question"], ev, doc.subject_names)
    if overlap:
        problems.append(f"{where}: {overlap}")
    return problems


def dataset_problems(folder: Path) -> list[str]:
    """Every problem with eval/natural (offsets, the paraphrase rule, fields, splits, ids)."""
    articles = load_articles(folder)
    missing = [a.id for a in articles.values() if not a.path.is_file()]
    if missing:
        return [f"article files not found: {missing} (the SQuAD ones are read from ../shared)"]
    texts = {a.id: a.text() for a in articles.values()}
    questions = read_jsonl(folder / "questions.jsonl")
    problems = []
    ids = [q.get("id") for q in questions]
    if len(set(ids)) != len(ids):
        problems.append("question ids are not unique")
    for q in questions:
        problems += question_problems(q, articles, texts)
    return problems


def draft_problems(draft: dict[str, Any], articles: dict[str, NaturalArticle], texts: dict[str, str]) -> list[str]:
    """Problems of one draft line (no offsets yet): the evidence must occur once, the answer in it."""
    where = f"{draft.get('question', '')!r}"
    if draft.get("type") not in QUESTION_TYPES:
        return [f"{where}: type {draft.get('type')!r} is not one of {QUESTION_TYPES}"]
    if "answer" not in draft:
        if draft.get("kind") not in KINDS:
            return [f"{where}: unanswerable draft needs kind in {KINDS}"]
        if draft["kind"] == "near" and draft.get("near_doc") not in articles:
            return [f"{where}: near_doc {draft.get('near_doc')!r} is not an article of the set"]
        return []
    doc = articles.get(draft.get("doc_id"))
    if doc is None:
        return [f"{where}: doc_id {draft.get('doc_id')!r} is not an article of the set"]
    text, ev, answer = texts[doc.id], draft.get("evidence", ""), draft.get("answer", "")
    n = text.count(ev) if ev else 0
    if n != 1:
        return [f"{where}: evidence occurs {n} times in {doc.id} (must be exactly once, verbatim)"]
    if not answer or answer not in ev:
        return [f"{where}: answer {answer!r} is not inside the evidence"]
    overlap = overlap_problem(draft["question"], ev, doc.subject_names)
    return [f"{where}: {overlap}"] if overlap else []


def load_drafts(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path)


def from_drafts(folder: Path, drafts: list[dict[str, Any]], first_id: int = 0,
                unanswerable_so_far: int = 0) -> list[dict[str, Any]]:
    """Question lines from draft lines: offsets found, ids given, split taken from the article."""
    articles = load_articles(folder)
    texts = {a.id: a.text() for a in articles.values()}
    problems = [p for d in drafts for p in draft_problems(d, articles, texts)]
    if problems:
        raise SystemExit("\n".join(problems))
    out = []
    for i, d in enumerate(drafts, start=first_id):
        if "answer" in d:
            doc = articles[d["doc_id"]]
            ev_start = texts[doc.id].index(d["evidence"])
            start = ev_start + d["evidence"].index(d["answer"])
            out.append({"id": f"nat-{i:04d}", "question": d["question"], "answers": [d["answer"]],
                        "answer_start": [start], "doc_id": doc.id, "evidence": d["evidence"],
                        "evidence_start": ev_start, "type": d["type"], "split": doc.split})
        else:
            near = d.get("near_doc") if d["kind"] == "near" else None
            # Unrelated questions alternate between the splits; near ones follow their article.
            split = articles[near].split if near else SPLITS[unanswerable_so_far % 2]
            unanswerable_so_far += near is None
            out.append({"id": f"nat-{i:04d}", "question": d["question"], "answers": [], "answer_start": [],
                        "doc_id": None, "near_doc": near, "kind": d["kind"], "type": d["type"], "split": split})
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    usage = ("usage: python -m rag.eval.natural check FOLDER\n"
             "       python -m rag.eval.natural check-drafts FOLDER DRAFTS.jsonl\n"
             "       python -m rag.eval.natural add FOLDER DRAFTS.jsonl   (appends to questions.jsonl)")
    if not ((len(argv) == 2 and argv[0] == "check") or (len(argv) == 3 and argv[0] in ("check-drafts", "add"))):
        print(usage, file=sys.stderr)
        return 2
    folder = Path(argv[1])
    if argv[0] == "check":
        problems = dataset_problems(folder)
    elif argv[0] == "check-drafts":
        articles = load_articles(folder)
        texts = {a.id: a.text() for a in articles.values()}
        drafts = load_drafts(Path(argv[2]))
        problems = [p for d in drafts for p in draft_problems(d, articles, texts)]
        answerable = [d for d in drafts if "answer" in d]
        per_doc: dict[str, int] = {}
        for d in answerable:
            per_doc[d["doc_id"]] = per_doc.get(d["doc_id"], 0) + 1
        print(f"{len(drafts)} drafts: {len(answerable)} answerable over {len(per_doc)} articles, "
              f"{len(drafts) - len(answerable)} unanswerable; per article {per_doc}")
    else:
        path = folder / "questions.jsonl"
        existing = read_jsonl(path) if path.is_file() else []
        unrelated = sum(1 for q in existing if q.get("kind") == "unrelated")
        added = from_drafts(folder, load_drafts(Path(argv[2])), len(existing), unrelated)
        with open(path, "a", encoding="utf-8") as f:
            for q in added:
                f.write(json.dumps(q, ensure_ascii=False) + "\n")
        problems = dataset_problems(folder)
        print(f"added {len(added)} questions to {path}")
    for p in problems:
        print(p)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
