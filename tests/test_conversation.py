"""How a typed turn becomes the question the models read (rag/conversation.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.conversation import (MAX_TURN_CHARS, as_question, check_history, core_question, elliptical_question,
                               retrieval_query, split_context, standalone_question)
from rag.errors import InputError
from rag.eval.datasets import article_path
from rag.eval.natural import read_jsonl


@pytest.mark.parametrize("typed, core", [
    ("Hi! Can you tell me how high the missile went? Thanks", "how high the missile went?"),
    ("Please tell me: How far did it fly?", "How far did it fly?"),
    ("I was wondering, could you tell me who leads North Korea?", "who leads North Korea?"),
    ("Do you know who supplied the uniforms?", "who supplied the uniforms?"),
    ("Can you tell me if Harvard always admitted women?", "Harvard always admitted women?"),
    ("How far did it fly, please?", "How far did it fly?"),
    ("Thanks for that. How far did it fly?", "How far did it fly?"),
    ("I'd like to know when the test happened.", "when the test happened"),
    ("Question: who won?", "who won?"),
])
def test_greetings_requests_and_thanks_are_not_part_of_the_question(typed, core):
    assert core_question(typed) == core


@pytest.mark.parametrize("question", [
    "Can quantum computers factor numbers quickly?",  # "can" asks here; nobody is asked to tell
    "What type of issues are members typically allowed to vote as they please?",  # SQuAD dev
    "OK Computer was released when?",
    "Who is Ahn Chan-il?",
    "Name the missile.",
])
def test_a_question_without_a_wrapper_is_left_as_it_is(question):
    assert core_question(question) == question


def test_a_turn_that_is_only_a_wrapper_is_kept_whole():
    # Nothing would be left to ask about; the question is then what was typed (and abstains).
    assert core_question("Thanks!") == "Thanks!"
    assert core_question("Hello") == "Hello"


def test_as_question_reads_the_core_with_a_question_mark():
    assert as_question("Hi! how high did the missile go") == "how high did the missile go?"
    assert as_question("I'd like to know when it flew.") == "when it flew?"
    assert as_question("Name the missile.") == "Name the missile.?"  # unchanged from before wrappers


def test_a_wrapped_follow_up_is_folded_with_the_earlier_question_unwrapped():
    history = ["Hi! Can you tell me what kind of missile North Korea tested?"]
    assert retrieval_query(as_question("Could you tell me how far it flew?"), history) == (
        "what kind of missile North Korea tested? how far it flew?")


@pytest.mark.parametrize("question, history, searched", [
    # A follow-up of a follow-up keeps the topic (found by review: "And how high?" was searched
    # with "How far did it fly?" alone, and answered about a building in Warsaw).
    ("And how high?", ["What missile did North Korea test?", "How far did it fly?"],
     "What missile did North Korea test? How far did it fly? And how high?"),
    # A short question naming something new starts a new topic (it was read as a follow-up of the
    # missile question and refused); opening like a follow-up, it is one.
    ("Where is Warsaw?", ["What missile did North Korea test?"], "Where is Warsaw?"),
    ("What about Warsaw?", ["How long is the Rhine?"], "How long is the Rhine? What about Warsaw?"),
    ("Where does it begin?", ["How long is the Rhine?"], "How long is the Rhine? Where does it begin?"),
    ("Why?", ["Why did North Korea send troops?"], "Why did North Korea send troops? Why?"),
    # At most three earlier questions, however long the chain of follow-ups.
    ("And then?", ["What missile did North Korea test?", "And then?", "And then?", "And then?"],
     "And then? And then? And then? And then?"),
])
def test_a_follow_up_is_searched_with_the_questions_it_follows(question, history, searched):
    assert retrieval_query(question, history) == searched


@pytest.mark.parametrize("typed, context, question", [
    ("North Korea tested a missile on Thursday. How far did it fly?",
     "North Korea tested a missile on Thursday.", "How far did it fly?"),
    ("I was reading about the test and got curious: how high did it go?",
     "I was reading about the test and got curious", "how high did it go?"),
    ("Thanks for that. How far did it fly?", "", "How far did it fly?"),  # thanks is no context
    ("How many U.S. troops are in Korea?", "", "How many U.S. troops are in Korea?"),  # one sentence
    ("How far did it fly? And how high?", "", "How far did it fly? And how high?"),  # two questions
    ("North Korea tested a missile.", "", "North Korea tested a missile."),  # asks nothing
    ('Who said, "Here I stand. I can do no other"?', "",  # a quotation is not two sentences
     'Who said, "Here I stand. I can do no other"?'),
])
def test_what_is_said_before_a_question_is_its_context(typed, context, question):
    assert split_context(typed) == (context, question)


@pytest.mark.parametrize("follow_up, earlier, whole", [
    ("And how high?", "How far did the missile travel?", "How high did the missile travel?"),
    ("how far", "How long was the missile in the air?", "How far was the missile in the air?"),
    ("Why?", "When did North Korea launch the missile?", "Why did North Korea launch the missile?"),
    ("And how wide?", "How tall is the tower?", "How wide is the tower?"),
    ("And when exactly?", "Where did the 1996 movie debut?", "When did the 1996 movie debut?"),
    ("How high?", "And how long did it stay up?", "How high did it stay up?"),  # an earlier follow-up
    ("When was that?", "Where did the 1996 movie debut?", "When did the 1996 movie debut?"),
    ("And where did it happen?", "Why did the crowd riot?", "Where did the crowd riot?"),
    # A wh-word with its noun: the noun is the subject, or with "did" the object.
    ("Where exactly?", "How many North Korean troops are in Russia?", "Where are the North Korean troops in Russia?"),
    ("When?", "What missile did North Korea test?", "When did North Korea test the missile?"),
    ("And why?", "What year did the war end?", "Why did the war end?"),  # the noun named the answer
    ("When?", "What kind of missile did North Korea test?", "When did North Korea test the missile?"),
    ("When?", "How many missiles did North Korea launch?", "When did North Korea launch the missiles?"),
    ("When?", "How many missiles were launched?", "When were the missiles launched?"),
    ("When?", "Where was Obama born?", "When was Obama born?"),  # "born": a predicate after "was"
    ("And how?", "When did the Soviet Union collapse?", "How did the Soviet Union collapse?"),
    ("When did it happen?", "Why did the crowd riot?", "When did the crowd riot?"),
])
def test_a_bare_follow_up_is_read_as_the_whole_question_it_stands_for(follow_up, earlier, whole):
    assert elliptical_question(follow_up, earlier) == whole


@pytest.mark.parametrize("follow_up, earlier", [
    ("Who?", "When did North Korea launch the missile?"),  # would take an argument's place
    ("And Austin?", "What did Blinken say?"),  # not a wh-word
    ("And how high did it go?", "How far did the missile travel?"),  # a question of its own
    ("When?", "Who said the troops were in Kursk?"),  # no auxiliary to put it before
    ("How many?", "What missile did North Korea test?"),  # a count where a thing was asked
    ("When?", "Tell me about the missile."),
    ("Where?", "What percentage of people are Catholic?"),
    ("When?", "How tall is Jacksonville's tallest building?"),  # "tall" is what the question says of it
    # Found by review: each was rewritten into a question nobody asked.
    ("When?", "How many missiles has North Korea launched?"),  # "When has the missiles North Korea ..."
    ("How many?", "How far did the missile travel?"),  # "How many did the missile travel?"
    ("How old?", "Where was Obama born?"),  # asks Obama's age, not his birth's
    ("And how long?", "When did the war start?"),  # "How long did the war start?"
    ("How?", "Where was Obama born?"),
    ("When?", "Where is the Eiffel Tower?"),  # nothing after "is" that can happen at a time
    ("When?", "What city is the capital of France?"),
    ("Where is it?", "What missile did North Korea test?"),  # "it" is the missile, not the test
    ("Why?", "When did North Korea launch the missile and how far did it go?"),  # two questions
])
def test_a_follow_up_without_a_clear_whole_question_is_left_as_typed(follow_up, earlier):
    assert elliptical_question(follow_up, earlier) is None


def test_a_chain_of_bare_follow_ups_keeps_the_question_they_all_stand_for():
    history = ["Hi! What missile did North Korea test?", {"role": "assistant", "content": "..."},
               {"role": "user", "content": "How far did it fly?"}, "And how high?"]
    assert standalone_question("And when?", history) == "When did it fly?"
    assert standalone_question("And when?", []) == "And when?"
    assert standalone_question("Where is Warsaw?", history) == "Where is Warsaw?"


def test_a_long_earlier_turn_is_not_read_for_a_bare_follow_up():
    # Found by review: the patterns backtracked over a long run of spaces ("How far did" + 9,900
    # spaces + "x", a history turn may hold 10,000 characters) for more than ten minutes.
    long_turn = "How far did" + " " * 9_900 + "x"
    assert standalone_question("And how high?", [long_turn] * 40) == "How high did x?"  # spaces collapsed
    assert elliptical_question("Why?", "How far did the missile travel " + "and " * 100 + "land?") is None
    assert elliptical_question("and" + " " * 2_000 + "when", "How far did it go?") == "When did it go?"
    # Found by review: every earlier turn was read, and its thanks pattern backtracked over a run of
    # spaces (forty such turns took 31 s). Only the turns back to the last whole question are read.
    thanks = "Thanks" + " " * 9_900 + "x"
    assert standalone_question("And how high?", [thanks] * 39 + ["How far did it fly?"]) == "How high did it fly?"
    assert standalone_question("And how high?", ["How far did it fly?"] + [thanks] * 39) == "And how high?"
    assert core_question(thanks) == thanks.strip()


def test_a_long_earlier_answer_does_not_break_the_conversation(seed_assistant):
    # Found by review: an answer quoting a sentence of form underscores (11,595 characters, about
    # 200 tokens) came back as history and was refused, so every later question of that chat failed.
    # Only the questions of a history are read; only they are held to the limit.
    long_answer = "Name: " + "_" * (MAX_TURN_CHARS + 1_500) + " [1]"
    history = [{"role": "user", "content": "What does the form ask for?"},
               {"role": "assistant", "content": long_answer}]
    assert check_history(history) == history
    assert check_history([("What does the form ask for?", long_answer)])
    answer = seed_assistant.ask("How high did the missile go?", history=history)
    assert not answer.abstained and "7,000 kilometers" in answer.answer
    with pytest.raises(InputError, match="history turn 1 is"):
        check_history([{"role": "user", "content": "x" * (MAX_TURN_CHARS + 1)}])


@pytest.mark.parametrize("turn", [{"role": "user", "content": 5}, {"role": 5, "content": "hi"}, {"role": "user"},
                                  {"role": "assistant", "content": 5}])
def test_a_turn_that_is_not_role_and_text_is_refused_not_dropped(turn):
    # Found by review: POST /api/ask answered 200 and dropped such a turn without a word.
    with pytest.raises(InputError, match=r"history turn 2 must be \{"):
        check_history([{"role": "user", "content": "How far did it fly?"}, turn])


def test_an_answer_without_text_is_accepted():
    # OpenAI clients send an assistant turn that made tool calls with "content": null.
    history = [{"role": "user", "content": "How far did it fly?"}, {"role": "assistant", "content": None}]
    assert check_history(history) == history


@pytest.mark.parametrize("name", ["conversations", "conversations2"])
def test_the_conversation_sets_have_exact_offsets_and_a_pronoun_in_every_follow_up(name):
    # eval/conversations*, benchmarks/pronoun_follow_ups.py. The SQuAD articles are read from
    # ../shared as for eval/natural; a missing one fails here, it is never skipped.
    folder = Path(__file__).resolve().parent.parent / "eval" / name
    paths = {a["id"]: article_path(folder, a["path"]) for a in read_jsonl(folder / "articles.jsonl")}
    texts = {doc: path.read_text(encoding="utf-8") for doc, path in paths.items()}
    rows = read_jsonl(folder / "questions.jsonl")
    assert len({r["id"] for r in rows}) == len(rows) >= 50
    assert sum(1 for r in rows if not r["answers"]) >= 8
    for r in rows:
        assert r["history"] and re.search(r"\b(it|its|they|them|their)\b", r["question"], re.IGNORECASE), r["id"]
        assert not re.search(r"\b(it|its|they|them|their)\b", r["whole"], re.IGNORECASE), r["id"]
        assert len(r["answers"]) == len(r["answer_start"]), r["id"]
        for answer, start in zip(r["answers"], r["answer_start"]):
            assert texts[r["doc_id"]][start : start + len(answer)] == answer, r["id"]
