"""This project as a model for other chat clients: an OpenAI-compatible chat-completions API.

    GET  /v1/models             {"object": "list", "data": [{"id": "rag"}, {"id": "rag-llm"}?]}
    POST /v1/chat/completions   {"model", "messages", "stream"?, ...} -> chat.completion (or chunks)

A front end such as Open WebUI, pointed at `http://HOST:7860/v1`, lists the models and chats
with them. `rag` answers with the extractive answerer; `rag-llm` (listed only when RAG_LLM_URL
is set) with the language model, every sentence verified. The last message must be the user's
question; the earlier user and assistant messages are the history (system messages and other
parameters, such as temperature, are accepted and ignored: the answer comes from the articles).

The reply's `choices[0].message.content` is the answer text with its `[n]` markers. Two extra
top-level fields carry what a plain OpenAI response cannot:
- `citations`: the answer's citations, as in `POST /api/ask` (n, doc_id, title, source, start,
  end, quote, page?), so a client can link each [n] to its source span;
- `rag`: the whole answer JSON of `POST /api/ask` (abstained, hits, answerer, sentences, ...).

Streaming (`"stream": true`): chat.completion.chunk events. The model's draft arrives as
`delta.reasoning_content` (clients that show reasoning show it as a draft, others ignore it),
because a streamed `content` cannot be taken back and the draft is not yet verified; the
verified answer follows as `delta.content`, and the last chunk (finish_reason "stop") carries
`citations` and `rag`. Then `data: [DONE]`.

Errors are this server's JSON `{"error": "..."}` with a 4xx status, as on /api (OpenAI's SDKs
show the message). With a password set (RAG_UI_USERNAME/RAG_UI_PASSWORD), /v1 takes HTTP Basic
or the password as a Bearer token, the way OpenAI clients send an API key.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Iterator

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, StrictBool

from rag.assistant import Assistant
from rag.errors import InputError
from rag.types import Answer
from ui.auth import basic_matches, bearer_matches
from ui.streaming import ANSWER, DRAFT, SSE_HEADERS, answer_events, error_message

EXTRACTIVE_MODEL, GENERATIVE_MODEL = "rag", "rag-llm"
HISTORY_MESSAGES = 20  # of the conversation sent as history (the core reads only the last question)
Credentials = tuple[str, str]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, ...: accepted, not used
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    # OpenAI clients send many parameters (temperature, top_p, user, stream_options, ...).
    model_config = ConfigDict(extra="allow")
    model: str = EXTRACTIVE_MODEL
    messages: list[ChatMessage]
    stream: StrictBool = False


def message_text(m: ChatMessage) -> str:
    """The text of a message: a string, or the text parts of a list of content parts."""
    if isinstance(m.content, str):
        return m.content
    if isinstance(m.content, list):
        texts = [p.get("text") for p in m.content if isinstance(p, dict) and p.get("type") == "text"]
        bad = [t for t in texts if not isinstance(t, str)]
        if bad:  # else str() made the question "None" or "['a']"
            raise InputError(f"a text content part's \"text\" must be a string, got {type(bad[0]).__name__}")
        return "\n".join(texts)
    return ""


def question_and_history(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The last message (the user's question) and the user/assistant turns before it.
    Raises InputError when there is no user question at the end."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise InputError("the last message must be the user's question (role \"user\")")
    question = message_text(turns[-1])
    history = [{"role": m.role, "content": message_text(m)} for m in turns[:-1]][-HISTORY_MESSAGES:]
    return question, history


def require_key(credentials: Credentials | None):
    """A dependency: HTTP Basic, or the password as `Authorization: Bearer`, when one is set."""

    def check(request: Request) -> None:
        if credentials is None:
            return
        header = request.headers.get("authorization", "").encode("latin-1", "replace")
        if not (basic_matches(header, credentials) or bearer_matches(header, credentials)):
            raise HTTPException(401, "this server needs a user name and password (HTTP Basic), or the "
                                     "password as the API key (Authorization: Bearer)",
                                headers={"WWW-Authenticate": 'Basic realm="rag"'})

    return check


def openai_router(assistant: Assistant, credentials: Credentials | None = None) -> APIRouter:
    guard = [Depends(require_key(credentials))] if credentials is not None else []
    router = APIRouter(prefix="/v1", dependencies=guard, tags=["OpenAI-compatible"])

    def models() -> list[str]:
        return [EXTRACTIVE_MODEL] + ([GENERATIVE_MODEL] if assistant.generative is not None else [])

    @router.get("/models", summary="The models this server answers as (OpenAI-compatible)")
    def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "rag"}
                                           for m in models()]}

    @router.post("/chat/completions", summary="Answer the last user message (OpenAI-compatible)",
                 description="`model` `rag` answers extractively, `rag-llm` with the language model (every "
                             "sentence verified). The content has `[n]` markers; the extra top-level field "
                             "`citations` holds the citations and `rag` the full answer JSON of /api/ask. "
                             "Streaming sends the model's draft as `delta.reasoning_content`, then the verified "
                             "answer as `delta.content`.")
    def chat_completions(req: ChatRequest) -> Any:
        if req.model not in models():
            hint = " (set RAG_LLM_URL to enable rag-llm)" if req.model == GENERATIVE_MODEL else ""
            raise InputError(f"unknown model {req.model!r}; this server answers as {', '.join(models())}{hint}")
        question, history = question_and_history(req.messages)
        llm = req.model == GENERATIVE_MODEL
        if not req.stream:
            answer = assistant.ask(question, history=history, llm=llm)
            return completion(answer, req.model)
        assistant.check_ask(question, history=history, llm=llm)
        events = answer_events(assistant, question, history=history, llm=llm)
        return StreamingResponse(completion_chunks(events, req.model), media_type="text/event-stream",
                                 headers=SSE_HEADERS)

    return router


def _id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A chat.completion object for `answer`, with the extra fields `citations` and `rag`."""
    d = answer.to_dict()
    return {
        "id": _id(), "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": d["citations"], "rag": d,
    }


def completion_chunks(events: Iterator[tuple[str, Any]], model: str) -> Iterator[str]:
    """chat.completion.chunk events: role, the draft as reasoning_content, the verified answer as
    content (in word-sized pieces), a final chunk with citations, then [DONE]."""
    cid, created = _id(), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for kind, value in events:
        if kind == DRAFT:
            yield chunk({"reasoning_content": value})
        elif kind == ANSWER:
            for piece in _pieces(value.answer):
                yield chunk({"content": piece})
            d = value.to_dict()
            yield chunk({}, "stop", citations=d["citations"], rag=d)
        else:
            # The stream has begun (status 200): the error travels as an event, as OpenAI's does.
            yield f"data: {json.dumps({'error': error_message(value)}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _pieces(text: str, words: int = 4) -> Iterator[str]:
    parts = text.split(" ")
    for i in range(0, len(parts), words):
        yield " ".join(parts[i:i + words]) + (" " if i + words < len(parts) else "")


__all__ = ["EXTRACTIVE_MODEL", "GENERATIVE_MODEL", "completion", "openai_router"]
