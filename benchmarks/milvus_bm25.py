"""Can BM25 move into Milvus? Milvus Lite's built-in full-text BM25 against the local BM25 index:
the same scores, the same answers, the time per query.

The Milvus side is a collection with our analysed terms (rag.store.chunk_terms, each term one
token: characters outside \\w become "_", so Milvus's "standard" tokenizer, which splits on \\W,
keeps our tokens whole), a BM25 function and a SPARSE_INVERTED_INDEX with k1 = 1.5, b = 0.75, as
ours. `MilvusBm25` answers the lexical index seam's `top` and `scores_of` from Milvus (its scores
divided by k1 + 1: Milvus's BM25 has that factor, bm25s' "lucene" variant does not); its `idf`
still comes from the local index, because Milvus exposes no document frequencies, and hybrid
retrieval needs them (the query's BM25 upper bound, the sentence coverage weights).

1. Scores: for each question, Milvus's top 50 against the local index's (overlap of the top 10,
   largest score difference), with the collection flushed once (one segment) and flushed every
   50 chunks (many segments, as incremental ingests make them).
2. Answers: the `rag eval` question loop (rag.eval.run.run_questions) on SQuAD dev (seed, held-out
   articles as `make eval`), hybrid and lexical modes, with the local index and with MilvusBm25.
3. Time: `top(50)` + `scores_of(the candidates)` per question, local and Milvus Lite, on the dev
   set's chunks and on a synthetic collection of copied chunks (benchmarks/query.py).

    python benchmarks/milvus_bm25.py [--limit 500] [--seed 0] [--holdout-docs 0.15] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_OUT, DEFAULT_SQUAD, Timer, percentile, stamp, table, write_json  # noqa: E402

_NON_WORD = re.compile(r"\W")


def as_text(terms) -> str:
    """Analysed terms as text Milvus's standard tokenizer splits back into the same tokens."""
    return " ".join(_NON_WORD.sub("_", t) for t in terms)


class MilvusBm25:
    """The lexical index seam's reading side, answered by a Milvus BM25 collection."""

    kind = "milvus-bm25"

    def __init__(self, client, collection: str, vids: np.ndarray, local) -> None:
        self.client, self.collection, self.vids, self.local = client, collection, np.asarray(vids), local
        self.k1 = local.k1

    def __len__(self) -> int:
        return len(self.vids)

    def _search(self, terms, limit: int, expr: str = "") -> tuple[np.ndarray, np.ndarray]:
        if not terms or limit < 1:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        hits = self.client.search(self.collection, data=[as_text(terms)], anns_field="sparse", limit=limit,
                                  filter=expr, output_fields=["vid"], search_params={"metric_type": "BM25"})[0]
        vids = np.array([h["vid"] for h in hits], dtype=np.int64)
        # Milvus's BM25 "distance" is the score itself, higher is better (milvus-lite 3.x, a Python
        # engine this benchmark first ran on, gave it negated).
        scores = np.array([h["distance"] / (self.k1 + 1) for h in hits], dtype=np.float32)
        return np.searchsorted(self.vids, vids), scores

    def top(self, terms, n: int):
        rows, scores = self._search(terms, min(n, len(self)))
        keep = scores > 0
        return rows[keep], scores[keep]

    def scores_of(self, terms, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        if not len(rows):
            return out
        ids = ",".join(map(str, self.vids[rows].tolist()))
        found, scores = self._search(terms, len(rows), f"vid in [{ids}]")
        where = {int(r): i for i, r in enumerate(rows)}
        for r, s in zip(found.tolist(), scores.tolist()):
            out[where[r]] = s
        return out

    @property
    def idf(self) -> dict[str, float]:
        return self.local.idf  # Milvus has no API for document frequencies


def build_collection(client, name: str, vids: np.ndarray, rows_terms, flush_every: int | None) -> float:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("vid", DataType.INT64, is_primary=True)
    schema.add_field("terms", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": 1.5, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
    step = flush_every or 2_000
    with Timer() as t:
        for start in range(0, len(vids), step):
            client.insert(name, [{"vid": int(v), "terms": as_text(terms)}
                                 for v, terms in zip(vids[start:start + step], rows_terms[start:start + step])])
            if flush_every:
                client.flush(name)
        client.flush(name)
        client.release_collection(name)
        client.load_collection(name)
    return t.seconds


def score_agreement(local, milvus: MilvusBm25, queries: list[list[str]]) -> dict:
    overlap, worst = [], 0.0
    for q in queries:
        l_rows, l_scores = local.top(q, 50)
        m_rows, m_scores = milvus.top(q, 50)
        l_top = set(l_rows[np.argsort(-l_scores)[:10]].tolist())
        m_top = set(m_rows[np.argsort(-m_scores)[:10]].tolist())
        if l_top:
            overlap.append(len(l_top & m_top) / len(l_top))
        common = np.intersect1d(l_rows, m_rows)
        if len(common):
            diff = np.abs(local.scores_of(q, common) - milvus.scores_of(q, common)) / np.maximum(
                local.scores_of(q, common), 1e-6)
            worst = max(worst, float(diff.max()))
    return {"top10_overlap": float(np.mean(overlap)), "max_rel_score_diff": worst}


def lexical_ms(index, queries: list[list[str]]) -> list[float]:
    """What hybrid retrieval asks per question: the top 50, then the scores of all candidates
    (those and the dense side's, here 50 other rows)."""
    out = []
    others = np.random.default_rng(0).choice(len(index), min(50, len(index)), replace=False)
    for q in queries:
        t = time.perf_counter()
        rows, _ = index.top(q, 50)
        index.scores_of(q, np.unique(np.concatenate([rows, others])))
        out.append((time.perf_counter() - t) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    p.add_argument("--limit", type=int, default=500, help="questions for the answers comparison")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--holdout-docs", type=float, default=0.15)
    p.add_argument("--synthetic", type=int, default=100_000, help="rows of the synthetic collection for timing (0: none)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    from pymilvus import MilvusClient

    from rag.eval.datasets import sample
    from rag.eval.run import prepare, run_questions
    from rag.store import chunk_terms
    from rag.text.lexical import terms

    prepared = prepare(args.squad, args.out / "cache" / f"bm25-eval-index-s{args.seed}", args.holdout_docs, args.seed)
    assistant = prepared.assistant
    snap = assistant.require_snapshot()
    questions = sample(prepared.dataset.questions, args.limit, args.seed)
    q_terms = [terms(q.question) for q in questions]
    rows_terms = [chunk_terms(c) for c in snap.chunks]
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-bm25-"))
    client = MilvusClient(str(tmp / "bm25.db"))
    try:
        layouts = {"milvus, 1 segment": None, "milvus, flush every 50 chunks": 50}
        indexes, build_s = {}, {}
        for label, every in layouts.items():
            name = "one" if every is None else "many"
            build_s[label] = build_collection(client, name, snap.vids, rows_terms, every)
            indexes[label] = MilvusBm25(client, name, snap.vids, snap.lexical)
        agreement = [{"layout": label, **score_agreement(snap.lexical, idx, q_terms)} for label, idx in indexes.items()]

        assistant.warm_up()
        results = []
        for label, lexical in [("local bm25", snap.lexical), *indexes.items()]:
            variant = dataclasses.replace(snap, lexical=lexical)
            assistant._snapshot = variant  # the Assistant answers from this version (as benchmarks/query.py does)
            for mode in ("hybrid", "lexical"):
                m = run_questions(assistant, questions, mode, 10, False).metrics()
                results.append({"lexical": label, "mode": mode, **{k: m[k] for k in (
                    "hit@1", "hit@5", "hit@10", "mrr@10", "citations_valid", "abstain_unanswerable", "false_abstain",
                    "ask_ms_p50")}})
        assistant._snapshot = snap

        timing = [{"rows": len(snap.chunks), "lexical": "local bm25",
                   "ms_p50": percentile(lexical_ms(snap.lexical, q_terms), 50)}]
        for label, idx in indexes.items():
            timing.append({"rows": len(snap.chunks), "lexical": label, "ms_p50": percentile(lexical_ms(idx, q_terms), 50),
                           "build_s": build_s[label]})
        if args.synthetic:
            from query import synthetic_lexical

            rng = np.random.default_rng(args.seed)
            base = np.concatenate([np.arange(len(rows_terms)), rng.integers(0, len(rows_terms),
                                                                             max(0, args.synthetic - len(rows_terms)))])
            base = base[:args.synthetic]
            local = synthetic_lexical(snap.lexical, base)
            vids = np.arange(len(base), dtype=np.int64)
            secs = build_collection(client, "big", vids, [rows_terms[int(r)] for r in base], None)
            big = MilvusBm25(client, "big", vids, local)
            timing.append({"rows": len(base), "lexical": "local bm25", "ms_p50": percentile(lexical_ms(local, q_terms[:200]), 50)})
            timing.append({"rows": len(base), "lexical": "milvus, 1 segment", "build_s": secs,
                           "ms_p50": percentile(lexical_ms(big, q_terms[:200]), 50)})
    finally:
        client.close()
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(tmp / "bm25.db"))
        shutil.rmtree(tmp, ignore_errors=True)

    out = {**stamp(), "questions": len(questions), "seed": args.seed, "holdout_docs": args.holdout_docs,
           "chunks": len(snap.chunks), "agreement": agreement, "answers": results, "timing": timing}
    print(f"\nmilvus_bm25: Milvus Lite's BM25 against the local one ({out['date']}); {len(questions)} SQuAD dev "
          f"questions, seed {args.seed}, {args.holdout_docs:g} of articles held out, {len(snap.chunks)} chunks")
    print(table(agreement, ["layout", "top10_overlap", "max_rel_score_diff"]))
    print()
    print(table(results, ["lexical", "mode", "hit@1", "hit@5", "hit@10", "mrr@10", "citations_valid",
                          "abstain_unanswerable", "false_abstain", "ask_ms_p50"]))
    print("\ntop(50) + scores_of(candidates) per question, ms:")
    print(table(timing, ["rows", "lexical", "ms_p50", "build_s"]))
    print(f"wrote {write_json(args.out, 'milvus_bm25.json', out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
