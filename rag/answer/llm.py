"""A client for any OpenAI-compatible chat-completions server: llama.cpp's server, Ollama, vLLM,
LM Studio, OpenAI itself.

What it does: one streamed `POST {base}/chat/completions`, with a JSON schema as
`response_format` when the server takes one; the text arrives token by token (`on_text`) and
comes back whole. What it deliberately does not do: decide anything about the answer. A
server that is down, slow, or sends something that is not a chat completion raises a
`ModelError` whose message says which of these happened and where; the generative answerer
turns it into the extractive answer with that message (rag/answer/generative.py).

Always streamed, also when nobody watches the tokens: a read timeout then means "no byte for
`read_timeout` seconds", which catches a stalled server without cutting off a long answer,
and `timeout` bounds the whole exchange. Retries (`retries`, with a short back-off) only for
failures before the first byte of a reply: refused connections and 429/502/503/504. A timeout
is not retried: it has already cost the user the wait.

Structured output: the first request carries `response_format: {"type": "json_schema", ...}`.
A server that answers it with a 4xx (some refuse the field) is asked again without it, and is
remembered as one that takes plain text: the caller then gets `structured=False` and parses
text (rag/answer/prompt.py).

    RAG_LLM_URL       base URL, e.g. http://127.0.0.1:8081/v1 (`make llm`) or https://api.openai.com/v1
    RAG_LLM_MODEL     model name sent with every request (default: the first of GET {base}/models)
    RAG_LLM_API_KEY   sent as `Authorization: Bearer ...` when set
"""

from __future__ import annotations

import codecs
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

import httpx

from rag.errors import InputError, RagError

RETRY_STATUS = frozenset({429, 502, 503, 504})
MAX_REPLY_BYTES = 4_000_000  # one reply of a few hundred tokens is kilobytes; more is a broken server


class ModelError(RagError):
    """The language model could not give an answer. `code` says which way it failed."""

    code = "bad_response"


class ModelUnreachable(ModelError):
    code = "unreachable"


class ModelTimeout(ModelError):
    code = "timeout"


class ModelBadResponse(ModelError):
    code = "bad_response"


@dataclass(frozen=True)
class Completion:
    text: str  # the reply's content, whole
    structured: bool  # True when the server was asked for (and took) the JSON schema
    finish_reason: str | None  # "stop", "length" (cut at max_tokens), ...
    first_token_ms: float | None = None  # from the request to the first content


