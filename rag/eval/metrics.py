"""Per-question scores and their aggregates: retrieval hits, citation support, abstention, latency.

A hit is found by offsets: a chunk of the gold document whose raw [start, end) covers a gold
answer span [answer_start, answer_start + len(answer)). Without offsets (plain files) the
fallback is the answer string inside a chunk of the gold document (or any document), which is
weaker and reported as such in the config.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.answer.generative import FALLBACKS, NOT_ASKED
from rag.eval.datasets import Question
from rag.types import Answer

KS = (1, 3, 5, 10)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = re.sub(r"\[\d+\]", " ", text.lower())
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _covers(start: int, end: int, spans: tuple[tuple[int, int], ...]) -> bool:
    return any(start <= s and e <= end for s, e in spans)


def holds_gold(q: Question, text: str) -> bool:
    """True when `text` holds one of `q`'s answers, both normalised. An answer that normalises to
    nothing ("The") holds nowhere: "" is inside every text."""
    text = normalize_answer(text)
    return bool(text) and any(gold in text for gold in map(normalize_answer, q.answers) if gold)


def hit_rank(q: Question, answer: Answer) -> int | None:
    """1-based rank of the first hit that holds a gold answer, or None."""
    for h in answer.hits:
        c = h.chunk
        if q.spans:
            if c.doc_id == q.doc_id and _covers(c.start, c.end, q.spans):
                return h.rank
        elif (q.doc_id is None or c.doc_id == q.doc_id) and holds_gold(q, c.text):
            return h.rank
    return None


def citation_supports(q: Question, answer: Answer) -> list[bool]:
    out = []
    for c in answer.citations:
        if q.spans:
            out.append(c.doc_id == q.doc_id and _covers(c.start, c.end, q.spans))
        else:
            out.append((q.doc_id is None or c.doc_id == q.doc_id) and holds_gold(q, c.quote))
    return out


@dataclass
class ModeResult:
    mode: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    k: int = 10  # hits retrieved per question: hit@K for a larger K is not measured (None)

    def metrics(self) -> dict[str, Any]:
        """The aggregates; a rate over answerable (unanswerable) questions is None when the run
        has none, and hit@K (mrr@10) None when fewer than K (10) hits were retrieved."""
        ans = [r for r in self.rows if r["answerable"]]
        una = [r for r in self.rows if not r["answerable"]]
        n = max(1, len(ans))
        all_cites = [v for r in self.rows for v in r["citations_valid"]]
        lat = np.array([r["ms"] for r in self.rows]) if self.rows else np.zeros(1)
        m: dict[str, Any] = {"n_questions": len(self.rows), "n_unanswerable": len(una)}
        for k in KS:
            m[f"hit@{k}"] = sum(1 for r in ans if r["rank"] is not None and r["rank"] <= k) / n
        m["mrr@10"] = sum(1 / r["rank"] for r in ans if r["rank"] is not None and r["rank"] <= 10) / n
        m["citation_support@1"] = sum(1 for r in ans if r["support"][:1] == [True]) / n
        m["citation_support@any"] = sum(1 for r in ans if any(r["support"])) / n
        m["citations_valid"] = (sum(all_cites) / len(all_cites)) if all_cites else 1.0
        m["n_citations"] = len(all_cites)
        # Share of citations that name a page: 1.0 on a PDF collection, 0.0 on text files.
        pages = [p for r in self.rows for p in r.get("citation_pages", [])]
        m["citations_with_page"] = (sum(p is not None for p in pages) / len(pages)) if pages else None
        m["answer_contains_gold"] = sum(1 for r in ans if r["contains_gold"]) / n
        m["abstain_unanswerable"] = abstained_share(una)
        m["false_abstain"] = sum(1 for r in ans if r["abstained"]) / n
        # The question files that tell near-topic from unrelated questions get each kind's rate:
        # the near ones are the hard part, and the total hides them.
        for kind in ("near", "unrelated"):
            m[f"abstain_{kind}"] = abstained_share([r for r in una if r.get("kind") == kind])
        m["ask_ms_p50"] = float(np.percentile(lat, 50))
        m["ask_ms_p95"] = float(np.percentile(lat, 95))
        if any("answerer" in r for r in self.rows):
            m.update(generative_metrics(self.rows))
        unmeasured = [f"hit@{k}" for k in KS if k > self.k] + (["mrr@10"] if self.k < 10 else [])
        if not ans:
            unmeasured += [f"hit@{k}" for k in KS] + ["mrr@10", "citation_support@1", "citation_support@any",
                                                       "answer_contains_gold", "false_abstain"]
        m.update(dict.fromkeys(unmeasured))
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}


# Why the model was asked but the extractive answer is shown ("not_asked" is an abstention).
FALLBACK_REASONS = tuple(r for r in FALLBACKS if r != NOT_ASKED)


def generative_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics of a generative run (rows from rag.eval.run with `llm`):

    - supported_share: the model's sentences kept as supported, over all it wrote;
    - unsupported_shown: unsupported sentences that reached an answer text (must be 0);
    - generative_share: answers in the model's words (verified); not_asked_share: the gate was
      sure and the model was not asked; fallback_share: the model was asked but the extractive
      answer is shown (down, timeout, garbage, declined, nothing supported), by reason in
      fallback_<reason>;
    - first_draft_ms_p50/p95: from the question to the model's first word on screen.
    """
    n = max(1, len(rows))
    written = sum(r["n_sentences"] for r in rows)
    out: dict[str, Any] = {
        "supported_share": (sum(r["n_supported"] for r in rows) / written) if written else None,
        "unsupported_shown": sum(r["unsupported_shown"] for r in rows),
        "generative_share": sum(1 for r in rows if r["answerer"] == "generative") / n,
        "not_asked_share": sum(1 for r in rows if r["fallback"] == NOT_ASKED) / n,
        "fallback_share": sum(1 for r in rows if r["fallback"] not in (None, NOT_ASKED)) / n,
    }
    for reason in FALLBACK_REASONS:
        out[f"fallback_{reason}"] = sum(1 for r in rows if r["fallback"] == reason) / n
    first = [r["first_draft_ms"] for r in rows if r.get("first_draft_ms") is not None]
    out["first_draft_ms_p50"] = float(np.percentile(first, 50)) if first else None
    out["first_draft_ms_p95"] = float(np.percentile(first, 95)) if first else None
    return out


def abstained_share(rows: list[dict]) -> float | None:
    """The share of `rows` (unanswerable questions) that abstained; None when there are none."""
    return sum(1 for r in rows if r["abstained"]) / len(rows) if rows else None
