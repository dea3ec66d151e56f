"""Fitting the generative answerer's support model and choosing its gate floor, on fitting data only.

Input: the per-question rows of `rag eval ... --llm` runs on the FITTING sets (the natural
question set's tuning part, SQuAD dev seed 1), which keep each model reply and the numbered
sentences it was shown (`trace`). Nothing here calls the model again: every choice is replayed
on the stored replies, through the same code the answerer runs (GenerativeAnswerer.finish).

    python benchmarks/eval_llm.py --fitting --out eval-out-llm-fit   # stores the 1.5B model's replies
    python benchmarks/tune_generative.py calibrate eval-out-llm-fit/natural eval-out-llm-fit/squad
    python benchmarks/tune_generative.py replay    eval-out-llm-fit/natural eval-out-llm-fit/squad --margins=-,1,2,3

`calibrate`: the support model of rag/answer/verify.py. Pairs (claim, numbered sentence) are
labelled by rule from the model's own answers: a claim (one sentence of a reply) that contains
a gold answer, paired with the shown sentence that holds that gold answer's span, is supported
(1); the same claim paired with each other shown sentence, which does not contain the gold
answer, is not (0): it states an answer those sentences do not give. Features as the verifier
computes them (lexical, cosine, rerank); a logistic regression with balanced classes;
5-fold cross-validated precision and recall of "supported" are printed for thresholds, and the
threshold is the lowest whose cross-validated precision is at least TARGET_PRECISION. It
prints the lines to paste into rag/answer/verify.py.

`replay`: with the support model in verify.py, each policy (gate floors, relevance margins) replayed over the
stored replies: answer_contains_gold, abstention on unanswerable questions, false abstention,
share of supported sentences, fallbacks; next to the extractive answerer on the same questions.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.prompt import is_decline, parse_reply  # noqa: E402
from rag.answer.verify import Source, Verifier, facts_problem  # noqa: E402
from rag.eval.metrics import normalize_answer  # noqa: E402

TARGET_PRECISION = 0.95
FEATURES = ("lexical", "novel", "cosine", "rerank")


def load_rows(folders: list[str]) -> list[tuple[dict, dict]]:
    """(config, row) of every generative row of the given eval output folders."""
    out = []
    for folder in folders:
        config = json.loads((Path(folder) / "report.json").read_text())["config"]
        for line in (Path(folder) / "questions.jsonl").read_text().splitlines():
            row = json.loads(line)
            if row["mode"].endswith("+llm"):
                out.append((config, row))
    return out


class Indexes:
    """The eval indexes, opened once each, with a lookup of every sentence by its raw span."""

    def __init__(self) -> None:
        self.assistants = {}
        self.sentences = {}

    def assistant(self, config: dict):
        from rag import Assistant

        path = config["index"]
        if path not in self.assistants:
            a = Assistant.open(path, llm_url="http://127.0.0.1:9/v1")  # never called: replies are replayed
            a.warm_up()
            snap = a.require_snapshot()
            table = {}
            for row, chunk in enumerate(snap.chunks):
                for j, s in enumerate(chunk.sentences):
                    table.setdefault((chunk.doc_id, s.start, s.end), (s.text, chunk.title, row, j))
            self.assistants[path], self.sentences[path] = a, table
        return self.assistants[path], self.sentences[path]


def sources_of(indexes: Indexes, config: dict, shown: list) -> dict[int, Source]:
    a, table = indexes.assistant(config)
    snap = a.require_snapshot()
    out = {}
    for n, doc, start, end in shown:
        text, title, row, j = table[(doc, start, end)]
        out[n] = Source(n, text, " ".join(title.split()[:6]), np.asarray(snap.sentence_vectors_of(row)[j], np.float32))
    return out


def holds_gold(row: dict, doc: str, start: int, end: int) -> bool:
    return doc == row["doc_id"] and any(start <= s and e <= end for s, e in row["spans"])


def pairs(rows: list[tuple[dict, dict]], indexes: Indexes) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Features, labels and groups (question ids, for cross-validation by question), and for each
    pair (kind, question, claim, sentence, fact-check problem). Kinds:
    - "cited": a claim holding a gold answer with the sentence that holds the gold span (1);
    - "other": the same claim with another shown sentence, which lacks the gold answer (0);
    - "swapped": the claim with its gold answer replaced by the gold answer of another question
      on the same article, with the gold sentence (0): the right citation, a wrong answer.
    """
    import random

    rng = random.Random(0)
    answers_of: dict[str, list[str]] = defaultdict(list)
    for _, row in rows:
        if row["answerable"] and row["answers"]:
            answers_of[row["doc_id"]].append(row["answers"][0])
    X, y, groups, info = [], [], [], []

    def add(kind, row, claim, src, label, verifier):
        [f] = verifier.features([claim], [[src]], row["question"])
        X.append([f[k] for k in FEATURES])
        y.append(label)
        groups.append(row["id"])
        info.append((kind, row["question"], claim, src.text,
                     facts_problem(claim, [src], row["question"])))

    for config, row in rows:
        trace = row.get("trace")
        if not trace or not row["answerable"] or not trace.get("reply"):
            continue
        golds = [normalize_answer(a) for a in row["answers"] if normalize_answer(a)]
        if not any(holds_gold(row, s[1], s[2], s[3]) for s in trace["shown"]):
            continue
        a, _ = indexes.assistant(config)
        snap = a.require_snapshot()
        verifier = Verifier(a.embedder, a.answerer.reranker, snap.idf, snap.unknown_idf)
        sources = sources_of(indexes, config, trace["shown"])
        for claim in parse_reply(trace["reply"]).claims:
            if is_decline(claim.text) or not any(g in normalize_answer(claim.text) for g in golds):
                continue
            for n, doc, start, end in trace["shown"]:
                src = sources[n]
                if holds_gold(row, doc, start, end):
                    add("cited", row, claim.text, src, 1, verifier)
                    raw = next((g for g in row["answers"] if g.lower() in claim.text.lower()), None)
                    others = [o for o in answers_of[row["doc_id"]]
                              if normalize_answer(o) not in normalize_answer(src.text) and o not in row["answers"]]
                    if raw and others:
                        i = claim.text.lower().index(raw.lower())
                        swapped = claim.text[:i] + rng.choice(others) + claim.text[i + len(raw):]
                        add("swapped", row, swapped, src, 0, verifier)
                elif not any(g in normalize_answer(src.text) for g in golds):
                    add("other", row, claim.text, src, 0, verifier)
                # else: another sentence with the answer: neither label is safe
    return np.array(X), np.array(y), np.array(groups), info


