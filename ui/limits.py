"""Bounds on what requests may cost the server: body size, and how many questions may wait.

`BodyLimit` is ASGI middleware around the whole server (the JSON API and the mounted Gradio
app), so a body is refused before any parser holds it: by its Content-Length when there is
one, else by counting bytes as they arrive. Uploads get a larger limit than everything else.
The answer is always JSON `{"error": ...}` with status 413, even when the refusal happens
inside Gradio's own sub-application (its 500 for the aborted read is replaced by our 413).

"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MB = 1_000_000


def json_response_messages(status: int, payload: dict[str, Any],
                           headers: dict[str, str] | None = None) -> list[Message]:
    body = json.dumps(payload).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return [{"type": "http.response.start", "status": status, "headers": raw},
            {"type": "http.response.body", "body": body}]


async def drain(receive: Receive) -> None:
    """Read and drop the rest of a request body."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class BodyTooLarge(Exception):
    """Raised from `receive` when the body passes its limit; BodyLimit turns it into a 413."""


class BodyLimit:
    """ASGI middleware: 413 JSON for a request body over its limit.

    `upload_paths`: path prefixes of multipart upload routes, which get `upload_limit`; every
    other request gets `limit`.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    def limit_for(self, path: str) -> int:
        return self.upload_limit if path.startswith(self.upload_paths) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        message = (f"request body is over the {limit / MB:g} MB limit for {scope['method']} "
                   f"{scope['path']}")
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send, message)
            return
        received = 0
        over = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, over
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(message)
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal refused
            if over:  # whatever the app answers to the aborted read, the client gets our 413
                if not refused:
                    refused = True
                    await self._refuse(send, message)
                return
            await send(msg)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not over:
                raise
        if over and not refused:
            await self._refuse(send, message)

    @staticmethod
    async def _refuse(send: Send, message: str) -> None:
        # The unread rest of the body makes the connection unusable for another request.
        for m in json_response_messages(413, {"error": message}, {"connection": "close"}):
            await send(m)


class Admission:
    """ASGI middleware: at most `limit` question requests in the server at once (running or
    waiting for a worker thread); past that, 503 with Retry-After at once.

    Why a bound and not a queue: answering is CPU work (~15-20 ms a question on 2 cores), so
    when questions arrive faster than that, an unbounded queue only grows and every answer
    gets later, for everyone. A full server that says so at once lets a client back off or go
    elsewhere, and keeps the latency of the questions it does take predictable. The figures
    (benchmarks/load.py) are in the README. `limit` <= 0 turns the bound off.
    """

    def __init__(self, app: ASGIApp, limit: int, paths: tuple[str, ...], retry_after_s: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths
        self.retry_after_s = retry_after_s
        self.inside = 0  # only touched on the event loop's thread: no lock needed
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        if self.inside >= self.limit:
            self.refused += 1
            # Read the (small: BodyLimit runs first) body, so the connection stays usable for the
            # client's next request; an unread body makes the server drop the kept-alive
            # connection, and a client that already reused it sees a reset.
            await drain(receive)
            for m in json_response_messages(
                    503, {"error": f"the server is answering {self.inside} questions, its limit; "
                                   f"retry in {self.retry_after_s} s"},
                    {"retry-after": str(self.retry_after_s)}):
                await send(m)
            return
        self.inside += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inside -= 1
