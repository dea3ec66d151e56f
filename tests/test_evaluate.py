"""Evaluation metrics on hand-made data where the right numbers are known, and a real run."""

from __future__ import annotations

import json

import pytest

from rag import int8
from rag.errors import InputError
from rag.eval.datasets import Question
from rag.eval.metrics import ModeResult, citation_supports, hit_rank, normalize_answer
from rag.eval.run import evaluate
from rag.eval.report import write_report
from rag.types import Answer, Chunk, Citation, Hit, Sentence

TEXT = "The river is long. It floods in May. Rice grows there."


def _chunk(doc: str, start: int, end: int, index: int = 0) -> Chunk:
    return Chunk(id=f"{doc}-{start}", doc_id=doc, index=index, title="t", text=TEXT[start:end], start=start,
                 end=end, sentences=(Sentence(TEXT[start:end], start, end),), n_tokens=5)


def _answer(chunks: list[Chunk], cited: list[tuple[str, int, int]], abstained: bool = False) -> Answer:
    hits = tuple(Hit(c, rank=i + 1, score=1.0 - i / 10, dense=None, lexical=None) for i, c in enumerate(chunks))
    cites = tuple(Citation(n=i + 1, doc_id=d, title="t", source="/x", start=s, end=e, quote=TEXT[s:e])
                  for i, (d, s, e) in enumerate(cited))
    return Answer("q", "answer [1]", abstained, cites, hits, {})


def test_hit_rank_and_citation_support_use_offsets_not_strings():
    may = TEXT.index("May")
    q = Question("1", "When does it flood?", ("May",), "a.txt", ((may, may + 3),))
    # The same text in another document, and a chunk of the right document that ends before
    # the answer, do not count; the covering chunk at rank 3 does.
    answer = _answer([_chunk("b.txt", 0, 36), _chunk("a.txt", 0, 18), _chunk("a.txt", 19, 36)],
                     [("b.txt", 19, 36), ("a.txt", 19, 36)])
    assert hit_rank(q, answer) == 3
    assert citation_supports(q, answer) == [False, True]


