"""A tiny real HTTP server on a free local port, answering canned responses by path (and
echoing what it was sent), and a send fixture that runs one Call through the blocking and
through the asyncio client alike."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from client import AsyncBackendClient, BackendClient, Call

SLOW_SECONDS = 0.5
HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
VALIDATION = {"detail": [{"type": "missing", "loc": ["body", "note"], "msg": "Field required",
                          "input": None},
                         {"type": "int_parsing", "loc": ["query", "limit"],
                          "msg": "Input should be a valid integer", "input": "x"}]}
NOT_READY = {"status": "not ready", "head_block": 40, "indexed_block": 12,
             "checks": {"database": "ok", "rpc": "ok", "indexer": "28 blocks behind (limit 8)"},
             "caller_cache": "on"}
ME = {"address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "roles": ["MINTER_ROLE"],
      "indexed_block": 17, "licenses": [{"token_id": 2**200, "node_type": 3, "status": "active",
                                         "application_id": "0x" + "ab" * 32,
                                         "minted_block": 9}]}
NODE = {"address": ME["address"], "indexed_block": 17,
        "licenses": [{**ME["licenses"][0], "node_type_name": "Validator"}]}
SECRET = {"token_id": 7, "name": "binance", "version": 2,
          "created_at": "2026-11-26T12:00:00.000123+00:00",
          "created_by": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
          "data": {"api_key": "k", "api_secret": "s"}}
SECRETS = {"token_id": 7, "secrets": [
    {"name": "binance", "latest_version": 2, "versions": 2,
     "created_at": "2026-11-26T12:00:00+00:00", "updated_at": "2026-11-26T12:05:00+00:00"}]}
EXECUTIONS = {"next_cursor": "abc", "items": [
    {"id": 3, "address": ME["address"], "node_type": 1, "node_type_name": "Oracle",
     "token_id": 2**200, "function": "compute_twap", "started_at": "2026-11-26T12:00:00Z",
     "duration_ms": 0.5, "outcome": "error", "error": "ValueError: x"}]}
MEMBERS = {"indexed_block": 17, "members": [{"address": ME["address"], "node_type": 3,
                                             "token_id": 1}]}
WATCH = {"address": ME["address"], "indexed_block": 17, "licenses": [
    {"token_id": 2, "node_type": 1, "node_type_name": "Oracle", "status": "suspended"}]}
ROUTES: dict[str, tuple[int, str, str]] = {
    "/ok": (200, "application/json", json.dumps({"nonce": "abc"})),
    "/auth/me": (200, "application/json", json.dumps(ME)),
    "/forbidden": (403, "application/json",
                   json.dumps({"detail": "0xabc holds none of MINTER_ROLE"})),
    "/validation": (422, "application/json", json.dumps(VALIDATION)),
    "/crash": (500, "text/plain", "Internal Server Error"),
    "/gateway": (502, "text/html", HTML),
    "/unavailable": (503, "application/json",
                     json.dumps({"detail": "the mirror lags 12 blocks behind the chain"})),
    "/empty": (500, "text/plain", ""),
    "/portal": (200, "text/html", "<html><body>Sign in to the hotel wifi</body></html>"),
    "/maintenance": (503, "text/html", "<html><body>Down for maintenance</body></html>"),
    "/auth/logout": (204, "application/json", ""),
    "/nodes/me": (200, "application/json", json.dumps(NODE)),
    "/vault/licenses/7/secrets/binance": (200, "application/json", json.dumps(SECRET)),
    "/vault/licenses/7/secrets": (200, "application/json", json.dumps(SECRETS)),
    "/readyz": (503, "application/json", json.dumps(NOT_READY)),
    "/network/executions": (200, "application/json", json.dumps(EXECUTIONS)),
    "/network/members": (200, "application/json", json.dumps(MEMBERS)),
    "/nodes/me/watch": (200, "application/json", json.dumps(WATCH)),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/slow":
            time.sleep(SLOW_SECONDS)
            self.send(200, "application/json", json.dumps({"nonce": "late"}))
        elif path == "/echo":
            self.send(200, "application/json", json.dumps({
                "method": self.command, "query": query, "body": self.body(),
                "authorization": self.headers.get("Authorization")}))
        else:
            self.send(*ROUTES[path])

    do_POST = do_PUT = do_DELETE = do_GET

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def send(self, status: int, kind: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def serve() -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd, url = serve()
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def stopped_server() -> str:
    """The address of a server that has just stopped: connections are refused."""
    httpd, url = serve()
    httpd.shutdown()
    httpd.server_close()
    return url


Send = Callable[..., Any]


def send_blocking(base_url: str, call: Call[Any], token: str | None = None) -> Any:
    with BackendClient(base_url, token=token) as client:
        return client.call(call)


def send_async(base_url: str, call: Call[Any], token: str | None = None) -> Any:
    async def go() -> Any:
        async with AsyncBackendClient(base_url, token=token) as client:
            return await client.call(call)

    return asyncio.run(go())


@pytest.fixture(params=[send_blocking, send_async], ids=["sync", "async"])
def send(request: pytest.FixtureRequest) -> Send:
    """Send one Call with a fresh client, blocking or asyncio: both must behave the same."""
    return request.param
