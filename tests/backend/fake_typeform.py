"""A local stand-in for Typeform's Responses API (GET /forms/{form_id}/responses), answering
in its documented format: newest first, `page_size`, `since`/`until`, `before=<token>`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _handler(form_id: str, token: str, items: list[dict[str, Any]], log: list[dict]) -> type:
    newest_first = sorted(items, key=lambda item: item["submitted_at"], reverse=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            log.append(query)
            if self.headers.get("Authorization") != f"Bearer {token}":
                return self._send(403, {"code": "AUTHENTICATION_FAILED",
                                        "description": "Authentication credentials not found"})
            if url.path != f"/forms/{form_id}/responses":
                return self._send(404, {"code": "FORM_NOT_FOUND", "description": "Not found"})
            return self._send(200, self._page(query))

        def _page(self, query: dict[str, str]) -> dict[str, Any]:
            selected = [item for item in newest_first
                        if query.get("since", "") <= item["submitted_at"]
                        and item["submitted_at"] <= query.get("until", "9999")]
            if "before" in query:
                index = next(i for i, item in enumerate(selected)
                             if item["token"] == query["before"])
                selected = selected[index + 1:]
            size = int(query.get("page_size", 25))
            return {"total_items": len(selected), "page_count": -(-len(selected) // size),
                    "items": selected[:size]}

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return

    return Handler


@contextmanager
def fake_typeform(form_id: str, token: str, items: list[dict[str, Any]]
                  ) -> Iterator[tuple[str, list[dict]]]:
    """The server's base URL and the log of query strings it received."""
    log: list[dict] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(form_id, token, items, log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def response_item(webhook_response: dict[str, Any], token: str, submitted_at: str,
                  wallet: str) -> dict[str, Any]:
    """A Responses API item built from a webhook's form_response, with another wallet."""
    answers = json.loads(json.dumps(webhook_response["answers"]))
    for answer in answers:
        if answer["field"]["ref"] == "wallet_address":
            answer["text"] = wallet
    return {"landing_id": token, "token": token, "response_id": token,
            "landed_at": submitted_at, "submitted_at": submitted_at,
            "metadata": {"user_agent": "test", "platform": "other", "referer": "",
                         "network_id": "", "browser": "default"},
            "hidden": {}, "calculated": {"score": 0}, "answers": answers}
