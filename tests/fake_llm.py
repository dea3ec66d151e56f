"""A small OpenAI-compatible HTTP server whose replies a test scripts: for the failures a real
model server shows only now and then (down, slow, garbage, refusing structured output) and for
exact replies the verifier must accept or reject.

Real HTTP on 127.0.0.1 (http.server on a thread), so the client under test runs its whole path:
connect, status, headers, server-sent events. `behaviour(request_json) -> Reply` decides each
answer; every request body is kept in `requests`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    text: str = ""  # the content, streamed in pieces as server-sent events
    status: int = 200
    raw: bytes | None = None  # sent as is instead (garbage), with `content_type`
    content_type: str = "text/event-stream"
    delay_s: float = 0.0  # before the status line
    stall_s: float = 0.0  # after the first piece
    headers: dict[str, str] = field(default_factory=dict)  # more headers with `raw` ("content-encoding")
    drip_s: float = 0.0  # `raw` one byte at a time, this long apart (each byte restarts a read timeout)


@dataclass
class FakeLLM:
    behaviour: Callable[[dict[str, Any]], Reply] = lambda request: Reply("")
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode(),
                               "application/json")
                else:
                    self._send(404, b'{"error": "not found"}', "application/json")

            def do_POST(self) -> None:
                try:
                    self._post()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to tell it

            def _post(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    request = json.loads(body)
                except ValueError:
                    request = {}
                fake.requests.append(request)
                reply = fake.behaviour(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.raw is not None or reply.status != 200:
                    self._send(reply.status, reply.raw or b'{"error": {"message": "scripted failure"}}',
                               reply.content_type if reply.raw is not None else "application/json",
                               reply.headers, reply.drip_s)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                pieces = re.findall(r"\S+\s*|\s+", reply.text) or [""]
                for i, piece in enumerate(pieces):
                    chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if i == 0 and reply.stall_s:
                        time.sleep(reply.stall_s)
                done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None,
                      drip_s: float = 0.0) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if not drip_s:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(drip_s)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def numbered(request: dict[str, Any]) -> dict[int, str]:
    """The numbered sentences of the request's user message: {n: text}."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\[(\d+)\] (.*)$", user, re.M)}


def number_of(request: dict[str, Any], words: str) -> int:
    """The number of the shown sentence that contains `words`."""
    return next(n for n, text in numbered(request).items() if words in text)
