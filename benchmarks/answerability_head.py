"""A tried abstention signal, not shipped: an "answerability head" on the cross-encoder.

For every fitting question (SQuAD dev seed 1 and the natural tuning part, as tune_retrieval.py
loads them), the sentences the answerer reranks (up to 4) are read by the cross-encoder once more
with its pooled 384-d vector exposed (the same forward pass as the shipped logit). A logistic model over
that vector learns "this sentence holds a gold answer", with out-of-fold predictions from 5 folds
grouped by article. Then the shipped abstention model (rag/answer/abstain.py) is fitted again with
the head's score of the best sentence as a fifth feature, at the same false-abstention limits
(SQuAD 0.07, natural 0.10), and printed next to the shipped four features. README "Retrieval
quality: what was measured" quotes it.

    .venv/bin/python benchmarks/answerability_head.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import tune_retrieval as tr  # noqa: E402
from rag.answer.extractive import rerank_text  # noqa: E402
from rag.rerank.cross_encoder import length_batches, model_dir  # noqa: E402

POOLED = "/bert/pooler/activation/Tanh_output_0"  # the vector the model's own classifier reads
LIMITS = {"squad": 0.07, "natural": 0.10}  # the false-abstention targets, as the shipped fit


def pooled_session():
    import onnx
    import onnxruntime as ort

    m = onnx.load(str(model_dir() / "model.onnx"))
    m.graph.output.append(onnx.helper.make_tensor_value_info(POOLED, onnx.TensorProto.FLOAT, None))
    o = ort.SessionOptions()
    o.intra_op_num_threads = 2
    return ort.InferenceSession(m.SerializeToString(), o, providers=["CPUExecutionProvider"])


def pooled(sess, tokenizer, question: str, passages: list[str]) -> np.ndarray:
    """The pooled vectors of (question, passage) pairs, in passage order, all in one batch as
    the answerer sends them."""
    encodings = tokenizer.encode_batch([(question, p) for p in passages])
    out = np.empty((len(passages), 384), dtype=np.float32)
    for rows, feeds in length_batches(encodings, len(encodings)):
        out[rows] = sess.run([POOLED], feeds)[0]
    return out


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    items, reranker, answerer = tr.fitting_answerer()
    sess, tokenizer = pooled_session(), reranker.reranker._tokenizer
    questions, vectors, gold, groups, best = [], [], [], [], []
    for it, ranked, row in tr.shipped_rows(items, answerer):
        head = [c for c in ranked if c.rerank is not None]  # the reranked few, best first
        questions.append(row)
        best.append(len(gold))  # row of this question's best sentence
        vectors.append(pooled(sess, tokenizer, it.question.question, [rerank_text(c) for c in head]))
        gold += [int(tr.is_gold(it, c)) for c in head]
        groups += [it.question.doc_id or it.question.id] * len(head)
    reranker.save()
    X, g = np.vstack(vectors), np.array(gold)
    oof = np.zeros(len(g))
    for train, test in GroupKFold(5).split(X, g, np.array(groups)):
        oof[test] = LogisticRegression(C=0.1, max_iter=3000).fit(X[train], g[train]).decision_function(X[test])
    for q, row in zip(questions, best):
        q["head"] = float(oof[row])
    print(f"{len(questions)} fitting questions, {len(g)} reranked sentences ({g.mean():.3f} hold a gold answer)")
    print(f"  shipped (rerank, type, names, cosine):  {tr.fitted_rates(questions, ['rerank', 'type_miss', 'name_miss', 'cosine'], LIMITS)}")
    print(f"  + answerability head of the best:       "
          f"{tr.fitted_rates(questions, ['rerank', 'type_miss', 'name_miss', 'cosine', 'head'], LIMITS)}")


if __name__ == "__main__":
    main()
