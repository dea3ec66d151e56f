"""The generative answerer against scripted model servers: verification, renumbering, fallbacks.

The replies are scripted (tests/fake_llm.py) so each test knows exactly what the model "said";
everything else is real: the seed index, the MiniLM encoder, the cross-encoder, HTTP. The real
model server (SmolLM2 through xllamacpp) is in tests/test_llm_server.py.
"""

from __future__ import annotations

import math
import time

import pytest

from conftest import assert_citations_verified, make_assistant
from fake_llm import FakeLLM, Reply, number_of
from rag.answer.prompt import DraftStream, parse_reply
from rag.errors import InputError

MISSILE_Q = "How long did the missile stay airborne?"
AIRBORNE = "staying airborne for about 86 minutes"


def llm_assistant(seed_assistant, embedder, url: str, **settings):
    """An Assistant on the seed index whose language model is at `url`."""
    return make_assistant(seed_assistant.folder.path, embedder, llm_url=url, **settings)


def ask(seed_assistant, embedder, behaviour, question=MISSILE_Q, **settings):
    with FakeLLM(behaviour) as fake:
        assistant = llm_assistant(seed_assistant, embedder, fake.url, **settings)
        drafts: list[str] = []
        answer = assistant.ask(question, llm=True, on_draft=drafts.append)
        return answer, fake, drafts


def check_generative(answer) -> None:
    """A generative answer: verified citations, every sentence in the text supported."""
    assert answer.answerer.kind == "generative" and answer.answerer.fallback is None
    assert_citations_verified(answer)
    for s in answer.sentences:
        assert (s.text in answer.answer) == s.supported, s
        if s.supported:
            assert s.citations and all(f"[{n}]" in answer.answer for n in s.citations)


def test_a_supported_sentence_is_kept_and_its_citation_renumbered(seed_assistant, embedder):
    answer, fake, drafts = ask(seed_assistant, embedder, lambda r: Reply(
        f"The missile stayed airborne for about 86 minutes [{number_of(r, AIRBORNE)}]."))
    check_generative(answer)
    assert answer.answer == "The missile stayed airborne for about 86 minutes. [1]"
    [c] = answer.citations
    assert AIRBORNE in " ".join(c.quote.split()) and c.n == 1
    [s] = answer.sentences
    assert s.supported and s.cited_by == "model" and s.support > 0.5
    assert "".join(drafts) == "The missile stayed airborne for about 86 minutes [%d]." % number_of(fake.requests[0], AIRBORNE)
    d = answer.to_dict()
    assert d["answerer"] == {"kind": "generative", "model": "fake-model", "fallback": None, "message": None}
    assert d["sentences"][0]["supported"] is True and d["sentences"][0]["citations"] == [1]
    # What the model was shown: fixed instructions, then numbered sentences and the question.
    request = fake.requests[0]
    assert request["temperature"] == 0 and request["stream"] is True
    assert request["messages"][0]["role"] == "system" and "[4]" in request["messages"][0]["content"]
    assert request["messages"][1]["content"].rstrip().endswith(f"Question: {MISSILE_Q}")


def test_the_model_is_asked_a_bare_follow_up_as_the_whole_question(seed_assistant, embedder):
    # Found by review: the model was sent "And how high?" as typed, with no earlier question, since
    # the rewritten question no longer needs the earlier one to be searched.
    with FakeLLM(lambda r: Reply("It reached altitudes of 7,000 kilometers [%d]." % number_of(r, "7,000"))) as fake:
        assistant = llm_assistant(seed_assistant, embedder, fake.url)
        answer = assistant.ask("And how high?", history=["How far did the missile travel?"], llm=True)
    assert fake.requests[0]["messages"][1]["content"].rstrip().endswith("Question: How high did the missile travel?")
    assert_citations_verified(answer)


