"""What the clients send and how they read the answers, against the tiny local server: typed
answers, the session token as a bearer, unset filters left out."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from client import AsyncBackendClient, BackendClient, Call, EventFilters, endpoints
from client.endpoints import json_body
from client.models import LicensedNode, Me
from noderr.domain import NodeType
from tests.client.conftest import ME, Send

ECHO = Call("GET", "/echo", json_body(dict))
TOKEN = "s3ss10n"  # noqa: S105 - a test value


def test_me__typed_answer__node_type_and_uint256_token_id(send: Send, server: str):
    me = send(server, endpoints.me())
    assert isinstance(me, Me) and me.address == ME["address"] and me.roles == ["MINTER_ROLE"]
    (held,) = me.licenses
    assert held.node_type is NodeType.VALIDATOR and held.token_id == 2**200


def test_nodes_me__typed_answer(send: Send, server: str):
    node = send(server, endpoints.nodes_me())
    assert isinstance(node, LicensedNode) and node.licenses[0].node_type.label == "Validator"


def test_vault__secret_and_list__typed_answers(send: Send, server: str):
    secret = send(server, endpoints.get_secret(7, "binance", None))
    assert (secret.version, secret.data) == (2, {"api_key": "k", "api_secret": "s"})
    assert secret.created_at == datetime(2026, 11, 26, 12, 0, 0, 123, tzinfo=UTC)
    (summary,) = send(server, endpoints.list_secrets(7))
    assert (summary.name, summary.latest_version, summary.versions) == ("binance", 2, 2)


def test_token__sent_as_bearer(send: Send, server: str):
    assert send(server, ECHO, token=TOKEN)["authorization"] == f"Bearer {TOKEN}"
    assert send(server, ECHO)["authorization"] is None


def test_event_filters__unset_ones_left_out(send: Send, server: str):
    filters = EventFilters(contract="NodeLicense", event="", token_id=0,
                           since=datetime(2026, 1, 2, tzinfo=UTC))
    echoed = send(server, replace(endpoints.events(filters, None, 5), path="/echo",
                                 read=json_body(dict)))
    assert echoed["query"] == ("contract=NodeLicense&token_id=0"
                               "&since=2026-01-02T00%3A00%3A00%2B00%3A00&limit=5")


def test_put_secret__json_body(send: Send, server: str):
    call = replace(endpoints.put_secret(7, "binance", {"api_key": "k"}), path="/echo",
                   read=json_body(dict))
    echoed = send(server, call)
    assert (echoed["method"], echoed["body"]) == ("PUT", {"data": {"api_key": "k"}})


def test_logout__blocking__session_token_dropped(server: str):
    with BackendClient(server, token=TOKEN) as client:
        client.logout()
        assert client.call(ECHO)["authorization"] is None


def test_logout__asyncio__session_token_dropped(server: str):
    async def go() -> Any:
        async with AsyncBackendClient(server, token=TOKEN) as client:
            await client.logout()
            return await client.call(ECHO)

    assert asyncio.run(go())["authorization"] is None
