"""Who may reach what when a password is set: nothing answers without credentials but the login page.

Gradio guards most of its routes with its login cookie, but not all of them (heartbeat, cancel,
reset, the stream routes, ...), and FastAPI's /docs, /redoc and /openapi.json have no guard at
all. Rather than patching routes one by one, `RequireLogin` sits in front of the whole server
and refuses (401, JSON) every request that carries neither valid HTTP Basic credentials nor a
valid Gradio login cookie, except the few paths the login page itself needs: its HTML, its
scripts and styles, and the login POST. A route that a future Gradio version adds is closed
until it is listed here (tests/test_ui_security.py walks every route to check this).

The JSON API, the docs and the OpenAPI schema take HTTP Basic only; the OpenAI-compatible /v1
also takes the password as a Bearer token, because that is the only way OpenAI clients can send
a secret (their "API key"). A cookie is sent by the
browser with any request to this host, including a form another web site posts to /api, so
accepting it there would let that site act as the logged-in user (CSRF). The chat's own routes
take Gradio's cookie (its login form) or Basic.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any, Callable

from ui.limits import ASGIApp, Receive, Scope, Send, json_response_messages

Credentials = tuple[str, str]

# The login page: the HTML at "/", Gradio's built scripts and styles, the login form's POST.
PUBLIC_PATHS = {"/", "/login", "/login/", "/logout", "/theme.css", "/favicon.ico", "/robots.txt",
                "/manifest.json", "/config", "/config/"}
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/")
# Reached with HTTP Basic only (see the module docstring).
BASIC_ONLY_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/docs-static/", "/v1/")
# ... of which these also take `Authorization: Bearer <password>` (OpenAI clients' API key).
BEARER_PREFIXES = ("/v1/",)


def is_public(path: str) -> bool:
    """True for the paths the login page loads before anyone has logged in.

    /config is listed because Gradio answers it itself: with its login check, 401 until the
    browser holds the cookie, which is how the page knows to show the login form.
    """
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def basic_matches(header: bytes | None, credentials: Credentials) -> bool:
    """True when an `Authorization: Basic ...` header carries exactly `credentials`."""
    if not header or not header[:6].lower() == b"basic ":
        return False
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Both compared every time, in constant time, so timing does not tell which one was wrong.
    return bool(secrets.compare_digest(user.encode(), credentials[0].encode())
                & secrets.compare_digest(password.encode(), credentials[1].encode()))


def bearer_matches(header: bytes | None, credentials: Credentials) -> bool:
    """True when an `Authorization: Bearer ...` header carries the password (in constant time)."""
    if not header or not header[:7].lower() == b"bearer ":
        return False
    return secrets.compare_digest(header[7:].strip(), credentials[1].encode())


def cookie_values(header: bytes | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (header or b"").decode("latin-1").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name] = value
    return out


class RequireLogin:
    """ASGI middleware: 401 JSON for any request without credentials, but the login page.

    `session_user(cookies) -> str | None` says whom a Gradio login cookie belongs to.
    """

    def __init__(self, app: ASGIApp, credentials: Credentials,
                 session_user: Callable[[dict[str, str]], Any]) -> None:
        self.app = app
        self.credentials = credentials
        self.session_user = session_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        path = scope["path"]
        basic_only = path.startswith(BASIC_ONLY_PREFIXES)
        # The Basic challenge makes a browser ask for the password on /docs; the chat's own
        # scripts get a plain 401 (a challenge there would pop a dialog over the login form).
        headers = {"www-authenticate": 'Basic realm="rag"'} if basic_only else {}
        headers["connection"] = "close"  # the body is not read: this connection cannot carry another request
        message = ("this server needs a user name and password (HTTP Basic)" if basic_only
                   else "log in first: this index is password protected")
        for m in json_response_messages(401, {"error": message}, headers):
            await send(m)

    def allowed(self, scope: Scope) -> bool:
        path = scope["path"]
        if is_public(path):
            return True
        headers = dict(scope.get("headers") or [])
        if basic_matches(headers.get(b"authorization"), self.credentials):
            return True
        if path.startswith(BEARER_PREFIXES) and bearer_matches(headers.get(b"authorization"), self.credentials):
            return True
        if path.startswith(BASIC_ONLY_PREFIXES):
            return False
        return self.session_user(cookie_values(headers.get(b"cookie"))) is not None


def gradio_session_user(gradio_app: Any) -> Callable[[dict[str, str]], Any]:
    """Whom a request's Gradio login cookie belongs to (None: not logged in), read from the
    mounted Gradio app the way its own `get_current_user` reads it."""

    def user(cookies: dict[str, str]) -> Any:
        token = (cookies.get(f"access-token-{gradio_app.cookie_id}")
                 or cookies.get(f"access-token-unsecure-{gradio_app.cookie_id}"))
        return gradio_app.tokens.get(token) if token else None

    return user
