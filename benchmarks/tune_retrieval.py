"""Choose fusion weights, sentence choice and abstention on the FITTING data only, and print why.

Fitting data = two sets together, so that neither wording style wins alone:
- SQuAD dev, seed-1 split (other questions and other held-out articles than the seed-0 split
  `make eval` reports on), whose crowd questions copy the article's words;
- the tuning part of eval/natural, all of eval/fresh and all of eval/fresh2, questions in everyday
  words, scored together as the "natural" set (eval/natural's reporting part and eval/fresh3 are
  never read here). `--extra` names the whole sets that join the tuning part: "fresh" gives the
  fit of 2026-11-27 evening, "" the one before it.
Every variant is printed with its score on each set, so README claims about what won come from
this output. Parts:
  fusion   hit@1 / hit@5 of each weighting of the chunk signals (rag/retrieve/hybrid.py)
  answer   which sentence is cited first: the cheap score alone, and the reranker over the cheap
           score's top N (rag/answer/extractive.py)
  abstain  logistic models over the best sentence's evidence (rag/answer/abstain.py), with the
           highest threshold that keeps false abstentions within the issue's targets on each set
           (--max-false-abstain, default SQuAD 0.07, natural 0.10), and the second opinion
           that decides where the first model is unsure
  follow   answer_contains_gold and answer length for the follow-on sentence margin
Reranker scores are cached in build/tune-cache/ (they take minutes on 2 cores).

    .venv/bin/python benchmarks/tune_retrieval.py [--limit 2000] [--parts fusion,answer,abstain,follow]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.extractive import AnswerConfig, Candidate, ExtractiveAnswerer  # noqa: E402
from rag.eval.datasets import sample  # noqa: E402
from rag.eval.metrics import normalize_answer  # noqa: E402
from rag.eval.run import prepare  # noqa: E402
from rag.retrieve.hybrid import Candidates, FusionConfig, HybridRetriever, candidates  # noqa: E402

CACHE = ROOT / "build" / "tune-cache"


@dataclass
class Item:
    """One fitting question with everything the parts need."""

    question: object  # rag.eval.datasets.Question
    set: str
    index: str  # which prepared index answers it ("squad", "natural", or an eval/ folder's name)
    query: object = None
    cands: Candidates | None = None
    gold_rows: np.ndarray | None = None
    snap: object = None
    hits: list | None = None


def covers(start: int, end: int, q) -> bool:
    return any(start <= s and e <= end for s, e in q.spans)


def load_sets(limit: int, extra: tuple[str, ...] = ("fresh", "fresh2")) -> tuple[dict[str, object], list[Item]]:
    """The fitting questions, each with the name of the index that answers it. Each set in `extra`
    (a folder of eval/) has its own index (its own articles, as `rag eval fresh` builds) and is
    scored with the natural tuning part as one "natural" set: all are everyday questions under
    the same rules."""
    squad = prepare(ROOT.parent / "shared/data/squad-v1.1-dev", holdout_docs=0.15, seed=1, show_progress=True)
    natural = prepare(ROOT / "eval/natural", split="tune", show_progress=True)
    items = [Item(q, "squad", "squad") for q in sample(squad.dataset.questions, limit, 1)]
    items += [Item(q, "natural", "natural") for q in natural.dataset.questions]
    assistants = {"squad": squad.assistant, "natural": natural.assistant}
    for name in extra:
        whole = prepare(ROOT / "eval" / name, show_progress=True)
        items += [Item(q, "natural", name) for q in whole.dataset.questions]
        assistants[name] = whole.assistant
    return assistants, items


class CachedReranker:
    """The real reranker behind a disk cache of its logits by (question, passage): a re-run, or
    another configuration that sends the same sentences, costs no model call."""

    def __init__(self, reranker) -> None:
        self.reranker = reranker
        self.model_id = reranker.model_id
        # v2: logits of exact int8 products on every CPU (rag/int8.py); earlier files mixed CPUs.
        self.path = CACHE / "rerank-v2.json"
        self.scores = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.pairs_read = 0  # sentences the answerer asked about, cached or not

    @staticmethod
    def key(question: str, passage: str) -> str:
        return hashlib.sha1(f"{question}\0{passage}".encode()).hexdigest()

    def warm_up(self) -> None:
        self.reranker.warm_up()

    def score(self, question: str, passages) -> np.ndarray:
        self.pairs_read += len(passages)
        missing = [p for p in passages if self.key(question, p) not in self.scores]
        if missing:
            for p, s in zip(missing, self.reranker.score(question, missing)):
                self.scores[self.key(question, p)] = float(s)
        return np.array([self.scores[self.key(question, p)] for p in passages], dtype=np.float32)

    def save(self) -> None:
        CACHE.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.scores))


def by_set(items: list[Item], fn) -> dict[str, float]:
    out = {}
    for name in ("squad", "natural"):
        vals = [fn(it) for it in items if it.set == name]
        vals = [v for v in vals if v is not None]
        out[name] = float(np.mean(vals)) if vals else float("nan")
    return out


def fmt(d: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.3f}" for k, v in d.items())


# -- part 1: fusion ---------------------------------------------------------------------------
def fusion_part(assistants, items: list[Item], shipped: FusionConfig) -> FusionConfig:
    for it in items:
        a = assistants[it.index]
        snap = a.require_snapshot()
        it.query = a.query(it.question.question)
        if it.question.answerable:
            it.cands = candidates(snap, it.query, "hybrid", shipped.candidates)
            it.gold_rows = np.array([snap.chunks[int(r)].doc_id == it.question.doc_id
                                     and covers(snap.chunks[int(r)].start, snap.chunks[int(r)].end, it.question)
                                     for r in it.cands.rows])
    answerable = [it for it in items if it.question.answerable]

    def rank_of(it: Item, w: tuple[float, float, float, float]) -> int:
        c = it.cands
        s = w[0] * c.dense + w[1] * c.sentence + w[2] * c.lexical + w[3] * c.coverage
        order = np.argsort(-s, kind="stable")[:10]
        hit = np.nonzero(it.gold_rows[order])[0]
        return int(hit[0]) + 1 if len(hit) else 99

    grid = list(itertools.product((0.0, 0.15, 0.3, 0.5), (0.0, 0.15, 0.3, 0.5, 0.8), (0.3, 0.5, 0.7, 1.0),
                                  (0.0, 0.1, 0.2, 0.3)))
    results = []
    for w in grid:
        ranks = [rank_of(it, w) for it in answerable]
        h1 = {s: float(np.mean([r <= 1 for r, it in zip(ranks, answerable) if it.set == s])) for s in ("squad", "natural")}
        h5 = {s: float(np.mean([r <= 5 for r, it in zip(ranks, answerable) if it.set == s])) for s in ("squad", "natural")}
        objective = np.mean([(h1[s] + h5[s]) / 2 for s in h1])
        results.append((objective, w, h1, h5))
    results.sort(key=lambda r: -r[0])
    print("\n== fusion: weights (dense, sentence, lexical, coverage) -> hit@1 / hit@5 per set ==")
    print("  (objective: the mean over both sets of (hit@1 + hit@5) / 2; the chosen weights must not step back on\n"
          "   SQuAD: hit@1 at least the previous release's + 0.005, hit@5 at least the previous release's)")
    named = {"dense only": (1, 0, 0, 0), "lexical only": (0, 0, 1, 0), "previous release (0.3, 0, 0.7, 0.2)":
             (0.3, 0.0, 0.7, 0.2), "sentence vectors only": (0, 1, 0, 0)}
    for name, w in named.items():
        ranks = [rank_of(it, w) for it in answerable]
        h = {s: (np.mean([r <= 1 for r, it in zip(ranks, answerable) if it.set == s]),
                 np.mean([r <= 5 for r, it in zip(ranks, answerable) if it.set == s])) for s in ("squad", "natural")}
        print(f"  {name:38s} " + "  ".join(f"{s} {a:.3f}/{b:.3f}" for s, (a, b) in h.items()))
    for objective, w, h1, h5 in results[:10]:
        print(f"  {str(w):38s} " + "  ".join(f"{s} {h1[s]:.3f}/{h5[s]:.3f}" for s in h1) + f"  objective {objective:.4f}")
    previous = (0.3, 0.0, 0.7, 0.2)
    ranks = [rank_of(it, previous) for it in answerable]
    squad = [r for r, it in zip(ranks, answerable) if it.set == "squad"]
    floor1, floor5 = np.mean([r <= 1 for r in squad]) + 0.005, np.mean([r <= 5 for r in squad])
    best = next(w for _, w, h1, h5 in results if h1["squad"] >= floor1 and h5["squad"] >= floor5)
    return replace(shipped, dense_weight=best[0], sentence_weight=best[1], lexical_weight=best[2],
                   coverage_weight=best[3])


# -- part 2: which sentence -------------------------------------------------------------------
def retrieve_all(assistants, items: list[Item], fusion: FusionConfig) -> None:
    for it in items:
        a = assistants[it.index]
        it.snap = a.require_snapshot()
        it.query = it.query or a.query(it.question.question)
        it.hits = HybridRetriever(it.snap, "hybrid", fusion).retrieve(it.query, 10)


def is_gold(it: Item, c: Candidate) -> bool:
    return it.question.answerable and c.hit.chunk.doc_id == it.question.doc_id and covers(
        c.sentence.start, c.sentence.end, it.question)


def sentence_part(items: list[Item], reranker: CachedReranker) -> None:
    """The answerer's own ranking (rag/answer/extractive.py) under each configuration."""
    answerable = [it for it in items if it.question.answerable]
    base = replace(AnswerConfig(), rerank_within=math.inf)  # the grid reads the top N whatever their score
    t0 = time.perf_counter()
    # Every candidate through the reranker once, so the grid below reads the cache only.
    everything = ExtractiveAnswerer(reranker, replace(base, rerank_top=100))
    ceiling = by_set(answerable, lambda it: float(any(is_gold(it, c) for c in
                                                      everything.rank(it.query, it.hits, it.snap))))
    reranker.save()
    print(f"\n(reranker scores for all candidates of {len(items)} questions: {time.perf_counter() - t0:.0f} s)")
    print("\n== which sentence is cited first (share holding a gold answer; answerable questions) ==")
    print(f"  ceiling (a gold sentence among the candidates): {fmt(ceiling)}")
    for cw, pw in itertools.product((0.0, 0.25, 0.5, 1.0), (0.0, 0.3)):
        cfg = replace(base, coverage_weight=cw, prior_weight=pw)
        print(f"  cheap = cosine + {cw} coverage + {pw} prior:")
        variants = {"cheap only": ExtractiveAnswerer(None, cfg)}
        for n, blend in itertools.product((3, 4, 6, 8, 100), (0.0, 2.0, 4.0)):
            variants[f"top {n} by rerank + {blend} cheap"] = ExtractiveAnswerer(
                reranker, replace(cfg, rerank_top=n, rerank_blend=blend))
        for name, answerer in variants.items():
            print(f"      {name:28s} {fmt(by_set(answerable, lambda it, a=answerer: first_gold(it, a)))}")
    print("  shipped cheap score and blend; the top 4 by cheap score, only those within W of the best:")
    for within in (math.inf, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1):
        answerer = ExtractiveAnswerer(reranker, replace(AnswerConfig(), rerank_within=within))
        reranker.pairs_read = 0
        first = by_set(answerable, lambda it, a=answerer: first_gold(it, a))
        per_question = reranker.pairs_read / sum(1 for it in answerable if it.hits)
        contains = by_set(answerable, lambda it, a=answerer: contains_gold(it, a))
        print(f"      W = {within:<4}  first {fmt(first)}  contains_gold {fmt(contains)}"
              f"  sentences read per question {per_question:.2f}")


