"""Abstention signals tried on the fitting sets and not shipped, each against the shipped model.

For every fitting question (SQuAD dev seed 1 and the natural tuning part, as tune_retrieval.py
loads them), the shipped answerer ranks its sentences; then the abstention model
(rag/answer/abstain.py: a logistic model over reranker logit, answer type held, names mentioned,
best cosine) is fitted again with one more signal, at the same false-abstention limits (SQuAD
0.07, natural 0.10). Each row prints the rates twice:
- in-sample, as tune_retrieval.py fits the shipped model (fit and threshold on the same rows);
- cross-validated: 5 folds grouped by article, the threshold chosen on the out-of-fold scores,
  which is what a new question set would see (the natural part has only 33 unanswerable
  questions, so one question moves its rate by 0.03).
Signals:
  score statistics   the reranked logits' gap (best - second), the fused retrieval score's gap
                     (first hit - second), the best sentence's coverage of the question's terms
  title baseline     the reranker's logit for the question against the article's title alone
                     (how much of the best sentence's logit is topic), and the best's gain over it
  token alignment    MiniLM's contextual token vectors: for each content word of the question
                     its best cosine to a token of the best sentence; the lowest and the mean
                     ("population" of North Korea against a sentence on its troops)
  wider names        names matched through a few aliases (America / US / United States, UK /
                     Britain, EU, WWII, LA ...), decades ("1880s" / 1883) and demonym prefixes
                     ("Kenyan" / Kenya), instead of the first stem of each name
  boosted trees      gradient-boosted trees over the shipped features and all of the above
README "Retrieval quality: what was measured" quotes the output.

    .venv/bin/python benchmarks/abstention_features.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import tune_retrieval as tr  # noqa: E402
from rag.answer.answer_type import question_names  # noqa: E402
from rag.answer.extractive import chunk_terms  # noqa: E402
from rag.conversation import as_question  # noqa: E402
from rag.text.lexical import question_terms, terms  # noqa: E402
from rag.text.titles import title_topic  # noqa: E402

SHIPPED = ["rerank", "type_miss", "name_miss", "cosine"]
LIMITS = {"squad": 0.07, "natural": 0.10}
ALIASES = [["United States", "US", "USA", "America", "American", "Americans"],
           ["United Kingdom", "UK", "Britain", "British"], ["European Union", "EU"], ["United Nations", "UN"],
           ["World War II", "WWII", "Second World War"], ["World War I", "WWI", "First World War"],
           ["Los Angeles", "LA"], ["New York City", "NYC"], ["Prime Minister", "PM"]]


def wider_name_ok(name: str, have: set[str]) -> bool:
    decade = re.fullmatch(r"(\d{3})0s", name)
    if decade:
        return any(re.fullmatch(decade.group(1) + r"\d", h) for h in have)
    key = name.replace("’", "'").removesuffix("'s").replace(".", "").lower()
    for group in ALIASES:
        if key in {g.replace(".", "").lower() for g in group}:
            if any(all(t in have for t in terms(g)) for g in group if terms(g)):
                return True
    stems = terms(name)[:1]
    if not stems or stems[0] in have:
        return True
    stem = stems[0]
    return len(stem) >= 5 and any(h.startswith(stem[: max(4, len(stem) - 2)]) for h in have)


def token_alignment(questions: list[str], sentences: list[str]) -> list[tuple[float, float]]:
    """(lowest, mean) over the question's content tokens of the best cosine to a sentence token."""
    from sentence_transformers import SentenceTransformer

    from rag.embed.base import resolve_model_path

    model = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")
    tok = model.tokenizer

    def vectors(texts: list[str]):
        out = model.encode(texts, output_value="token_embeddings", batch_size=64, show_progress_bar=False)
        for text, v in zip(texts, out):
            pieces = tok.convert_ids_to_tokens(tok(text, truncation=True, max_length=256)["input_ids"])
            v = v.numpy()
            yield pieces, v / np.linalg.norm(v, axis=1, keepdims=True)

    result = []
    for (qp, qv), (sp, sv) in zip(vectors(questions), vectors(sentences)):
        # A piece is content when the project's own analysis keeps it as a question term.
        content = np.array([p not in ("[CLS]", "[SEP]") and bool(question_terms(p.lstrip("#"))) for p in qp])
        real = np.array([p not in ("[CLS]", "[SEP]") for p in sp])
        best = (qv @ sv[real].T).max(1)[content] if content.any() else np.ones(1)
        result.append((float(best.min()), float(best.mean())))
    return result


def cross_validated(rows: list[dict], cols: list[str], trees: bool = False) -> str:
    p = tr.out_of_fold(rows, cols, trees)
    return tr.rates(p, tr.highest_threshold(p, rows, LIMITS), rows)


def main() -> None:
    items, reranker, answerer = tr.fitting_answerer()
    rows, questions, best_sentences = [], [], []
    for it, ranked, row in tr.shipped_rows(items, answerer):
        best = ranked[0]
        logits = sorted((c.rerank for c in ranked if c.rerank is not None), reverse=True)
        title = title_topic(best.hit.chunk.title)
        title_logit = float(reranker.score(as_question(it.question.question), [f"{title}."])[0])
        have = chunk_terms(best.hit, it.snap)
        rows.append({**row,
                     "rerank_gap": logits[0] - logits[1] if len(logits) > 1 else 0.0,
                     "hit_gap": it.hits[0].score - it.hits[1].score if len(it.hits) > 1 else 0.0,
                     "coverage": best.coverage, "title": title_logit, "title_gain": row["rerank"] - title_logit,
                     "wider_name_miss": float(not all(wider_name_ok(n, have)
                                                      for n in question_names(it.question.question)))})
        questions.append(it.question.question)
        best_sentences.append(best.sentence.text)
    reranker.save()
    for row, (low, mean) in zip(rows, token_alignment(questions, best_sentences)):
        row["align_low"], row["align_mean"] = low, mean
    variants = {
        "shipped (rerank, type, names, cosine)": SHIPPED,
        "+ score statistics": SHIPPED + ["rerank_gap", "hit_gap", "coverage"],
        "+ title baseline": SHIPPED + ["title", "title_gain"],
        "+ token alignment": SHIPPED + ["align_low", "align_mean"],
        "wider names instead of names": ["rerank", "type_miss", "wider_name_miss", "cosine"],
    }
    every = SHIPPED + ["rerank_gap", "hit_gap", "coverage", "title", "title_gain", "align_low", "align_mean",
                       "wider_name_miss"]
    print(f"{len(rows)} fitting questions; rates at the highest threshold with false abstentions within {LIMITS}")
    for name, cols in variants.items():
        print(f"  {name}\n      in-sample        {tr.fitted_rates(rows, cols, LIMITS)}\n"
              f"      cross-validated  {cross_validated(rows, cols)}")
    print(f"  boosted trees over all of them\n      cross-validated  {cross_validated(rows, every, trees=True)}")
    for col in ("name_miss", "wider_name_miss"):
        counts = {f"{s} {'answerable' if label else 'unanswerable'}": int(sum(r[col] for r in rows
                                                                             if (r["set"], r["y"]) == (s, label)))
                  for s in ("squad", "natural") for label in (1, 0)}
        print(f"  questions whose names the best chunk misses ({col}): {counts}")


if __name__ == "__main__":
    main()
