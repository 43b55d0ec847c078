"""client/ stays a thin layer every caller can take: it imports the standard library, httpx,
pydantic and the kernel (noderr), never a service (backend, indexer, dashboard, ...)."""

from __future__ import annotations

import ast
import sys

from noderr.settings import REPO_ROOT

ALLOWED = {"client", "noderr", "httpx", "pydantic"}


def imported(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_client_sources__import_only_stdlib_httpx_pydantic_and_kernel():
    offenders = {path.name: sorted(imported(path.read_text()) - ALLOWED
                                   - set(sys.stdlib_module_names))
                 for path in (REPO_ROOT / "client").rglob("*.py")}
    assert {name: found for name, found in offenders.items() if found} == {}