def first_gold(it: Item, answerer: ExtractiveAnswerer) -> float:
    """1.0 when the sentence the answerer would cite first holds a gold answer."""
    return float(is_gold(it, answerer.rank(it.query, it.hits, it.snap)[0])) if it.hits else 0.0


def contains_gold(it: Item, answerer: ExtractiveAnswerer) -> float:
    """1.0 when the sentences the answerer would show hold a gold answer (answerable questions)."""
    chosen = answerer.choose(answerer.rank(it.query, it.hits, it.snap))
    text = normalize_answer(" ".join(c.sentence.text for c in chosen))
    return float(any(normalize_answer(x) in text for x in it.question.answers if normalize_answer(x)))


# -- part 3: abstention -----------------------------------------------------------------------
def fit_abstention(rows: list[dict], cols: list[str], max_false: dict[str, float]):
    """The logistic model over `cols` of the rows (each with "set" and "y" = answerable), its
    probabilities, and the highest threshold that keeps false abstentions within `max_false` on
    every set. Each set weighs the same in the fit, and answerable and unanswerable weigh the
    same within it."""
    from sklearn.linear_model import LogisticRegression

    X = feature_matrix(rows, cols)
    y = np.array([r["y"] for r in rows])
    model = LogisticRegression(C=10.0, max_iter=5000).fit(X, y, sample_weight=balanced_weights(rows))
    p = model.predict_proba(X)[:, 1]
    return model, p, highest_threshold(p, rows, max_false)