def test_a_wrong_number_is_not_supported_and_the_extractive_answer_is_shown(seed_assistant, embedder):
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply(
        f"The missile stayed airborne for about 96 minutes [{number_of(r, AIRBORNE)}]."))
    assert answer.answerer.kind == "extractive" and answer.answerer.fallback == "unsupported"
    assert "not supported" in answer.answerer.message or "supported" in answer.answerer.message
    extractive = seed_assistant.ask(MISSILE_Q)
    assert answer.answer == extractive.answer and not answer.abstained
    assert_citations_verified(answer)
    [s] = answer.sentences
    assert not s.supported and "96" in s.problem and not s.citations
    assert answer.to_dict()["sentences"][0]["supported"] is False


def test_one_supported_and_one_made_up_sentence(seed_assistant, embedder):
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply(
        f"The missile stayed airborne for about 86 minutes [{number_of(r, AIRBORNE)}]. "
        f"It was launched from Antarctica by Napoleon [{number_of(r, AIRBORNE)}]."))
    check_generative(answer)
    assert "Napoleon" not in answer.answer and "86 minutes" in answer.answer
    kept, dropped = answer.sentences
    assert kept.supported and not dropped.supported and "Antarctica" in dropped.problem


def test_a_citation_that_does_not_exist_is_replaced_by_the_sentence_that_supports_it(seed_assistant, embedder):
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply("The missile stayed airborne for about 86 minutes [9]."))
    check_generative(answer)
    [s] = answer.sentences
    assert s.cited_by == "verifier" and AIRBORNE in " ".join(answer.citations[0].quote.split())


def test_a_sentence_without_markers_is_attributed_or_dropped(seed_assistant, embedder):
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply("The missile stayed airborne for about 86 minutes."))
    check_generative(answer)
    assert answer.sentences[0].cited_by == "verifier"


def test_the_model_declines_where_the_gate_says_answerable(seed_assistant, embedder):
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply("NO ANSWER"))
    assert answer.answerer.fallback == "declined" and not answer.abstained
    assert answer.answer == seed_assistant.ask(MISSILE_Q).answer


def test_the_model_is_not_asked_when_the_gate_is_sure(seed_assistant, embedder):
    answer, fake, _ = ask(seed_assistant, embedder, lambda r: Reply("Paris [1]."),
                          question="What is the best recipe for sourdough bread?")
    assert fake.requests == [] and answer.abstained and answer.answerer.fallback == "not_asked"
    assert not answer.citations


@pytest.mark.parametrize("reply,words", [
    (Reply(raw=b"<html>gateway</html>", content_type="text/html"), "not JSON"),
    (Reply(raw=b"data: {not json\n\n", content_type="text/event-stream"), "not JSON"),
    (Reply(raw=b'data: {"object": "something else"}\n\n', content_type="text/event-stream"), "chat completion"),
    (Reply(raw=b'{"choices": []}', content_type="application/json"), "chat completion"),
    (Reply(status=500), "HTTP 500"),
    (Reply(""), "could not be read"),
    # Found by review: a body httpx cannot decode escaped as a 500 of our own.
    (Reply(raw=b"x" * 20, headers={"content-encoding": "gzip"}), "cannot be read (DecodingError"),
])
def test_garbage_from_the_server_gives_the_extractive_answer_and_says_so(seed_assistant, embedder, reply, words):
    answer, _, _ = ask(seed_assistant, embedder, lambda r: reply)
    assert answer.answerer.kind == "extractive" and answer.answerer.fallback == "bad_response"
    assert words in answer.answerer.message
    assert answer.answer == seed_assistant.ask(MISSILE_Q).answer
    assert_citations_verified(answer)


def test_a_server_that_is_down_gives_the_extractive_answer(seed_assistant, embedder):
    from ui.server import free_port

    assistant = llm_assistant(seed_assistant, embedder, f"http://127.0.0.1:{free_port()}/v1", llm_model="m")
    t0 = time.perf_counter()
    answer = assistant.ask(MISSILE_Q, llm=True)
    assert time.perf_counter() - t0 < 10
    assert answer.answerer.fallback == "unreachable" and "cannot reach" in answer.answerer.message
    assert answer.answer == seed_assistant.ask(MISSILE_Q).answer and answer.citations


def test_a_slow_server_times_out_into_the_extractive_answer(seed_assistant, embedder):
    t0 = time.perf_counter()
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply("late", delay_s=5), llm_timeout=1.0, llm_model="m")
    assert time.perf_counter() - t0 < 4
    assert answer.answerer.fallback == "timeout" and "in time" in answer.answerer.message
    assert answer.answer and answer.citations


