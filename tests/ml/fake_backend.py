"""A stand-in for the backend's GET /nodes/me, speaking exactly its answers: 200 with the
caller's active licenses, 401 without a valid session, 403 without a license, 503 when the
mirror lags. A real HTTP server on 127.0.0.1, so the ML server's HTTP path is exercised."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from noderr.domain import NODE_TYPE_LABELS

ADDRESS = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
INDEXED_BLOCK = 42


def licenses(*node_types: int) -> dict:
    return {"address": ADDRESS, "indexed_block": INDEXED_BLOCK, "licenses": [
        {"token_id": index + 1, "node_type": node_type, "status": "active",
         "application_id": "0x" + f"{index + 1:064x}", "minted_block": INDEXED_BLOCK - 10,
         "node_type_name": NODE_TYPE_LABELS[node_type]}
        for index, node_type in enumerate(node_types)]}


ANSWERS: dict[str, tuple[int, dict]] = {
    "oracle": (200, licenses(1)),
    "guardian": (200, licenses(3, 2)),
    "validator": (200, licenses(3)),
    "unlicensed": (403, {"detail": f"{ADDRESS} holds no active license"}),
    "lagging": (503, {"detail": "the mirror lags the chain by 9 blocks"}),
}
SLOW = "slow"
SLOW_SECONDS = 1.5


class FakeBackend(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls: Counter[str] = Counter()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeBackend
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        self.server.calls[token] += 1
        if self.path != "/nodes/me":
            status, body = 404, {"detail": "Not Found"}
        elif token == SLOW:
            time.sleep(SLOW_SECONDS)
            status, body = ANSWERS["oracle"]
        elif scheme == "Bearer" and token in ANSWERS:
            status, body = ANSWERS[token]
        else:
            status, body = 401, {"detail": "session unknown, expired or revoked: sign in again"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)  # fails when the caller gave up (the deadline test)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fake_backend() -> Iterator[FakeBackend]:
    server = FakeBackend()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
