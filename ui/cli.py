"""`rag serve`: the chat and the HTTP API, added to the `rag` command by the `ui` package.

Registered through the entry-point group `rag.commands` (pyproject.toml), so the library's CLI
never imports `ui`.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable


def add_serve_command(subparsers: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    sp = subparsers.add_parser("serve", help="start the chat UI and HTTP API")
    common(sp)
    sp.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=7860)
    sp.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from rag.cli import assistant_from_args
    from ui.server import serve

    serve(assistant_from_args(args), host=args.host, port=args.port)
    return 0
