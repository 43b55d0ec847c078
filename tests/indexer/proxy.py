"""A JSON-RPC proxy that injects faults between the indexer and anvil."""

from __future__ import annotations

import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson


class FaultProxy:
    """Forwards POSTs to `upstream`; a seeded share of them fails in one of several ways."""

    def __init__(self, upstream: str, seed: int, rate: float = 0.35,
                 max_log_range: int = 4) -> None:
        self.upstream, self.rate, self.max_log_range = upstream, rate, max_log_range
        self.rng, self.lock = random.Random(seed), threading.Lock()
        self.faults: dict[str, int] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def choose(self) -> str:
        with self.lock:
            if self.rng.random() >= self.rate:
                return "pass"
            fault = self.rng.choice(["drop", "delay", "429", "503", "rpc-error", "garbage"])
            self.faults[fault] = self.faults.get(fault, 0) + 1
            return fault

    def too_many(self, payload: object) -> bytes | None:
        """eth_getLogs over `max_log_range` blocks: Infura's answer, with a suggested range."""
        if not isinstance(payload, dict) or payload.get("method") != "eth_getLogs":
            return None
        query = payload["params"][0]
        first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        if last - first < self.max_log_range:
            return None
        with self.lock:
            self.faults["too-many"] = self.faults.get("too-many", 0) + 1
        message = (f"query returned more than 10000 results. Try with this block range "
                   f"[{hex(first)}, {hex(first + self.max_log_range - 1)}].")
        return orjson.dumps({"jsonrpc": "2.0", "id": payload["id"],
                             "error": {"code": -32005, "message": message}})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                fault = proxy.choose()
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault in ("429", "503"):
                    self._send(int(fault), b"busy")
                    return
                payload = orjson.loads(body)
                if fault == "rpc-error":
                    ident = payload.get("id") if isinstance(payload, dict) else None
                    self._send(200, orjson.dumps({"jsonrpc": "2.0", "id": ident, "error": {
                        "code": -32603, "message": "internal error"}}))
                    return
                if fault == "garbage":
                    self._send(200, b"<html>bad gateway</html>")
                    return
                if fault == "delay":
                    time.sleep(0.2)
                answer = proxy.too_many(payload) or httpx.post(
                    proxy.upstream, content=body,
                    headers={"content-type": "application/json"}).content
                self._send(200, answer)

            def _send(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler
