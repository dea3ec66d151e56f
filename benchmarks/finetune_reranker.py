"""Fine-tuning the cross-encoder's top layers to say whether a sentence states the asked fact.

The abstention model (rag/answer/abstain.py) leans on the cross-encoder's logit, which tells a
passage on the asked topic from one off it, not a sentence that states the asked fact from one
beside it. This script tries to teach it the second, from data we have, on 2 cores:
- **Data**: SQuAD dev questions outside both evaluation samples (seed 0 and seed 1, 2,000 each),
  outside seed 0's held-out articles and outside the natural reporting part's articles. For each,
  the sentence holding the answer is the positive. Negatives are mined: the question's 8 nearest
  other sentences of its article and 4 nearest of other articles (standalone MiniLM vectors), and
  of those the 4 the shipped cross-encoder scores highest, which is what it confuses.
- **Model**: the shipped int8 ONNX cross-encoder up to layer 7, frozen; its layers 8-11, pooler
  and classifier dequantized into torch and trained (binary cross-entropy, positives weighted to
  balance, AdamW 3e-5, warm-up then linear decay, batches of 32, 2 epochs, seed 0).
- **Measure**: on the fitting sets (SQuAD dev seed 1 and the natural tuning part, as
  tune_retrieval.py loads them), the tuned logit of the shipped answerer's best sentence as an
  abstention feature, beside and instead of the shipped logit, refitted at the same limits as
  benchmarks/abstention_features.py prints them (in-sample and cross-validated by article),
  and each logit's own AUC of answerable against unanswerable.
Held-out SQuAD validation questions (10 % of the training questions) show whether the training
itself worked. README "Retrieval quality: what was measured" quotes the output.

    .venv/bin/python benchmarks/finetune_reranker.py      # about 15 minutes on 2 cores
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import abstention_features as af  # noqa: E402
import tune_retrieval as tr  # noqa: E402
from rag.answer.extractive import rerank_text  # noqa: E402
from rag.conversation import as_question  # noqa: E402
from rag.eval.datasets import load_folder, sample  # noqa: E402
from rag.rerank.cross_encoder import length_batches, load_tokenizer, model_dir  # noqa: E402
from rag.text.sentences import split_sentences  # noqa: E402
from rag.text.titles import title_topic  # noqa: E402

SQUAD = ROOT.parent / "shared/data/squad-v1.1-dev"
NATURAL = ROOT / "eval/natural"
FIRST_TUNED = 8  # layers 8..11 are trained; 0..7 stay the shipped int8 ones
FROZEN_OUT = f"/bert/encoder/layer.{FIRST_TUNED - 1}/output/LayerNorm/Add_1_output_0"
NEGATIVES = 4
EPOCHS, LR, BATCH, SEED = 2, 3e-5, 32, 0


def training_questions() -> tuple[list[dict], dict[str, tuple[str, list[str]]]]:
    """(questions, article id -> (title prefix, sentences)) of the SQuAD dev questions nothing
    reported or fitted on asks."""
    excluded, held_files = set(), set()
    for seed in (0, 1):
        ds = load_folder(SQUAD, 0.15, seed, tr.CACHE / f"squad-copy-{seed}")
        excluded |= {q.id for q in sample(ds.questions, 2000, seed)}
        if seed == 0:
            held_files |= {q.doc_id for q in ds.questions if q.answers and not q.answerable}
    report = {a["id"] for a in map(json.loads, (NATURAL / "articles.jsonl").read_text().splitlines())
              if a["split"] == "report"}
    articles = {}
    for a in map(json.loads, (SQUAD / "articles.jsonl").read_text().splitlines()):
        text = (SQUAD / a["path"]).read_text(encoding="utf-8")
        spans = split_sentences(text)
        articles[a["id"]] = (title_topic(a["title"]), [text[s:e] for s, e in spans], spans,
                             Path(a["path"]).name)
    questions = []
    for q in map(json.loads, (SQUAD / "questions.jsonl").read_text().splitlines()):
        if q["id"] in excluded or q["doc_id"] in report or articles[q["doc_id"]][3] in held_files:
            continue
        spans = articles[q["doc_id"]][2]
        q["gold"] = [i for i, (s, e) in enumerate(spans) if any(s <= a < e for a in q["answer_start"])]
        if q["gold"]:
            questions.append(q)
    return questions, {d: (t, sents) for d, (t, sents, _, _) in articles.items()}


def candidate_pairs(questions: list[dict], articles) -> list[tuple[str, str, int, str]]:
    """(question, passage as the reranker reads it, label, question id): the gold sentence, and
    the nearest other sentences of its article and of other articles."""
    from rag.embed import make_embedder

    embedder = make_embedder("all-MiniLM-L6-v2", "onnx-int8")
    flat = [(d, i) for d, (_, sents) in articles.items() for i in range(len(sents))]
    vectors = np.asarray(embedder.embed_documents([articles[d][1][i] for d, i in flat]), dtype=np.float32)
    qv = np.asarray(embedder.embed_documents([q["question"] for q in questions]), dtype=np.float32)
    docs = np.array([d for d, _ in flat])
    pairs = []
    for q, v in zip(questions, qv):
        order = np.argsort(-(vectors @ v))
        same = [flat[j] for j in order if docs[j] == q["doc_id"] and flat[j][1] not in q["gold"]][:8]
        other = [flat[j] for j in order[:80] if docs[j] != q["doc_id"]][:4]
        for (d, i), label in [((q["doc_id"], q["gold"][0]), 1)] + [(x, 0) for x in same + other]:
            title, sents = articles[d]
            pairs.append((q["question"], f"{title}. {sents[i]}", label, q["id"]))
    return pairs


class FrozenBase:
    """The shipped ONNX cross-encoder, also returning layer 7's output."""

    def __init__(self) -> None:
        import onnx
        import onnxruntime as ort

        model = onnx.load(str(model_dir() / "model.onnx"))
        model.graph.output.append(onnx.helper.make_tensor_value_info(FROZEN_OUT, onnx.TensorProto.FLOAT, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        self.session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.tokenizer = load_tokenizer(model_dir())

    def run(self, pairs: list[tuple[str, str]], batch: int = 32):
        """Yields (pair indices, shipped logits, each pair's layer-7 states without padding)
        batch by batch, pairs of similar length together."""
        encodings = self.tokenizer.encode_batch([(as_question(q), p) for q, p in pairs])
        for rows, feeds in length_batches(encodings, batch):
            logits, states = self.session.run(["logits", FROZEN_OUT], feeds)
            yield rows, logits[:, 0], [states[r, :len(encodings[i].ids)] for r, i in enumerate(rows)]


def tuned_top():
    """Layers 8-11, pooler and classifier of the shipped model as a torch module, each int8
    weight dequantized ((q - zero point) x scale); before training it gives the shipped logit
    to within int8 activation rounding."""
    import onnx
    import torch
    from onnx import numpy_helper
    from torch import nn

    model = onnx.load(str(model_dir() / "model.onnx"))
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weight_of = {n.name: n.input[1].removesuffix("_quantized") for n in model.graph.node if n.op_type == "MatMulInteger"}

    def dense(base: str) -> torch.Tensor:  # [in, out] as the ONNX MatMul holds it
        w = (init[base + "_quantized"].astype(np.float32) - init[base + "_zero_point"].astype(np.float32))
        return torch.from_numpy(w * init[base + "_scale"].astype(np.float32))

    def linear(node: str, bias: str) -> nn.Linear:
        w = dense(weight_of[node])
        layer = nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            layer.weight.copy_(w.T)
            layer.bias.copy_(torch.from_numpy(init[bias].copy()).reshape(-1))
        return layer

    def norm(prefix: str) -> nn.LayerNorm:
        ln = nn.LayerNorm(384, eps=1e-12)
        with torch.no_grad():
            ln.weight.copy_(torch.from_numpy(init[prefix + ".weight"].copy()))
            ln.bias.copy_(torch.from_numpy(init[prefix + ".bias"].copy()))
        return ln

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            node, name = f"/bert/encoder/layer.{i}/", f"bert.encoder.layer.{i}."
            self.q, self.k, self.v = (linear(node + f"attention/self/{x}/MatMul_quant", name + f"attention.self.{x}.bias")
                                      for x in ("query", "key", "value"))
            self.o = linear(node + "attention/output/dense/MatMul_quant", name + "attention.output.dense.bias")
            self.ln1 = norm(name + "attention.output.LayerNorm")
            self.up = linear(node + "intermediate/dense/MatMul_quant", name + "intermediate.dense.bias")
            self.down = linear(node + "output/dense/MatMul_quant", name + "output.dense.bias")
            self.ln2 = norm(name + "output.LayerNorm")

        def forward(self, h, mask):
            b, t, _ = h.shape
            heads = [x.view(b, t, 12, 32).transpose(1, 2) for x in (self.q(h), self.k(h), self.v(h))]
            attended = torch.softmax(heads[0] @ heads[1].transpose(-1, -2) / 32 ** 0.5 + mask, -1) @ heads[2]
            h = self.ln1(self.o(attended.transpose(1, 2).reshape(b, t, 384)) + h)
            return self.ln2(self.down(nn.functional.gelu(self.up(h))) + h)

    class Top(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(Layer(i) for i in range(FIRST_TUNED, 12))
            self.pool = linear("/bert/pooler/dense/Gemm_MatMul_quant", "bert.pooler.dense.bias")
            self.cls = linear("/classifier/Gemm_MatMul_quant", "classifier.bias")

        def forward(self, h, mask):
            for layer in self.layers:
                h = layer(h, mask)
            return self.cls(torch.tanh(self.pool(h[:, 0])))[:, 0]

    return Top()


def auc(y, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def train(top, states: list[np.ndarray], y: np.ndarray, train_rows: np.ndarray, val) -> None:
    import torch

    torch.manual_seed(SEED)
    optimizer = torch.optim.AdamW(top.parameters(), lr=LR, weight_decay=0.01)
    steps = EPOCHS * (len(train_rows) // BATCH)
    warm = 0.1 * steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / warm if s < warm else max(0.0, (steps - s) / (steps - warm)))
    positive_weight = torch.tensor((1 - y[train_rows]).sum() / y[train_rows].sum())
    rng = np.random.default_rng(SEED)
    for epoch in range(EPOCHS):
        top.train()
        order = rng.permutation(train_rows)
        # Batches of similar length (sorted within windows of 50 batches), in random order.
        batches = []
        for w in range(0, len(order), 50 * BATCH):
            window = sorted(order[w:w + 50 * BATCH], key=lambda i: len(states[i]))
            batches += [window[b:b + BATCH] for b in range(0, len(window), BATCH)]
        for b in rng.permutation(len(batches)):
            h, mask = padded([states[i] for i in batches[b]])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                top(h, mask), torch.from_numpy(y[batches[b]]), pos_weight=positive_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"  epoch {epoch + 1}: {val()}", flush=True)


def padded(states: list[np.ndarray]):
    import torch

    width = max(len(s) for s in states)
    h = np.zeros((len(states), width, 384), dtype=np.float32)
    mask = np.full((len(states), 1, 1, width), -1e9, dtype=np.float32)
    for r, s in enumerate(states):
        h[r, :len(s)], mask[r, 0, 0, :len(s)] = s, 0.0
    return torch.from_numpy(h), torch.from_numpy(mask)


def tuned_logits(top, states: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    import torch

    top.eval()
    out = np.zeros(len(rows), dtype=np.float32)
    with torch.no_grad():
        for b in range(0, len(rows), 128):
            out[b:b + 128] = top(*padded([states[i] for i in rows[b:b + 128]])).numpy()
    return out


def best_per_question(scores: np.ndarray, rows: np.ndarray, y: np.ndarray, qids: list[str]) -> float:
    """Share of questions whose highest-scored pair is the gold sentence."""
    best: dict[str, tuple[float, float]] = {}
    for s, i in zip(scores, rows):
        if qids[i] not in best or s > best[qids[i]][0]:
            best[qids[i]] = (s, y[i])
    return float(np.mean([label for _, label in best.values()]))


def main() -> None:
    import torch

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    questions, articles = training_questions()
    pairs = candidate_pairs(questions, articles)
    print(f"{len(questions)} training questions, {len(pairs)} candidate pairs ({time.perf_counter() - t0:.0f} s)",
          flush=True)

    # One pass of the frozen layers over every candidate: the shipped logit mines the negatives,
    # layer 7's states are what the tuned layers train on (float16 to halve the memory).
    base = FrozenBase()
    shipped = np.zeros(len(pairs), dtype=np.float32)
    states: list[np.ndarray] = [np.empty(0)] * len(pairs)
    for rows, logits, h in base.run([(q, p) for q, p, _, _ in pairs]):
        shipped[rows] = logits
        for i, s in zip(rows, h):
            states[i] = s.astype(np.float16)
    by_question: dict[str, list[int]] = {}
    for i, (_, _, _, qid) in enumerate(pairs):
        by_question.setdefault(qid, []).append(i)
    kept = []
    for idx in by_question.values():
        negatives = sorted((i for i in idx if not pairs[i][2]), key=lambda i: -shipped[i])
        kept += [i for i in idx if pairs[i][2]] + negatives[:NEGATIVES]
    y = np.array([p[2] for p in pairs], dtype=np.float32)
    qids = [p[3] for p in pairs]
    rng = np.random.default_rng(SEED)
    val_questions = set(rng.choice(sorted(by_question), len(by_question) // 10, replace=False))
    kept = np.array(sorted(kept))
    val_rows = np.array([i for i in kept if qids[i] in val_questions])
    train_rows = np.array([i for i in kept if qids[i] not in val_questions])
    print(f"{len(train_rows)} training pairs, {len(val_rows)} validation pairs "
          f"({int(y[kept].sum())} gold); frozen pass {time.perf_counter() - t0:.0f} s", flush=True)

    top = tuned_top()

    def val() -> str:
        s = tuned_logits(top, states, val_rows)
        return f"validation AUC {auc(y[val_rows], s):.3f}, gold first {best_per_question(s, val_rows, y, qids):.3f}"

    print(f"  shipped logit: validation AUC {auc(y[val_rows], shipped[val_rows]):.3f}, "
          f"gold first {best_per_question(shipped[val_rows], val_rows, y, qids):.3f}")
    print(f"  untrained top layers (dequantized): {val()}")
    t_train = time.perf_counter()
    train(top, states, y, train_rows, val)
    print(f"trained in {time.perf_counter() - t_train:.0f} s", flush=True)

    # The fitting sets: the shipped answerer's best sentence, scored by both.
    items, reranker, answerer = tr.fitting_answerer()
    rows, best_pairs = [], []
    for it, ranked, row in tr.shipped_rows(items, answerer):
        rows.append(row)
        best_pairs.append((it.question.question, rerank_text(ranked[0])))
    reranker.save()
    fit_states: list[np.ndarray] = [np.empty(0)] * len(best_pairs)
    for batch_rows, _, h in base.run(best_pairs):
        for i, s in zip(batch_rows, h):
            fit_states[i] = s
    for row, s in zip(rows, tuned_logits(top, fit_states, np.arange(len(rows)))):
        row["tuned"] = float(s)
    for s in ("squad", "natural"):
        part = [r for r in rows if r["set"] == s]
        labels = [r["y"] for r in part]
        print(f"  {s}: AUC answerable vs not, shipped logit {auc(labels, [r['rerank'] for r in part]):.3f}, "
              f"tuned logit {auc(labels, [r['tuned'] for r in part]):.3f}")
    print(f"{len(rows)} fitting questions; rates at the highest threshold with false abstentions within {af.LIMITS}")
    for name, cols in {"shipped (rerank, type, names, cosine)": af.SHIPPED,
                       "tuned logit instead of rerank": ["tuned", "type_miss", "name_miss", "cosine"],
                       "shipped + tuned logit": af.SHIPPED + ["tuned"]}.items():
        print(f"  {name}\n      in-sample        {tr.fitted_rates(rows, cols, af.LIMITS)}\n"
              f"      cross-validated  {af.cross_validated(rows, cols)}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