def calibrate(folders: list[str]) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    indexes = Indexes()
    rows = load_rows(folders)
    X, y, groups, info = pairs(rows, indexes)
    kinds = [i[0] for i in info]
    passed = np.array([i[4] is None for i in info])
    print(f"{len(rows)} generative rows -> {len(y)} pairs from {len(set(groups))} questions:")
    for kind in ("cited", "other", "swapped"):
        n = sum(1 for k in kinds if k == kind)
        p = sum(1 for k, ok in zip(kinds, passed) if k == kind and ok)
        print(f"  {kind:8s} {n:5d} pairs, {p:5d} pass the fact check (numbers, dates, names)")
    # The score only ever sees claims that passed the fact check: fit and judge it on those.
    X, y, groups = X[passed], y[passed], groups[passed]
    print(f"fitting on the {len(y)} pairs that pass it: {int(y.sum())} supported, {int((1 - y).sum())} not")
    for name, cols in (("with rerank", [0, 1, 2, 3]), ("without rerank", [0, 1, 2])):
        cv = np.zeros(len(y))
        for train, test in GroupKFold(5).split(X, y, groups):
            m = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(X[train][:, cols], y[train])
            cv[test] = m.predict_proba(X[test][:, cols])[:, 1]
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(X[:, cols], y)
        print(f"\n{name}: 5-fold CV by question, 'supported' at each threshold:")
        print("  threshold  precision  recall  (kept pairs)")
        chosen = None
        for t in np.arange(0.3, 0.96, 0.05):
            kept = cv >= t
            precision = (y[kept].mean() if kept.any() else float("nan"))
            recall = kept[y == 1].mean()
            print(f"  {t:9.2f}  {precision:9.3f}  {recall:6.3f}  ({kept.sum()})")
            if chosen is None and precision >= TARGET_PRECISION:
                chosen = round(float(t), 2)
        coef = {FEATURES[c]: round(float(w), 3) for c, w in zip(cols, model.coef_[0])}
        line = {"intercept": round(float(model.intercept_[0]), 3), **coef, "threshold": chosen}
        var = "SUPPORT_MODEL" if 3 in cols else "SUPPORT_MODEL_NO_RERANK"
        print(f"{var} = {line}")