def test_mode_metrics_are_exact_on_known_rows():
    rows = [
        {"answerable": True, "rank": 1, "support": [True], "citations_valid": [True], "abstained": False,
         "contains_gold": True, "ms": 10.0},
        {"answerable": True, "rank": 4, "support": [False, True], "citations_valid": [True, True],
         "abstained": False, "contains_gold": False, "ms": 20.0},
        {"answerable": True, "rank": None, "support": [], "citations_valid": [], "abstained": True,
         "contains_gold": False, "ms": 30.0},
        {"answerable": False, "kind": "near", "rank": None, "support": [], "citations_valid": [], "abstained": True,
         "contains_gold": False, "ms": 40.0},
        {"answerable": False, "kind": "unrelated", "rank": None, "support": [], "citations_valid": [False],
         "abstained": False, "contains_gold": False, "ms": 50.0},
    ]
    m = ModeResult("hybrid", rows).metrics()
    assert m["abstain_near"] == 1.0 and m["abstain_unrelated"] == 0.0
    assert m["n_questions"] == 5 and m["n_unanswerable"] == 2
    assert m["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["hit@3"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["hit@5"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 4) / 3, abs=1e-4)
    assert m["citation_support@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["citation_support@any"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["citations_valid"] == pytest.approx(3 / 4)
    assert m["answer_contains_gold"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["abstain_unanswerable"] == 0.5
    assert m["false_abstain"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["ask_ms_p50"] == 30.0


def test_normalize_answer_is_squad_normalisation():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple [2]") == "apple"


ARTICLES = {
    "Rivers": "The Alpha river floods every May. Farmers plant rice after the water recedes.\n\n"
              "The river is 410 kilometres long and ends in the Beta delta.",
    "Mountains": "Mount Gamma is 3,200 metres high. Snow covers its summit from October to April.\n\n"
                 "Climbers first reached the summit in 1931.",
    "Comets": "Comet Delta returns every 76 years. Its tail can stretch for 100 million kilometres.\n\n"
              "Astronomers last saw it in 1986.",
}
QUESTIONS = [
    ("Rivers", "When does the Alpha river flood?", "May"),
    ("Rivers", "How long is the Alpha river?", "410 kilometres"),
    ("Mountains", "How high is Mount Gamma?", "3,200 metres"),
    ("Mountains", "When did climbers first reach the summit of Mount Gamma?", "1931"),
    ("Comets", "How often does Comet Delta return?", "every 76 years"),
    ("Comets", "When did astronomers last see Comet Delta?", "1986"),
]


@pytest.fixture
def tiny_dataset(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "articles").mkdir(parents=True)
    with open(folder / "articles.jsonl", "w") as f:
        for doc_id, text in ARTICLES.items():
            (folder / "articles" / f"{doc_id}.txt").write_text(text)
            f.write(json.dumps({"id": doc_id, "title": doc_id, "path": f"articles/{doc_id}.txt"}) + "\n")
    with open(folder / "questions.jsonl", "w") as f:
        for i, (doc_id, question, answer) in enumerate(QUESTIONS):
            start = ARTICLES[doc_id].index(answer)
            f.write(json.dumps({"id": str(i), "question": question, "answers": [answer],
                                "answer_start": [start], "doc_id": doc_id, "paragraph_index": 0}) + "\n")
    return folder


def test_end_to_end_with_holdout_writes_a_parseable_report(tiny_dataset, tmp_path, embedder):
    report = evaluate(tiny_dataset, tmp_path / "idx", seed=0, holdout_docs=1 / 3, modes=("hybrid", "lexical"),
                      k=5, embedder=embedder)
    for mode in ("hybrid", "lexical"):
        m = report["modes"][mode]
        assert m["n_questions"] == 6 and m["n_unanswerable"] == 2  # one article of three held out
        assert m["citations_valid"] == 1.0
        assert m["hit@5"] == 1.0  # three small articles: the gold chunk is always retrieved
    assert report["config"]["documents"] == 2
    # The default answerer's abstention second opinion is named, as the README table shows it.
    assert report["config"]["second_opinion"].startswith("BAAI/bge-small-en-v1.5")
    # Which int8 arithmetic ran (rag/int8.py): reports from two CPUs say whether they compare.
    assert report["config"]["versions"]["int8_arithmetic"] == int8.arithmetic()
    out = tmp_path / "out"
    table = write_report(report, out)
    assert "hit@1" in table
    parsed = json.loads((out / "report.json").read_text())
    assert set(parsed) == {"config", "modes"} and set(parsed["modes"]) == {"hybrid", "lexical"}
    for key in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "citation_support@1", "citation_support@any",
                "citations_valid", "answer_contains_gold", "abstain_unanswerable", "false_abstain",
                "ask_ms_p50", "ask_ms_p95", "ingest_s", "n_questions", "n_unanswerable"):
        assert key in parsed["modes"]["hybrid"]
    assert (out / "report.md").read_text().startswith("# Evaluation report")
    for png in ("hit_at_k.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plain_jsonl_against_an_existing_index(tiny_dataset, tmp_path, embedder):
    evaluate(tiny_dataset, tmp_path / "idx", embedder=embedder, k=5)  # builds the index
    plain = tmp_path / "mine.jsonl"
    plain.write_text(json.dumps({"question": "How high is Mount Gamma?", "answers": ["3,200 metres"],
                                 "doc_id": "Mountains.txt"}) + "\n")
    report = evaluate(plain, tmp_path / "idx", embedder=embedder, k=5)
    assert report["config"]["hit_rule"].startswith("answer string")
    assert report["modes"]["hybrid"]["hit@5"] == 1.0
    with pytest.raises(InputError, match="needs --index"):
        evaluate(plain, None, embedder=embedder)
    plain.write_text("not json\n")
    with pytest.raises(InputError, match="not a question line"):
        evaluate(plain, tmp_path / "idx", embedder=embedder)


# -- found by review (each failed before its fix) ---------------------------------------------
def test_unmeasured_rates_are_none_not_zero():
    rows = [{"answerable": True, "rank": 2, "support": [True], "citations_valid": [True], "abstained": False,
             "contains_gold": True, "ms": 10.0}]
    m = ModeResult("hybrid", rows, k=3).metrics()  # 3 hits retrieved: hit@5 and hit@10 are not known
    assert m["hit@1"] == 0.0 and m["hit@3"] == 1.0
    assert m["hit@5"] is None and m["hit@10"] is None and m["mrr@10"] is None
    unanswerable = [{"answerable": False, "rank": None, "support": [], "citations_valid": [], "abstained": True,
                     "contains_gold": False, "ms": 10.0}]
    m = ModeResult("hybrid", unanswerable).metrics()  # no answerable question: nothing to rate
    assert m["abstain_unanswerable"] == 1.0
    assert m["abstain_near"] is None and m["abstain_unrelated"] is None  # the file named no kinds
    for key in ("hit@1", "mrr@10", "citation_support@1", "answer_contains_gold", "false_abstain"):
        assert m[key] is None, key


def test_an_answer_that_normalises_to_nothing_is_never_found():
    q = Question("1", "What?", ("The",), None, ())
    answer = _answer([_chunk("a.txt", 0, 36)], [("a.txt", 0, 18)])
    assert hit_rank(q, answer) is None and citation_supports(q, answer) == [False]


def test_plain_files_are_read_as_documented(tiny_dataset, tmp_path, embedder):
    evaluate(tiny_dataset, tmp_path / "idx", embedder=embedder, k=5)
    plain = tmp_path / "mine.jsonl"
    plain.write_text(json.dumps({"question": "How high is Mount Gamma?", "answers": "3,200 metres"}) + "\n")
    with pytest.raises(InputError, match="list of strings"):  # was split into characters
        evaluate(plain, tmp_path / "idx", embedder=embedder)
    # answer_start without doc_id: the offsets name no file, so the answer string decides.
    start = ARTICLES["Mountains"].index("3,200 metres")
    plain.write_text(json.dumps({"question": "How high is Mount Gamma?", "answers": ["3,200 metres"],
                                 "answer_start": [start]}) + "\n")
    assert evaluate(plain, tmp_path / "idx", embedder=embedder, k=5)["modes"]["hybrid"]["hit@5"] == 1.0
    plain.write_text("\n")
    with pytest.raises(InputError, match="no questions"):
        evaluate(plain, tmp_path / "idx", embedder=embedder)


def test_eval_never_prunes_an_index_it_did_not_make(tiny_dataset, tmp_path, embedder):
    from conftest import make_assistant

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("The harbour master is Oren Vasquez.\n", encoding="utf-8")
    assistant = make_assistant(tmp_path / "my-index", embedder)
    assistant.ingest([mine])
    with pytest.raises(InputError, match="did not make"):
        evaluate(tiny_dataset, tmp_path / "my-index", embedder=embedder)
    assert list(make_assistant(tmp_path / "my-index", embedder).require_snapshot().documents) == ["notes.txt"]


def test_an_article_edited_in_place_is_indexed_again_and_modes_run_once(tiny_dataset, tmp_path, embedder):
    first = evaluate(tiny_dataset, tmp_path / "idx", embedder=embedder, k=5)
    assert first["modes"]["hybrid"]["answer_contains_gold"] == 1.0
    # Same size, other text: "1931" -> "1932", and the gold answer with it.
    path = tiny_dataset / "articles" / "Mountains.txt"
    path.write_text(path.read_text().replace("1931", "1932"))
    lines = (tiny_dataset / "questions.jsonl").read_text().replace('"1931"', '"1932"')
    (tiny_dataset / "questions.jsonl").write_text(lines)
    again = evaluate(tiny_dataset, tmp_path / "idx", embedder=embedder, k=5, modes=("hybrid", "hybrid"))
    assert again["modes"]["hybrid"]["answer_contains_gold"] == 1.0
    assert again["config"]["modes"] == ["hybrid"] and len(again["rows"]["hybrid"]) == 6


def test_any_holdout_holds_out_at_least_one_article(tiny_dataset, tmp_path):
    from rag.eval.datasets import load_folder

    dataset = load_folder(tiny_dataset, 0.01, 0, tmp_path / "articles")  # 0.01 x 3 rounds to none
    assert len(dataset.article_files) == 2 and sum(not q.answerable for q in dataset.questions) == 2


def test_the_kind_of_an_unanswerable_question_is_read_from_its_line(tmp_path):
    """Near-topic and unrelated questions are reported apart (abstain_near, abstain_unrelated);
    a line with answers has no kind, whatever it says."""
    from rag.eval.datasets import load_plain

    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in [
        {"question": "How many people work for the dam?", "answers": [], "kind": "near"},
        {"question": "Who painted the Mona Lisa?", "answers": [], "kind": "unrelated"},
        {"question": "How high is Mount Gamma?", "answers": ["3,200 metres"], "kind": "near"},
        {"question": "What is the capital of Peru?", "answers": []},
    ]) + "\n")
    assert [q.kind for q in load_plain(path).questions] == ["near", "unrelated", None, None]
