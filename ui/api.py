"""The JSON API: the same core calls as the chat, over HTTP, on the same server.

    POST   /api/ask               {"question", "k"?, "history"?, "mode"?, "llm"?, "stream"?}
                                  -> Answer.to_dict(); with "stream": server-sent events
                                     (`draft` pieces, then `answer`, or `error`)
    POST   /api/search            {"query", "k"?, "mode"?}                -> [Hit.to_dict(), ...]
    GET    /api/documents                                                 -> [document, ...]
    POST   /api/documents         multipart field "files" (one or more)   -> IngestReport.to_dict()
    POST   /api/documents/url     {"url"}: fetch a web page and ingest it -> IngestReport.to_dict()
    DELETE /api/documents/{id}    ids may contain "/"                     -> {"removed": id}
    GET    /api/health                                                    -> status, counts, model
    POST   /v1/chat/completions   OpenAI-compatible (ui/openai_api.py)
    GET    /v1/models

Every error is JSON `{"error": "..."}` with a 4xx status: 400 for bad input (the core's
`InputError` message), 404 for an unknown document, 409 when there is no usable index yet,
503 when the vector engine (a Milvus server) does not answer,
422 for a malformed request body, 413 for a body or file over its limit, 401 without the
password when one is set, 500 (still JSON) for a bug. A rejected
request never changes the index.

Handlers are plain `def` functions, so FastAPI runs them in its threadpool: a long ingest
does not block questions, and a question sees either the old or the new index snapshot
(`Assistant` swaps immutable snapshots).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.assistant import Assistant
from rag.errors import BackendError, CorruptIndexError, IndexMismatchError, IndexNotFoundError, RagError
from rag.inputs import size_text
from ui.openai_api import openai_router
from ui.streaming import SSE_HEADERS, answer_events, sse_answer
from ui.uploads import Inbox, Upload

Credentials = tuple[str, str]
MAX_UPLOAD_FILES = 10  # per request; with RAG_MAX_FILE_MB this bounds an upload's body


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    k: StrictInt | None = None
    history: list[Any] | None = None
    mode: str | None = None
    llm: StrictBool = False  # answer in a language model's words, each sentence verified (RAG_LLM_URL)
    stream: StrictBool = False  # server-sent events: the model's draft as it is written, then the answer


class UrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    k: StrictInt | None = None
    mode: str | None = None


def status_for(error: RagError) -> int:
    if isinstance(error, (IndexNotFoundError, IndexMismatchError, CorruptIndexError)):
        return 409  # the request is fine; the server's index is missing or unusable
    if isinstance(error, BackendError):
        return 503  # the request is fine; the vector engine (a Milvus server) is not answering
    return 400


def _error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # loc is ("body", character offset): say so
            at = err.get("loc", (None, None))[-1]
            parts.append(f"the request body is not valid JSON ({err.get('ctx', {}).get('error', 'invalid')}"
                         + (f" at character {at})" if isinstance(at, int) else ")"))
            continue
        where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def require_credentials(credentials: Credentials | None):
    """A dependency that checks HTTP Basic credentials when a password is configured."""
    basic = HTTPBasic(auto_error=False)

    def check(given: HTTPBasicCredentials | None = Depends(basic)) -> None:
        if credentials is None:
            return
        user, password = credentials
        ok = given is not None and (
            secrets.compare_digest(given.username.encode(), user.encode())
            & secrets.compare_digest(given.password.encode(), password.encode()))
        if not ok:
            raise HTTPException(401, "this server needs a user name and password (HTTP Basic)",
                                headers={"WWW-Authenticate": 'Basic realm="rag"'})

    return check


def api_router(assistant: Assistant, inbox: Inbox, credentials: Credentials | None = None) -> APIRouter:
    # Without a password there is no Basic dependency at all: an open server must not answer a
    # stray (or malformed) Authorization header with 401, nor declare security in its schema.
    guard = [Depends(require_credentials(credentials))] if credentials is not None else []
    router = APIRouter(prefix="/api", dependencies=guard)

    @router.post("/ask", summary="Answer a question with citations (same JSON as `rag ask --json`)",
                 description="With `\"llm\": true` a language model writes the answer (RAG_LLM_URL) and every "
                             "sentence is checked against its citation. With `\"stream\": true` the response is "
                             "server-sent events: `draft` events (`{\"text\": piece}`) while the model writes, "
                             "then one `answer` event with the full answer JSON, or an `error` event.")
    def ask(req: AskRequest) -> Any:
        if not req.stream:
            return assistant.ask(req.question, k=req.k, history=req.history, mode=req.mode, llm=req.llm).to_dict()
        # Checked before the stream starts: a bad request is a 4xx, not an event.
        assistant.check_ask(req.question, k=req.k, history=req.history, mode=req.mode, llm=req.llm)
        events = answer_events(assistant, req.question, k=req.k, history=req.history, mode=req.mode, llm=req.llm)
        return StreamingResponse(sse_answer(events), media_type="text/event-stream", headers=SSE_HEADERS)

    @router.post("/search", summary="The best passages for a query")
    def search(req: SearchRequest) -> list[dict[str, Any]]:
        return [h.to_dict() for h in assistant.search(req.query, k=req.k, mode=req.mode)]

    @router.get("/documents", summary="The indexed documents (empty list when there is no index)")
    def documents() -> list[dict[str, Any]]:
        return assistant.documents() if assistant.snapshot is not None else []

    @router.post("/documents", summary="Upload and ingest .txt, .md, .html, .pdf or .docx articles")
    async def upload(files: list[UploadFile] = File(..., description="one or more article files")) -> Any:
        if len(files) > MAX_UPLOAD_FILES:
            return _error(413, f"{len(files)} files in one upload; the limit is {MAX_UPLOAD_FILES}")
        uploads, rejected = [], []
        for f in files:
            name = f.filename or ""
            if f.size is not None and f.size > inbox.max_bytes:  # do not read a huge file into memory
                rejected.append(f"{name}: file is {size_text(f.size)}, over the "
                                f"{size_text(inbox.max_bytes)} limit (RAG_MAX_FILE_MB)")
                continue
            uploads.append(Upload(name, await f.read()))
        if rejected:
            return _error(413, "; ".join(rejected), rejected=rejected)
        report, rejected = await run_in_threadpool(inbox.ingest, uploads, all_or_nothing=True)
        if report is None:
            return _error(400, "; ".join(rejected), rejected=rejected)
        return report.to_dict()

    @router.post("/documents/url", summary="Fetch a web page (http/https) and ingest its article text")
    def ingest_url(req: UrlRequest) -> dict[str, Any]:
        # One URL: anything but an http(s) address, and a fetch that fails (timeout, size, type,
        # redirects), is an InputError -> 400. Never a path: that would read the server's files.
        return assistant.ingest_url(req.url).to_dict()

    @router.delete("/documents/{doc_id:path}", summary="Remove one document (and its uploaded copy)")
    def remove(doc_id: str) -> dict[str, str]:
        snap = assistant.require_snapshot()
        if doc_id not in snap.documents:
            raise HTTPException(404, f"no document {doc_id!r} in the index; GET /api/documents lists the ids")
        inbox.remove(doc_id)
        return {"removed": doc_id}

    @router.get("/health", summary="Status, index counts and embedding model")
    def health() -> dict[str, Any]:
        if assistant.snapshot is None:
            return {"status": "no_index", "index": str(assistant.folder.path), "documents": 0, "chunks": 0,
                    "model": assistant.embedder.model_id}
        stats = assistant.stats()
        return {"status": "ok", "index": stats["index"], "documents": stats["documents"],
                "chunks": stats["chunks"], "model": stats["model"]["id"], "updated_at": stats["updated_at"]}

    return router


def create_api(assistant: Assistant, inbox: Inbox, credentials: Credentials | None = None) -> FastAPI:
    """The FastAPI app with the /api routes and JSON errors; `ui.server` mounts the chat on it."""
    # /docs (Swagger UI) with its script and styles served from the fastapi-offline package under
    # /docs-static: FastAPI's own page loads them from a CDN, which fails offline and tells a
    # third party who reads the docs. Swagger UI's validator badge would call out too; it is off.
    # No /redoc: ReDoc fetches its logo from its vendor's CDN, and one docs page is enough.
    app = FastAPIOffline(title="rag: questions answered with citations",
                         description="Ask questions about your articles; every answer quotes its sources "
                                     "with character offsets into the original files. The browser chat is at `/`.",
                         version="1", static_url="/docs-static", redoc_url=None,
                         swagger_ui_parameters={"validatorUrl": None})

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        return _error(status_for(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not bad input: still JSON, without internals; uvicorn logs the traceback.
        return _error(500, f"internal error ({type(exc).__name__}) while handling {request.method} "
                           f"{request.url.path}; the server log has the details")

    app.include_router(api_router(assistant, inbox, credentials))
    app.include_router(openai_router(assistant, credentials))
    return app


