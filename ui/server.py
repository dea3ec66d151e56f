"""The server: the chat and the JSON API on one FastAPI app, with the guards every request passes.

`create_app` mounts the Gradio page (`ui.app`) on the API app (`ui.api`) and wraps both in
the middleware of `ui.auth` and `ui.limits`; `serve` runs it with uvicorn, `ServerThread` on
a background thread (tests, notebooks). Settings of the server, not of the library, come
from the environment here: RAG_UI_USERNAME / RAG_UI_PASSWORD and RAG_UI_MAX_QUESTIONS.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Mapping

import gradio as gr
from fastapi import FastAPI

from rag.assistant import Assistant
from rag.errors import InputError
from ui.api import MAX_UPLOAD_FILES, Credentials, create_api
from ui.app import CSS, PAGE_HEAD, build_blocks, theme
from ui.auth import RequireLogin, gradio_session_user
from ui.limits import MB, Admission, BodyLimit
from ui.uploads import Inbox

MAX_JSON_BODY = 4 * MB  # 40 history turns of 10,000 characters fit (2.4 MB even \\u-escaped)
# Questions in the server at once (RAG_UI_MAX_QUESTIONS): two per core keeps both busy; more
# only queue inside the server and make every answer later (ui.limits.Admission, README).
MAX_QUESTIONS = 2 * (os.cpu_count() or 1)


def credentials_from_env(env: Mapping[str, str] | None = None) -> Credentials | None:
    """(user, password) from RAG_UI_USERNAME / RAG_UI_PASSWORD; both or neither."""
    env = os.environ if env is None else env
    user, password = env.get("RAG_UI_USERNAME", ""), env.get("RAG_UI_PASSWORD", "")
    if bool(user) != bool(password):
        raise InputError("set both RAG_UI_USERNAME and RAG_UI_PASSWORD, or neither")
    return (user, password) if user else None


def max_questions_from_env(env: Mapping[str, str] | None = None) -> int:
    """RAG_UI_MAX_QUESTIONS (default MAX_QUESTIONS; 0 = no bound)."""
    env = os.environ if env is None else env
    value = env.get("RAG_UI_MAX_QUESTIONS", "").strip()
    if not value:
        return MAX_QUESTIONS
    try:
        return int(value)
    except ValueError:
        raise InputError(f"RAG_UI_MAX_QUESTIONS={value!r} is not a whole number") from None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_bind(host: str, credentials: Credentials | None) -> None:
    """Refuse to serve beyond this machine without a password."""
    if not is_loopback(host) and credentials is None:
        raise InputError(f"refusing to serve on {host} without a password: anyone who can reach it could read "
                         "and change the index. Set RAG_UI_USERNAME and RAG_UI_PASSWORD, or use --host 127.0.0.1")


def create_app(assistant: Assistant, uploads_dir: Path | None = None,
               credentials: Credentials | None = None, max_questions: int = MAX_QUESTIONS) -> FastAPI:
    """The FastAPI app: /api routes, OpenAPI docs at /docs, the chat at /.

    `max_questions`: questions (/api/ask, /api/search, /v1/chat/completions) in the server at once before it answers
    503 + Retry-After (ui.limits.Admission); 0 = no bound.
    """
    inbox = Inbox(assistant, uploads_dir)
    app = create_api(assistant, inbox, credentials)
    blocks = build_blocks(assistant, inbox)
    gr.mount_gradio_app(
        app, blocks, path="/", auth=credentials,
        auth_message="This index is password protected." if credentials else None,
        footer_links=["api", "settings"], run_history=False, ssr_mode=False, mcp_server=False, pwa=False,
        enable_monitoring=False, max_file_size=inbox.max_bytes, theme=theme(), css=CSS, head=PAGE_HEAD)
    # Gradio checks that a file named in an event's input was uploaded through Gradio (it lies in
    # its upload cache) only once the Blocks have "launched" (processing_utils._check_allowed
    # returns early otherwise), and mount_gradio_app never sets that flag. Without it any chat
    # user could name a server file in the upload step's FileData and have it ingested and
    # quoted. launch() and Gradio's own reload mode set the same flag; nothing else reads it.
    blocks.has_launched = True
    # Middleware added later runs earlier: RequireLogin, then BodyLimit, then Admission.
    app.add_middleware(Admission, limit=max_questions, paths=("/api/ask", "/api/search", "/v1/chat/completions"))
    # Questions, history and Gradio events are small; a body past this is refused unread.
    app.add_middleware(BodyLimit, limit=MAX_JSON_BODY, upload_limit=MAX_UPLOAD_FILES * inbox.max_bytes + MB,
                       upload_paths=("/api/documents", "/gradio_api/upload"))
    if credentials is not None:  # added last, so it runs first: no credentials, no body read
        app.add_middleware(RequireLogin, credentials=credentials, session_user=gradio_session_user(gradio_app(app)))
    return app


def gradio_app(app: FastAPI) -> Any:
    """The Gradio application that mount_gradio_app mounted on `app` (it keeps the login tokens)."""
    from gradio.routes import App
    from starlette.routing import Mount

    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, App):
            return route.app
    raise RuntimeError("no Gradio app is mounted on this FastAPI app")


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Run the chat and the API until interrupted (blocking)."""
    import uvicorn

    credentials = credentials_from_env()
    check_bind(host, credentials)
    check_port(host, port)
    app = create_app(assistant, credentials=credentials, max_questions=max_questions_from_env())
    # Load the index and the model now, so the first question is not the slow one.
    if assistant.snapshot is not None:
        assistant.warm_up()
    print(f"rag: chat at http://{host}:{port}/  ·  API docs at http://{host}:{port}/docs", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


class ServerThread:
    """The same server on a background thread: for tests, notebooks and embedding in other programs.

    >>> with ServerThread(create_app(assistant)) as url:     # doctest: +SKIP
    ...     httpx.post(f"{url}/api/ask", json={"question": "..."})
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        # Open event streams (a browser tab, a gradio_client heartbeat) must not hold up stop().
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, name=f"rag-ui-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_port(host: str, port: Any) -> None:
    """InputError unless `port` is one this server can listen on now: checked before the models
    load and the address is printed (else --port 99999 was a traceback, and a port in use was
    uvicorn's message after "chat at http://..." had been printed)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(f"--port must be a number from 1 to 65535, got {port!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as e:
            raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e} (another server there? "
                             "choose another --port)") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
