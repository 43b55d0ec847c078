"""The Network page: the nodes that reported, their executions failures first, the catalogue,
from the backend's public /network/* reads."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from client import BackendClient
from client.models import ExecutionRecord
from noderr.domain import NodeType
from tests.dashboard.conftest import LiveStack, signed_in, texts


@pytest.fixture(scope="module")
def reporting_node(live: LiveStack) -> str:
    """A licensed Oracle key (anvil #0 mints to it) that sent a heartbeat and four execution
    records, one of them failed; its address."""
    key = Account.create()
    license_ = live.w3.eth.contract(address=live.license_address,
                                    abi=live.deployment.contracts["NodeLicense"].abi)
    tx = license_.functions.mint(key.address, NodeType.ORACLE, os.urandom(32)).transact(
        {"from": live.admin})
    assert live.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    token = license_.functions.token_of(key.address, NodeType.ORACLE).call()
    with BackendClient(live.services.api_url) as client:
        client.sign_in(key.address, 31337, lambda text: "0x" + Account.sign_message(
            encode_defunct(text=text), key.key).signature.hex().removeprefix("0x"))
        deadline = time.monotonic() + 30
        while not any(m.address == key.address for m in client.network_members().members):
            assert time.monotonic() < deadline, "the mint never reached the mirror"
            time.sleep(0.2)
        client.heartbeat(NodeType.ORACLE, token, "0.1.0", "active")
        now = datetime.now(UTC)
        client.report_executions(NodeType.ORACLE, token, [
            ExecutionRecord(function="compute_vwap", started_at=now, duration_ms=0.2,
                            outcome="ok"),
            ExecutionRecord(function="compute_vwap", started_at=now, duration_ms=0.3,
                            outcome="ok"),
            ExecutionRecord(function="compute_twap", started_at=now, duration_ms=0.1,
                            outcome="ok"),
            ExecutionRecord(function="validate_observation", started_at=now, duration_ms=0.1,
                            outcome="rejected", error="StaleInput: quote 40 s old")])
    return key.address


def test_network_page__lists_the_node_and_its_executions_failures_first(
        make_app, live, reporting_node):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/network.py").run()
    assert not at.exception and not at.error
    assert "Network" in texts(at)
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["Nodes active"] >= 1
    nodes, by_function, failures, _catalogue = (frame.value for frame in at.dataframe)
    mine = nodes[nodes["address"] == reporting_node].iloc[0]
    assert (mine["node_type"], mine["status"]) == ("Oracle", "active")
    own = by_function[by_function["address"] == reporting_node].reset_index(drop=True)
    assert list(own["function"]) == ["validate_observation", "compute_twap", "compute_vwap"]
    assert list(own["ok"]) == [0, 1, 2] and list(own["rejected"]) == [1, 0, 0]
    assert "StaleInput: quote 40 s old" in list(failures["error"])


def test_network_page__catalogue_has_the_55_functions(make_app, live):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/network.py").run()
    catalogue = at.dataframe[-1].value
    assert len(catalogue) == 55
    assert set(catalogue["node_type"]) == {"Oracle", "Guardian", "Validator"}
