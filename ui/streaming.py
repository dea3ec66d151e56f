"""An answer as a stream of events: the model's draft piece by piece, then the verified answer.

`Assistant.ask(..., on_draft=...)` calls back from the thread that answers; the chat, the
server-sent events of `POST /api/ask` and `POST /v1/chat/completions` all want an iterator
instead. `answer_events` runs the question on a worker thread and hands its events over a
queue, so each of them can be a plain generator.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any, Iterator

from rag.assistant import Assistant
from rag.errors import RagError

DRAFT, ANSWER, ERROR = "draft", "answer", "error"
# Response headers of an event stream: no caching, and no buffering by a proxy in front.
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def answer_events(assistant: Assistant, question: str, k: int | None = None, history: list[Any] | None = None,
                  mode: str | None = None, llm: bool = False) -> Iterator[tuple[str, Any]]:
    """("draft", text piece)..., then ("answer", Answer) or ("error", exception), and the end.

    The worker thread ends when the answer is ready even if nobody reads the rest (a client
    that went away): the model's own timeout bounds it.
    """
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def work() -> None:
        try:
            answer = assistant.ask(question, k=k, history=history, mode=mode, llm=llm,
                                   on_draft=lambda piece: events.put((DRAFT, piece)))
            events.put((ANSWER, answer))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which decides what it means
            if not isinstance(e, RagError):
                logging.getLogger("rag.ui").exception("answering %r failed", question[:80])
            # Always an event, or the consumer would wait for ever; a BaseException (SystemExit)
            # reaches the consumer as an error and still ends this thread as it should.
            events.put((ERROR, e if isinstance(e, Exception) else RuntimeError(type(e).__name__)))
            if not isinstance(e, Exception):
                raise

    threading.Thread(target=work, name="rag-answer", daemon=True).start()
    while True:
        kind, value = events.get()
        yield kind, value
        if kind != DRAFT:
            return


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def error_message(e: Exception) -> str:
    """What a client may see of an exception: a RagError's message, else that it was a bug."""
    if isinstance(e, RagError):
        return str(e)
    return f"internal error ({type(e).__name__}); the server log has the details"


def sse_answer(events: Iterator[tuple[str, Any]]) -> Iterator[str]:
    """`draft` events, then `answer` (Answer.to_dict()) or `error` ({"error": message})."""
    for kind, value in events:
        if kind == DRAFT:
            yield sse("draft", {"text": value})
        elif kind == ANSWER:
            yield sse("answer", value.to_dict())
        else:
            yield sse("error", {"error": error_message(value)})
