"""dashboard/api.py's error mapping against a tiny real HTTP server on a free local port:
every failure is an ApiError with a message fit to show a person."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard.api import ApiError, BackendClient
from onchain.anvil import free_port

HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
VALIDATION = {"detail": [{"type": "missing", "loc": ["body", "note"], "msg": "Field required",
                          "input": None},
                         {"type": "int_parsing", "loc": ["query", "limit"],
                          "msg": "Input should be a valid integer", "input": "x"}]}
ROUTES: dict[str, tuple[int, str, str]] = {
    "/ok": (200, "application/json", json.dumps({"nonce": "abc"})),
    "/forbidden": (403, "application/json",
                   json.dumps({"detail": "0xabc holds none of MINTER_ROLE"})),
    "/validation": (422, "application/json", json.dumps(VALIDATION)),
    "/crash": (500, "text/plain", "Internal Server Error"),
    "/gateway": (502, "text/html", HTML),
    "/unavailable": (503, "application/json",
                     json.dumps({"detail": "the mirror lags 12 blocks behind the chain"})),
    "/empty": (500, "text/plain", ""),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, kind, body = ROUTES[self.path.split("?")[0]]
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def failure(base_url: str, path: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        BackendClient(base_url).get(path)
    return caught.value


def test_get__ok__json_body(server):
    assert BackendClient(server).get("/ok") == {"nonce": "abc"}


def test_get__connection_refused__status_0_plain_message():
    base = f"http://127.0.0.1:{free_port()}"
    error = failure(base, "/auth/me")
    assert error.status == 0
    assert str(error).startswith(f"the backend at {base} does not answer (ConnectError")
    assert "Traceback" not in str(error)


def test_get__4xx_json_detail__surfaced(server):
    error = failure(server, "/forbidden")
    assert (error.status, str(error)) == (
        403, "backend answered 403: 0xabc holds none of MINTER_ROLE")


def test_get__422_validation_list__field_and_message(server):
    error = failure(server, "/validation")
    assert str(error) == ("backend answered 422: note: Field required; "
                          "limit: Input should be a valid integer")


def test_get__5xx_plain_text__surfaced(server):
    assert str(failure(server, "/crash")) == "backend answered 500: Internal Server Error"


def test_get__5xx_json_detail__surfaced(server):
    assert str(failure(server, "/unavailable")) == (
        "backend answered 503: the mirror lags 12 blocks behind the chain")


def test_get__5xx_html_page__reason_not_markup(server):
    assert str(failure(server, "/gateway")) == "backend answered 502: Bad Gateway"


def test_get__5xx_empty_body__reason_phrase(server):
    assert str(failure(server, "/empty")) == "backend answered 500: Internal Server Error"