def feature_matrix(rows: list[dict], cols: list[str]) -> np.ndarray:
    """The rows' features `cols`, one row each: what every abstention model here is fitted on."""
    return np.array([[r[c] for c in cols] for r in rows], dtype=float)


def balanced_weights(rows: list[dict]) -> np.ndarray:
    """Sample weights under which each set weighs the same, and answerable and unanswerable
    questions weigh the same within it (mean weight 1)."""
    sets, y = np.array([r["set"] for r in rows]), np.array([r["y"] for r in rows])
    w = np.zeros(len(rows))
    for s in ("squad", "natural"):
        for label in (0, 1):
            m = (sets == s) & (y == label)
            w[m] = 1.0 / max(1, m.sum())
    return w * len(w)


def highest_threshold(p: np.ndarray, rows: list[dict], max_false: dict[str, float]) -> float:
    """The highest threshold on 0.01..0.99 whose false abstentions stay within `max_false` on
    every set (0.0 when none does)."""
    sets, y = np.array([r["set"] for r in rows]), np.array([r["y"] for r in rows])
    threshold = 0.0
    for t in np.linspace(0.01, 0.99, 99):
        if all(np.mean(p[(sets == s) & (y == 1)] < t) <= max_false[s] for s in ("squad", "natural")):
            threshold = t
    return threshold


def rates(p: np.ndarray, threshold: float, rows: list[dict]) -> str:
    """False abstentions and abstentions per set at `threshold` for probabilities `p` of `rows`."""
    sets, y = np.array([r["set"] for r in rows]), np.array([r["y"] for r in rows])
    return "  ".join(f"{s} false {np.mean(p[(sets == s) & (y == 1)] < threshold):.3f} abstain "
                     f"{np.mean(p[(sets == s) & (y == 0)] < threshold):.3f}" for s in ("squad", "natural"))


def out_of_fold(rows: list[dict], cols: list[str], trees: bool = False) -> np.ndarray:
    """Probabilities of the shipped fit's model (or gradient-boosted trees) over `cols`, each row's
    from a model fitted without its article: 5 folds grouped by article, as a new question set
    would see it."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    y = np.array([r["y"] for r in rows])
    X = feature_matrix(rows, cols)
    w = balanced_weights(rows)
    p = np.zeros(len(rows))
    for train, test in GroupKFold(5).split(X, y, np.array([r["doc"] for r in rows])):
        model = (HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05, random_state=0)
                 if trees else LogisticRegression(C=10.0, max_iter=5000))
        p[test] = model.fit(X[train], y[train], sample_weight=w[train]).predict_proba(X[test])[:, 1]
    return p


def fitted_rates(rows: list[dict], cols: list[str], max_false: dict[str, float]) -> str:
    """The rates of the shipped fit (fit_abstention) on these features, at its threshold."""
    _, p, threshold = fit_abstention(rows, cols, max_false)
    return rates(p, threshold, rows)


def fitting_answerer(limit: int = 2000) -> tuple[list[Item], CachedReranker, ExtractiveAnswerer]:
    """The fitting questions with their hits, the cached reranker, and the shipped answerer on it
    (what the scripts that try other signals start from)."""
    assistants, items = load_sets(limit)
    retrieve_all(assistants, items, FusionConfig())
    reranker = CachedReranker(assistants["squad"].answerer.reranker)
    reranker.warm_up()
    return items, reranker, ExtractiveAnswerer(reranker, AnswerConfig())


def shipped_rows(items: list[Item], answerer: ExtractiveAnswerer):
    """(item, its ranked sentences, row) for each fitting question the answerer finds sentences
    for. A row holds the question's set, "y" (answerable), "doc" (its article, the group for
    cross-validation) and the shipped abstention features of its best sentence
    (rag/answer/abstain.py: rerank, type_miss, name_miss, cosine)."""
    for it in items:
        ranked = answerer.rank(it.query, it.hits, it.snap) if it.hits else []
        if not ranked:
            continue
        e = answerer.evidence(it.query, ranked, it.snap)
        yield it, ranked, {"set": it.set, "index": it.index, "y": int(it.question.answerable),
                           "doc": it.question.doc_id or it.question.id,
                           "rerank": e.rerank, "type_miss": float(not e.type_ok), "name_miss": float(not e.names_ok),
                           "cosine": e.cosine}


def abstain_part(items: list[Item], answerer: ExtractiveAnswerer, max_false: dict[str, float]) -> None:
    from rag.rerank.bge_small import BgeSimilarity

    rows = []
    second = replace(answerer, second_opinion=BgeSimilarity())
    for it, ranked, row in shipped_rows(items, answerer):
        cheap_only = ExtractiveAnswerer(None, answerer.config).rank(it.query, it.hits, it.snap)
        e_cheap = answerer.evidence(it.query, cheap_only, it.snap)
        rows.append({**row, "question": it.question.question, "best": ranked[0].sentence.text,
                     "cheap": e_cheap.cheap, "type_miss_cheap": float(not e_cheap.type_ok),
                     "coverage": e_cheap.coverage, "second_opinion": second.second_opinion_of(it.query, ranked[0])})
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "abstain_rows.json").write_text(json.dumps(rows))
    sets = np.array([r["set"] for r in rows])
    y = np.array([r["y"] for r in rows])
    models = {  # the name of each model in rag/answer/abstain.py and its features
        "RERANK_MODEL": ["rerank", "type_miss", "name_miss", "cosine"],
        "RERANK_LEXICAL_MODEL": ["rerank", "type_miss", "name_miss"],
        "CHEAP_MODEL": ["cheap", "type_miss_cheap", "cosine"],
        "COVERAGE_MODEL": ["coverage"],
    }
    print(f"\n== abstention: logistic models; threshold: the highest with false abstentions <= {max_false} ==")
    for name, cols in models.items():
        model, p, threshold = fit_abstention(rows, cols, max_false)
        coefs = {c: round(float(v), 3) for c, v in zip(cols, model.coef_[0])}
        print(f"  {name} = {{'intercept': {model.intercept_[0]:.3f}, {', '.join(f'{k!r}: {v}' for k, v in coefs.items())},"
              f" 'threshold': {threshold:.2f}}}")
        for s in ("squad", "natural"):
            m = sets == s
            print(f"      {s:8s} false_abstain {np.mean(p[m & (y == 1)] < threshold):.3f}  abstain_unanswerable "
                  f"{np.mean(p[m & (y == 0)] < threshold):.3f}  (n={m.sum()}, unanswerable {int((m & (y == 0)).sum())})")
        if name == "RERANK_MODEL":  # the trade-off the threshold sits on
            for t in (0.2, 0.3, 0.4, 0.5, 0.6):
                print(f"      threshold {t:.1f}: " + "  ".join(
                    f"{s} false_abstain {np.mean(p[(sets == s) & (y == 1)] < t):.3f} abstain "
                    f"{np.mean(p[(sets == s) & (y == 0)] < t):.3f}" for s in ("squad", "natural")))
            second_opinion_part(rows, p, max_false)
            new_set_part(rows, cols, max_false)


def second_opinion_part(rows: list[dict], p_first: np.ndarray, max_false: dict[str, float]) -> None:
    """The second opinion (rag/answer/abstain.py): a model with bge's cosine in place of MiniLM's,
    fitted on every row, deciding only where the first model's probability `p_first` lies in a
    band. The band is the widest of a few that sends fewer than half of each set's questions to
    the second opinion (so the median question never pays for it); its threshold is the highest
    that keeps the combined decisions within the limits."""
    cols = ["rerank", "type_miss", "name_miss", "second_opinion"]
    model, p_second, _ = fit_abstention(rows, cols, max_false)
    sets = np.array([r["set"] for r in rows])
    print(f"  second opinion, fitted on every row: {rates(p_second, highest_threshold(p_second, rows, max_false), rows)}")
    chosen = None
    for band in ((0.2, 0.7), (0.15, 0.8), (0.1, 0.9), (0.05, 0.95), (0.0, 1.0)):
        inside, p = with_second_opinion(p_first, p_second, band)
        threshold = highest_threshold(p, rows, max_false)
        share = {s: float(inside[sets == s].mean()) for s in ("squad", "natural")}
        print(f"      band {band}: asked for {share['squad']:.3f} / {share['natural']:.3f} of the questions;"
              f"  {rates(p, threshold, rows)}")
        if max(share.values()) < 0.5:
            chosen = (band, threshold)
    coefs = {c: round(float(v), 3) for c, v in zip(cols, model.coef_[0])}
    print(f"  SECOND_OPINION_MODEL = {{'intercept': {model.intercept_[0]:.3f}, "
          f"{', '.join(f'{k!r}: {v}' for k, v in coefs.items())}, 'threshold': {chosen[1]:.2f}, 'band': {chosen[0]}}}")
    # The same two models with each row's probabilities from folds that left its article out.
    p1, p2 = out_of_fold(rows, ["rerank", "type_miss", "name_miss", "cosine"]), out_of_fold(rows, cols)
    _, p = with_second_opinion(p1, p2, chosen[0])
    print(f"  cross-validated by article: first model alone {rates(p1, highest_threshold(p1, rows, max_false), rows)}\n"
          f"                              with the second opinion {rates(p, highest_threshold(p, rows, max_false), rows)}")


def new_set_part(rows: list[dict], cols: list[str], max_false: dict[str, float]) -> None:
    """What a question set the fit never saw gets: each everyday set in turn is left out, the model
    and its threshold are fitted on the rest (SQuAD and the other everyday sets) as the shipped
    fit is, and its rates on the set left out are printed. Cross-validation by article mixes each
    set's questions into every fold; this does not, so it shows how far one set's wording sits
    from the others'. Printed for a few limits on the everyday sets' false abstentions: the
    threshold rule binds in-sample, and a new set's questions sit lower."""
    names = sorted({r["index"] for r in rows if r["set"] == "natural"})
    print(f"  each everyday set left out of the fit (first model; rows: "
          + ", ".join(f"{n} {sum(r['index'] == n for r in rows)}" for n in names) + "; median reranker logit of "
          "the best sentence of an answerable question: "
          + ", ".join(f"{n} {np.median([r['rerank'] for r in rows if r['index'] == n and r['y']]):.2f}" for n in names)
          + "):")
    for limit in (0.10, 0.07, 0.05, 0.03):
        limits = {**max_false, "natural": limit}
        false, abstain, parts = [], [], []
        for name in names:
            train = [r for r in rows if r["index"] != name]
            test = [r for r in rows if r["index"] == name]
            model, _, threshold = fit_abstention(train, cols, limits)
            p = model.predict_proba(feature_matrix(test, cols))[:, 1]
            y = np.array([r["y"] for r in test])
            false += list(p[y == 1] < threshold)
            abstain += list(p[y == 0] < threshold)
            parts.append(f"{name} {np.mean(p[y == 1] < threshold):.3f}/{np.mean(p[y == 0] < threshold):.3f}")
        print(f"      natural limit {limit:.2f}: left-out sets false/abstain {', '.join(parts)};"
              f"  pooled false {np.mean(false):.3f} abstain {np.mean(abstain):.3f}")