def replay(folders: list[str], floors: list[float], thresholds: list[float | None] = (None,),
           types: tuple[bool, ...] = (True, False), margins: tuple[float | None, ...] = (None,)) -> None:
    from rag.answer.generative import NOT_ASKED, GenerativeAnswerer, GenerativeConfig
    from rag.types import Answer

    indexes = Indexes()
    rows = load_rows(folders)
    by_set: dict[str, list] = defaultdict(list)
    for config, row in rows:
        by_set[Path(config["dataset"]).name + (f" {config['split']}" if config.get("split") else "")
               + f" s{config['seed']}"].append((config, row))
    for name, items in by_set.items():
        print(f"\n{name}: {len(items)} questions")
        print("  policy                                  contains_gold  abstain_unans  false_abstain  supported_share  "
              "generative  not_asked  fallback  gen_no_gold")
        policies = [(f, t, r, m) for f in floors for t in thresholds for r in types for m in margins]
        for floor, threshold, require_type, margin in policies:
            stats = defaultdict(float)
            n_ans = n_una = 0
            written = supported = 0
            for config, row in items:
                a, _ = indexes.assistant(config)
                gen: GenerativeAnswerer = replace(a.generative, config=GenerativeConfig(
                    gate_floor=floor, require_answer_type=require_type, relevance_margin=margin))
                snap = a.require_snapshot()
                query = a.query(row["question"])
                hits = a.retriever(None, snap).retrieve(query, config["k"])
                asked = gen.prepare(query, hits, snap)
                trace = row.get("trace")
                if isinstance(asked, Answer):
                    answer = asked
                elif trace and trace.get("reply") is not None:
                    if [[s.n, *s.key] for s in asked.shown] != trace["shown"]:
                        print(f"  (shown sentences differ from the stored trace: {row['id']}; skipped)")
                        continue
                    with support_threshold(threshold):
                        answer = gen.finish(asked, trace["reply"])
                else:
                    # Asked now but not in the stored run (its floor was higher): no reply to replay.
                    answer = asked.extractive
                text = normalize_answer(answer.answer) if not answer.abstained else ""
                if row["answerable"]:
                    n_ans += 1
                    gold = any(normalize_answer(g) in text for g in row["answers"] if normalize_answer(g))
                    stats["gold"] += gold
                    # A model's answer without the gold one: wrong, or right in other words.
                    stats["gen_no_gold"] += answer.answerer.kind == "generative" and not answer.abstained and not gold
                    stats["false"] += answer.abstained
                else:
                    n_una += 1
                    stats["abstain"] += answer.abstained
                written += len(answer.sentences)
                supported += sum(s.supported for s in answer.sentences)
                stats["generative"] += answer.answerer.kind == "generative"
                stats["not_asked"] += answer.answerer.fallback == NOT_ASKED
                stats["fallback"] += answer.answerer.fallback not in (None, NOT_ASKED)
            n = max(1, n_ans + n_una)
            label = (f"floor={floor:g} thr={threshold if threshold is not None else 'cur'} "
                     f"type={'y' if require_type else 'n'} margin={margin if margin is not None else '-'}")
            print(f"  {label:38s}  {stats['gold'] / max(1, n_ans):13.3f}  "
                  f"{stats['abstain'] / max(1, n_una):13.3f}  {stats['false'] / max(1, n_ans):13.3f}  "
                  f"{supported / max(1, written):15.3f}  {stats['generative'] / n:10.3f}  {stats['not_asked'] / n:9.3f}  "
                  f"{stats['fallback'] / n:8.3f}  {stats['gen_no_gold'] / max(1, n_ans):11.3f}")
        print("  (the extractive answerer on the same questions: the run's report, column without +llm)")


class support_threshold:
    """Replays with another support threshold (None: the one in verify.py)."""

    def __init__(self, value: float | None) -> None:
        self.value = value

    def __enter__(self) -> None:
        from rag.answer import verify

        self.saved = verify.SUPPORT_MODEL["threshold"]
        if self.value is not None:
            verify.SUPPORT_MODEL["threshold"] = self.value

    def __exit__(self, *exc: object) -> None:
        from rag.answer import verify

        verify.SUPPORT_MODEL["threshold"] = self.saved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="part", required=True)
    sp = sub.add_parser("calibrate")
    sp.add_argument("folders", nargs="+")
    sp = sub.add_parser("replay")
    sp.add_argument("folders", nargs="+")
    sp.add_argument("--floors", default="0,0.05,0.1")
    sp.add_argument("--thresholds", default="", help="support thresholds to try (default: the one in verify.py)")
    sp.add_argument("--types", default="y,n", help="require the answer type: y, n or both")
    sp.add_argument("--margins", default="-", help="relevance margins to try ('-': no check)")
    args = p.parse_args()
    if args.part == "calibrate":
        calibrate(args.folders)
    else:
        thresholds = [float(t) for t in args.thresholds.split(",") if t] or [None]
        types = tuple(t == "y" for t in args.types.split(","))
        margins = tuple(None if m == "-" else float(m) for m in args.margins.split(","))
        replay(args.folders, [float(f) for f in args.floors.split(",")], thresholds, types, margins)


if __name__ == "__main__":
    main()
