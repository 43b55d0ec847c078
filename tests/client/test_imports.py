"""client/ stays a thin layer every caller can take: it imports the standard library, httpx,
pydantic and the kernel (noderr), never a service (backend, indexer, dashboard, ...). The ML
service's contract (client/volatility.proto, its generated code and client/forecasts.py) speaks
gRPC, so those modules may also import grpc and protobuf; nothing else in client/ imports
them, so the backend's HTTP callers never load gRPC."""

from __future__ import annotations

import ast
import sys

from noderr.settings import REPO_ROOT

ALLOWED = {"client", "noderr", "httpx", "pydantic"}
GRPC = {"grpc", "google"}
GRPC_MODULES = ("grpc_code.py", "forecasts.py", "volatility_pb2.py", "volatility_pb2_grpc.py")


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
                                   - (GRPC if path.name in GRPC_MODULES else set())
                                   - set(sys.stdlib_module_names))
                 for path in (REPO_ROOT / "client").rglob("*.py")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_importing_the_http_client__loads_no_grpc():
    import subprocess

    script = ("import sys, client, client.clients, client.models, client.endpoints\n"
              "print('grpc' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=REPO_ROOT).stdout.strip()
    assert out == "False"