def with_second_opinion(p_first: np.ndarray, p_second: np.ndarray, band: tuple[float, float]):
    """(rows inside the band, the combined probability): inside the band the second model's;
    outside it 1 or 0 by the first model's side (its threshold lies inside every band tried)."""
    inside = (p_first >= band[0]) & (p_first <= band[1])
    return inside, np.where(inside, p_second, (p_first > band[1]).astype(float))


# -- part 4: follow-on sentences --------------------------------------------------------------
def follow_part(items: list[Item], answerer: ExtractiveAnswerer) -> None:
    print("\n== follow-on sentences: answer_contains_gold and mean sentences per answer (answerable) ==")
    answerable = [it for it in items if it.question.answerable and it.hits]
    for max_sentences, margin in itertools.product((1, 2, 3), (1.0, 2.0, 3.0)):
        if max_sentences == 1 and margin != 1.0:
            continue  # one sentence: the margin does not matter
        a = ExtractiveAnswerer(answerer.reranker, replace(answerer.config, max_sentences=max_sentences,
                                                         follow_margin=margin))

        def chosen(it: Item, a=a) -> list[Candidate]:
            return a.choose(a.rank(it.query, it.hits, it.snap))

        print(f"  max {max_sentences} sentences, margin {margin}: contains_gold "
              f"{fmt(by_set(answerable, lambda it, a=a: contains_gold(it, a)))}"
              f"  sentences {fmt(by_set(answerable, lambda it: float(len(chosen(it)))))}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=2000, help="SQuAD seed-1 questions")
    ap.add_argument("--parts", default="fusion,answer,abstain,follow")
    ap.add_argument("--extra", default="fresh,fresh2",
                    help="whole everyday sets that join the natural tuning part (\"fresh\": the fit of 2026-11-27 "
                         "evening; \"\": the one before)")
    ap.add_argument("--max-false-abstain", default="squad=0.07,natural=0.10",
                    help="per set: the issue's targets for false abstentions")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    extra = tuple(x for x in args.extra.split(",") if x)
    assistants, items = load_sets(args.limit, extra)
    print(f"fitting data: {sum(it.set == 'squad' for it in items)} SQuAD seed-1 questions, "
          f"{sum(it.index == 'natural' for it in items)} natural tuning questions, "
          + ", ".join(f"{sum(it.index == name for it in items)} eval/{name} questions" for name in extra))
    fusion = FusionConfig()
    if "fusion" in parts:
        fusion = fusion_part(assistants, items, fusion)
        print(f"chosen fusion: {fusion}  (shipped: {FusionConfig()})")
    retrieve_all(assistants, items, FusionConfig())
    reranker = CachedReranker(assistants["squad"].answerer.reranker)
    shipped = ExtractiveAnswerer(reranker, AnswerConfig())
    try:
        if "answer" in parts:
            sentence_part(items, reranker)
        if "abstain" in parts:
            limits = {k: float(v) for k, v in (x.split("=") for x in args.max_false_abstain.split(","))}
            abstain_part(items, shipped, limits)
        if "follow" in parts:
            follow_part(items, shipped)
    finally:
        reranker.save()


if __name__ == "__main__":
    main()
