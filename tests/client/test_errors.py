"""The client's error mapping against a tiny real HTTP server, through the blocking and the
asyncio client alike: every failure is a BackendError with a message fit to show a person."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from client import BackendError, Call
from client.endpoints import json_body, readiness
from tests.client.conftest import Send


def get(path: str) -> Call[Any]:
    return Call("GET", path, json_body(dict))


def failure(send: Send, base_url: str, path: str) -> BackendError:
    with pytest.raises(BackendError) as caught:
        send(base_url, get(path))
    return caught.value


def test_get__ok__json_body(send, server):
    assert send(server, get("/ok")) == {"nonce": "abc"}


def test_get__connection_refused__status_0_plain_message(send, stopped_server):
    error = failure(send, stopped_server, "/auth/me")
    assert error.status == 0 and error.unreachable
    assert str(error).startswith(
        f"the backend at {stopped_server} does not answer (ConnectError")
    assert "Traceback" not in str(error)


def test_get__4xx_json_detail__surfaced(send, server):
    error = failure(send, server, "/forbidden")
    assert (error.status, error.detail) == (403, "0xabc holds none of MINTER_ROLE")
    assert str(error) == "backend answered 403: 0xabc holds none of MINTER_ROLE"


def test_get__422_validation_list__field_and_message(send, server):
    error = failure(send, server, "/validation")
    assert str(error) == ("backend answered 422: note: Field required; "
                          "limit: Input should be a valid integer")


def test_get__5xx_plain_text__surfaced(send, server):
    assert str(failure(send, server, "/crash")) == "backend answered 500: Internal Server Error"


def test_get__5xx_json_detail__surfaced(send, server):
    assert str(failure(send, server, "/unavailable")) == (
        "backend answered 503: the mirror lags 12 blocks behind the chain")


def test_get__5xx_html_page__reason_not_markup(send, server):
    assert str(failure(send, server, "/gateway")) == "backend answered 502: Bad Gateway"


def test_get__5xx_empty_body__reason_phrase(send, server):
    assert str(failure(send, server, "/empty")) == "backend answered 500: Internal Server Error"


def test_get__200_html_page__unexpected_answer_not_traceback(send, server):
    error = failure(send, server, "/portal")
    assert error.status == 200
    assert error.detail.startswith("unexpected answer to GET /portal: ")
    assert "\n" not in error.detail


def test_readiness__503_with_checks__an_answer_not_an_error(send, server):
    ready = send(server, readiness())
    assert not ready.ready and ready.head_block == 40 and ready.indexed_block == 12
    assert ready.problems == {"indexer": "28 blocks behind (limit 8)"}


def test_readiness__503_page_from_a_proxy__error_with_reason(send, server):
    with pytest.raises(BackendError) as caught:
        send(server, replace(readiness(), path="/maintenance"))
    assert str(caught.value) == "backend answered 503: Service Unavailable"