def test_a_server_that_stalls_mid_answer_times_out(seed_assistant, embedder):
    answer, _, drafts = ask(seed_assistant, embedder, lambda r: Reply("The missile stayed", stall_s=5),
                            llm_timeout=1.5, llm_model="m")
    assert answer.answerer.fallback == "timeout" and drafts  # the draft had begun
    assert answer.answer == seed_assistant.ask(MISSILE_Q).answer


@pytest.mark.parametrize("content_type", ["text/event-stream", "application/json"])
def test_a_server_that_drips_bytes_is_stopped_at_the_timeout(seed_assistant, embedder, content_type):
    # Found by review: each byte restarts httpx's read timeout, and the deadline was checked only
    # between whole lines (never for a JSON reply), so a dripping server held the answer for ever.
    t0 = time.perf_counter()
    answer, _, _ = ask(seed_assistant, embedder, lambda r: Reply(raw=b"data: {" * 40, content_type=content_type,
                                                                 drip_s=0.1), llm_timeout=1.5, llm_model="m")
    assert time.perf_counter() - t0 < 5
    assert answer.answerer.fallback == "timeout" and "RAG_LLM_TIMEOUT" in answer.answerer.message
    assert answer.answer == seed_assistant.ask(MISSILE_Q).answer


def test_busy_server_is_retried(seed_assistant, embedder):
    calls: list[int] = []

    def behaviour(request):
        calls.append(1)
        if len(calls) == 1:
            return Reply(status=503)
        return Reply(f"The missile stayed airborne for about 86 minutes [{number_of(request, AIRBORNE)}].")

    answer, fake, _ = ask(seed_assistant, embedder, behaviour, llm_model="m")
    check_generative(answer)
    assert len(fake.requests) == 2


def test_structured_output_is_dropped_when_the_server_refuses_it(seed_assistant, embedder):
    from dataclasses import replace

    from rag.answer.generative import GenerativeConfig

    def behaviour(request):
        if "response_format" in request:
            return Reply(status=400)
        return Reply('{"sentences": [{"text": "The missile stayed airborne for about 86 minutes.", "cites": [%d]}]}'
                     % number_of(request, AIRBORNE))

    with FakeLLM(behaviour) as fake:
        assistant = llm_assistant(seed_assistant, embedder, fake.url, llm_model="m")
        assistant.generative = replace(assistant.generative, config=GenerativeConfig(format="json"))
        answer = assistant.ask(MISSILE_Q, llm=True)
        check_generative(answer)
        assert answer.sentences[0].cited_by == "model"
        check_generative(assistant.ask(MISSILE_Q, llm=True))
    # Refused with the schema, answered without it; from then on plain text straight away.
    assert [("response_format" in r) for r in fake.requests] == [True, False, False]


def test_a_400_for_another_reason_keeps_structured_output(seed_assistant, embedder):
    # Found by review: any 400 (a prompt over the context length) turned structured output off
    # for every later question. It is turned off only when the same request without it succeeds.
    from dataclasses import replace

    from rag.answer.generative import GenerativeConfig

    with FakeLLM(lambda r: Reply(status=400)) as fake:
        assistant = llm_assistant(seed_assistant, embedder, fake.url, llm_model="m")
        assistant.generative = replace(assistant.generative, config=GenerativeConfig(format="json"))
        answer = assistant.ask(MISSILE_Q, llm=True)
        assert answer.answerer.fallback == "bad_response" and "HTTP 400" in answer.answerer.message
        assert [("response_format" in r) for r in fake.requests] == [True, False]
        assistant.ask(MISSILE_Q, llm=True)
        assert "response_format" in fake.requests[2]


def test_llm_without_a_configured_server_is_a_clear_error(seed_assistant):
    with pytest.raises(InputError, match="RAG_LLM_URL"):
        seed_assistant.ask(MISSILE_Q, llm=True)


def test_the_extractive_answer_is_unchanged_and_marked(seed_assistant):
    d = seed_assistant.ask(MISSILE_Q).to_dict()
    assert d["answerer"] == {"kind": "extractive", "model": None, "fallback": None, "message": None}
    assert "sentences" not in d