class ChatModel(Protocol):
    """A chat model behind some API. The seam the generative answerer calls."""

    @property
    def model_id(self) -> str:
        """The model's name, as reported in answers and evaluation reports."""
        ...

    def complete(self, system: str, user: str, schema: dict[str, Any] | None, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        """The model's reply to one system + user message, at temperature 0. With `schema`,
        the reply is asked to be JSON of that schema (if the server supports it: see
        `Completion.structured`). `on_text` is called with each piece of content as it arrives.
        Raises ModelUnreachable, ModelTimeout or ModelBadResponse (all ModelError)."""
        ...


@dataclass
class OpenAIChat:
    """The ChatModel of an OpenAI-compatible server at `base_url` (ending in /v1, usually)."""

    base_url: str
    model: str = ""  # empty: the first model GET {base}/models lists
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0  # seconds for a whole reply
    connect_timeout: float = 3.0
    read_timeout: float = 30.0  # seconds without a byte from the server
    retries: int = 1
    _schema_ok: bool = field(default=True, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        # The settings' checks (rag/settings.py make_generative builds this from RAG_LLM_*).
        if self.timeout <= 0:
            raise InputError(f"RAG_LLM_TIMEOUT must be above 0 seconds. Currently, RAG_LLM_TIMEOUT={self.timeout:g}")
        if self.retries < 0:
            raise InputError(f"RAG_LLM_RETRIES must be 0 or more. Currently, RAG_LLM_RETRIES={self.retries}")
        if not self.base_url.startswith(("http://", "https://")):
            raise InputError(f"RAG_LLM_URL must be an http:// or https:// URL. Currently, RAG_LLM_URL={self.base_url!r}")
        self.base_url = self.base_url.rstrip("/")

    @property
    def model_id(self) -> str:
        return self.model or "(server default)"

    def _headers(self) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "text/event-stream, application/json"}
        if self.api_key:
            h["authorization"] = f"Bearer {self.api_key}"
        return h

    def _timeouts(self, left: float) -> httpx.Timeout:
        return httpx.Timeout(connect=min(self.connect_timeout, left), read=min(self.read_timeout, left),
                             write=min(10.0, left), pool=min(10.0, left))

    def resolve_model(self, deadline: float) -> str:
        """The model name to send: RAG_LLM_MODEL, else the first id GET {base}/models lists."""
        with self._lock:
            if self.model:
                return self.model
            url = f"{self.base_url}/models"
            try:
                r = httpx.get(url, headers=self._headers(), timeout=self._timeouts(max(0.1, deadline - time.monotonic())))
                ids = [m["id"] for m in r.json()["data"]]
            except httpx.TimeoutException:
                raise ModelTimeout(f"the model server at {self.base_url} did not answer GET /models in time") from None
            except httpx.TransportError as e:
                raise ModelUnreachable(f"cannot reach the model server at {self.base_url} ({_reason(e)})") from None
            except httpx.HTTPError as e:
                raise ModelBadResponse(f"GET {url} sent a reply that cannot be read ({type(e).__name__})") from None
            except (ValueError, KeyError, TypeError):
                raise ModelBadResponse(f"GET {url} did not list models (HTTP {r.status_code}); "
                                       f"set RAG_LLM_MODEL to the model's name") from None
            if not ids:
                raise ModelBadResponse(f"GET {url} lists no models; set RAG_LLM_MODEL")
            self.model = str(ids[0])
            return self.model

    def complete(self, system: str, user: str, schema: dict[str, Any] | None, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        start = time.monotonic()
        deadline = start + self.timeout
        model = self.resolve_model(deadline)
        use_schema = schema is not None and self._schema_ok
        refused_schema = False
        attempt = 0
        while True:
            body: dict[str, Any] = {"model": model, "temperature": 0, "max_tokens": max_tokens, "stream": True,
                                    "messages": [{"role": "system", "content": system},
                                                 {"role": "user", "content": user}]}
            if use_schema:
                body["response_format"] = {"type": "json_schema",
                                           "json_schema": {"name": "answer", "strict": True, "schema": schema}}
            try:
                completion = self._request(body, use_schema, start, deadline, on_text)
                if refused_schema:
                    # Refused with the schema, answered without: plain text from now on. Only
                    # then, so that a 400 for another reason (a prompt over the context
                    # length) does not turn structured output off for every later question.
                    self._schema_ok = False
                return completion
            except _Refused as e:
                if use_schema and 400 <= e.status < 500 and e.status not in (401, 403, 404, 429):
                    use_schema, refused_schema = False, True  # maybe response_format: once more without it
                    continue
                if e.status in RETRY_STATUS and attempt < self.retries and time.monotonic() + 1 < deadline:
                    attempt += 1
                    time.sleep(min(0.5 * attempt, max(0.0, deadline - time.monotonic())))
                    continue
                raise ModelBadResponse(f"the model server at {self.base_url} answered HTTP {e.status}: {e.detail}") from None
            except ModelUnreachable:
                if attempt < self.retries and time.monotonic() + 1 < deadline:
                    attempt += 1
                    time.sleep(0.5 * attempt)
                    continue
                raise

    def _request(self, body: dict[str, Any], structured: bool, start: float, deadline: float,
                 on_text: Callable[[str], None] | None) -> Completion:
        url = f"{self.base_url}/chat/completions"
        pieces: list[str] = []
        first_ms: float | None = None
        finish: str | None = None
        try:
            with httpx.stream("POST", url, json=body, headers=self._headers(),
                              timeout=self._timeouts(max(0.1, deadline - time.monotonic()))) as r:
                if r.status_code != 200:
                    raise _Refused(r.status_code, _error_detail(r))
                if "text/event-stream" not in r.headers.get("content-type", ""):
                    # A server that ignores "stream": one JSON completion.
                    data = _json_or_none(b"".join(self._chunks(r, deadline)))
                    text, finish = _message_of(data, url)
                    if on_text and text:
                        on_text(text)
                    return Completion(text, structured, finish, (time.monotonic() - start) * 1000)
                for line in _lines(self._chunks(r, deadline)):
                    line = line.strip()
                    if not line or line.startswith(":") or line.startswith(("event:", "id:", "retry:")):
                        continue
                    if not line.startswith("data:"):
                        raise ModelBadResponse(f"the model server at {self.base_url} sent a line that is not a "
                                               f"server-sent event: {line[:80]!r}")
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    event = _json_or_none(payload.encode())
                    delta, reason = _delta_of(event, url)
                    finish = reason or finish
                    if delta:
                        if first_ms is None:
                            first_ms = (time.monotonic() - start) * 1000
                        pieces.append(delta)
                        if on_text:
                            on_text(delta)
        except httpx.TimeoutException as e:
            what = "connect" if isinstance(e, httpx.ConnectTimeout) else "answer"
            raise ModelTimeout(f"the model server at {self.base_url} did not {what} in time "
                               f"({'RAG_LLM_TIMEOUT' if what == 'answer' else 'connect timeout'})") from None
        except httpx.TransportError as e:
            if pieces:
                raise ModelBadResponse(f"the model server at {self.base_url} broke off its reply ({_reason(e)})") from None
            raise ModelUnreachable(f"cannot reach the model server at {self.base_url} ({_reason(e)})") from None
        except httpx.HTTPError as e:  # the rest: a body that cannot be decoded (bad gzip), too many redirects
            raise ModelBadResponse(f"the model server at {self.base_url} sent a reply that cannot be read "
                                   f"({type(e).__name__}: {_reason(e)})") from None
        return Completion("".join(pieces), structured, finish, first_ms)

    def _chunks(self, r: httpx.Response, deadline: float) -> Iterator[bytes]:
        """The response body as it arrives, checked against the deadline at every piece: httpx's
        read timeout starts again with each byte, so a server that drips bytes would otherwise
        hold the answer for ever. A server that goes silent is stopped by the read timeout, so
        a reply takes at most RAG_LLM_TIMEOUT plus that (30 s at most)."""
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if time.monotonic() > deadline:
                raise ModelTimeout(f"the model at {self.base_url} did not finish within {self.timeout:g} s "
                                   f"(RAG_LLM_TIMEOUT)")
            if size > MAX_REPLY_BYTES:
                raise ModelBadResponse(f"the model server at {self.base_url} sent more than "
                                       f"{MAX_REPLY_BYTES // 1_000_000} MB for one reply")
            yield chunk


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines of a server-sent event stream (UTF-8; "\n", "\r\n" or "\r" ends a line)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *done, pending = re.split(r"\r\n|\r|\n", pending)  # a "\r\n" split across pieces: one empty line more
        yield from done
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)
        self.status, self.detail = status, detail


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) < 120 else text[:117] + "…"


