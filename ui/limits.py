"""Bounds on what one request may cost the server: body size, and how many questions may wait.

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
