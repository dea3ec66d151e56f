"""Calling a Gradio event the way the browser does: POST /gradio_api/queue/join, then read the
server-sent events of /gradio_api/queue/data until the event completes.

Raw HTTP on purpose: the security tests replay requests a browser would never send (a FileData
that names a server path), which gradio_client does not let us build.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx


def event_of(http: httpx.Client, fn_name: str) -> tuple[int, int]:
    """(fn_index, trigger component id) of the Gradio event that runs the function `fn_name`
    (Gradio's config names every event after its function, private ones too)."""
    for i, dep in enumerate(http.get("/config").json()["dependencies"]):
        if dep.get("api_name") == fn_name:
            return dep.get("id", i), dep["targets"][0][0]
    raise LookupError(f"no Gradio event runs {fn_name!r}")


def call(http: httpx.Client, fn_index: int, data: list[Any], trigger_id: int | None = None,
         timeout: float = 120.0) -> dict[str, Any]:
    """Join the queue with `data` and return the final message (`process_completed`), or the
    HTTP error of the join itself as {"http_status": ..., "body": ...}."""
    session = uuid.uuid4().hex[:11]
    # json.dumps escapes what httpx's encoder would refuse (a lone surrogate is sent as \\ud800).
    body = json.dumps({"data": data, "event_data": None, "fn_index": fn_index, "trigger_id": trigger_id,
                       "session_hash": session})
    r = http.post("/gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
    if r.status_code != 200:
        return {"http_status": r.status_code, "body": r.text}
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session},
                     timeout=timeout) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") in ("process_completed", "unexpected_error"):
                return message
    raise RuntimeError("the event stream ended without process_completed")


def messages(http: httpx.Client, fn_index: int, data: list[Any], trigger_id: int | None = None,
             timeout: float = 120.0) -> list[dict[str, Any]]:
    """Every message of one event, in order (a generator's intermediate outputs are
    `process_generating`), ending with `process_completed`."""
    session = uuid.uuid4().hex[:11]
    body = json.dumps({"data": data, "event_data": None, "fn_index": fn_index, "trigger_id": trigger_id,
                       "session_hash": session})
    r = http.post("/gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
    r.raise_for_status()
    out: list[dict[str, Any]] = []
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=timeout) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                out.append(json.loads(line[5:]))
                if out[-1].get("msg") in ("process_completed", "unexpected_error"):
                    return out
    raise RuntimeError("the event stream ended without process_completed")