# -- reading replies -------------------------------------------------------------------------
@pytest.mark.parametrize("text,claims", [
    ("It flew 86 minutes [2].", [("It flew 86 minutes.", (2,))]),
    ("It flew 86 minutes. [2] It went up 7,000 km [1][3].", [("It flew 86 minutes.", (2,)),
                                                          ("It went up 7,000 km.", (1, 3))]),
    ("It flew [1, 2] far.", [("It flew far.", (1, 2))]),
    ('{"sentences": [{"text": "It flew.", "cites": [2]}]}', [("It flew.", (2,))]),
    ('{"sentences": [{"text": "It flew.", "cites": [2]}, {"text": "It we', [("It flew.", (2,))]),
    # A marker before the full stop in JSON text left "far ." (found by review).
    ('{"sentences": [{"text": "It flew far [1].", "cites": [1]}]}', [("It flew far.", (1,))]),
    # A range of sentences is each of them, not the numbers 1 and 3 claimed as facts.
    ("It flew far [1-3]. It fell [2–4][6].", [("It flew far.", (1, 2, 3)), ("It fell.", (2, 3, 4, 6))]),
])
def test_replies_are_read_as_claims(text, claims):
    assert [(c.text, c.cites) for c in parse_reply(text).claims] == claims


def test_declines_are_read_as_declines():
    assert parse_reply("NO ANSWER").declined and parse_reply('{"sentences": []}').declined
    assert not parse_reply("").declined and not parse_reply("").claims


def test_the_draft_of_a_json_reply_shows_only_its_text():
    stream = DraftStream()
    raw = '{"sentences": [{"text": "It flew \\"far\\".", "cites": [2]}, {"text": "Then it fell.", "cites": [1, 3]}]}'
    shown = "".join(stream.feed(raw[i:i + 3]) for i in range(0, len(raw), 3))
    assert shown == 'It flew "far". [2] Then it fell. [1][3]'


# -- an answer must rest on a sentence that answers the question ------------------------------
def test_a_true_side_sentence_is_not_an_answer(seed_assistant, embedder):
    # Seen on the natural reporting set (the margin was then chosen on the fitting sets only):
    # the 1.5B model answered "How big is a chloroplast?" with
    # "a typical cell contains about 10 to 100 chloroplasts", copied from a shown sentence. Every
    # word is supported, but it does not answer; the check compares the cited sentence's reranked
    # score with the best shown one's.
    assistant = llm_assistant(seed_assistant, embedder, "http://127.0.0.1:9/v1")  # never called
    gen, snap = assistant.generative, assistant.require_snapshot()
    query = assistant.query(MISSILE_Q)
    asked = gen.prepare(query, assistant.retriever(None, snap).retrieve(query, 10), snap)
    # A shown sentence the cross-encoder did not read (the prompt skips long ones and goes further
    # down the ranking) has no reranked score: for the check it is below the best one.
    finals = {s.key: asked.by_key[s.key].final for s in asked.shown}
    scored = sorted(((-math.inf if finals[s.key] is None else finals[s.key], s) for s in asked.shown),
                    key=lambda fs: fs[0])
    best, top = scored[-1]
    sides = [s for final, s in scored if final < best - gen.config.relevance_margin]
    side_answers = [gen.finish(asked, f"{side.text} [{side.n}]") for side in sides]
    # Copied verbatim, a side sentence is supported (a too-short one may fall short of the score)...
    supported = [a for a in side_answers if a.sentences[0].supported]
    assert supported, [(a.answerer.fallback, a.sentences) for a in side_answers]  # not vacuous
    for answer in supported:  # ... but not shown as the answer
        assert answer.answerer.fallback == "off_question" and "less well" in answer.answerer.message
        assert answer.answer == seed_assistant.ask(MISSILE_Q).answer
        assert_citations_verified(answer)
    kept = gen.finish(asked, f"{top.text} [{top.n}]")
    check_generative(kept)
    assert kept.citations[0].quote == top.text or top.text in " ".join(kept.citations[0].quote.split())