def _error_detail(r: httpx.Response) -> str:
    raw = r.read()[:2000]
    data = _json_or_none(raw, strict=False)
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:200]
        if isinstance(err, str):
            return err[:200]
    return raw.decode("utf-8", "replace")[:200] or "(empty body)"


def _json_or_none(raw: bytes, strict: bool = True) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        if strict:
            raise ModelBadResponse(f"the model server sent something that is not JSON: "
                                   f"{raw[:80].decode('utf-8', 'replace')!r}") from None
        return None


def _delta_of(event: Any, url: str) -> tuple[str, str | None]:
    """(content piece, finish_reason) of one streamed chunk."""
    if isinstance(event, dict) and "error" in event:
        raise ModelBadResponse(f"the model server reported an error mid-answer: {str(event['error'])[:200]}")
    try:
        choices = event["choices"]
        if not choices:  # usage-only chunks (OpenAI's stream_options) carry no choice
            return "", None
        choice = choices[0]
        content = (choice.get("delta") or {}).get("content") or ""
        if not isinstance(content, str):
            raise TypeError("content is not text")
        return content, choice.get("finish_reason")
    except (KeyError, TypeError, IndexError, AttributeError):
        raise ModelBadResponse(f"{url} streamed a chunk that is not a chat completion chunk: "
                               f"{json.dumps(event)[:120]}") from None


def _message_of(data: Any, url: str) -> tuple[str, str | None]:
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"] or ""
        if not isinstance(content, str):
            raise TypeError("content is not text")
        return content, choice.get("finish_reason")
    except (KeyError, TypeError, IndexError):
        raise ModelBadResponse(f"{url} answered with JSON that is not a chat completion: "
                               f"{json.dumps(data)[:120]}") from None
