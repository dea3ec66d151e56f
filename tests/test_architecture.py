"""The dependency rules of the code base, checked on the source (STYLE.md, issue on seams).

- `rag` never imports `ui` (dependencies run ui -> rag);
- no import cycles among the modules of rag and ui, counting imports inside functions too
  (a package importing its own submodules to re-export them is not a cycle);
- importing `rag` loads no model runtime (checked in tests/test_cli.py for torch and FAISS).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules() -> dict[str, Path]:
    out = {}
    for package in ("rag", "ui"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path, known: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {d for d in _imports(path, set(modules)) if d != name and not d.startswith(name + ".")}
            for name, path in modules.items()}


def test_rag_never_imports_ui():
    offenders = sorted(f"{a} -> {b}" for a, deps in _graph().items() if a.startswith("rag") for b in deps
                       if b == "ui" or b.startswith("ui."))
    assert not offenders, offenders


def test_no_import_cycles():
    graph = _graph()
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles
