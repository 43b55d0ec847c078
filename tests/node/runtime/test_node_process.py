"""`noderr node run` as an operator runs it, on a real anvil, Postgres, indexer, API and NATS:
it activates only with its license, pauses while suspended, resumes when reinstated, exits
when revoked or reassigned, and fails closed when the backend goes away.

Each test licenses its own anvil account (the chain is shared by the session)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import httpx

from client import BackendClient
from node.runtime.keys import anvil_account
from noderr.catalogue import of_type
from noderr.domain import NodeType
from noderr.ports import free_port
from noderr.settings import LOCAL_CHAIN_ID
from noderr_cli.services import running, start_service, wait_http
from tests.node.runtime.conftest import Network

ORACLE_FUNCTIONS = {spec.name for spec in of_type(NodeType.ORACLE)}


def started_at(execution: dict) -> datetime:
    return datetime.fromisoformat(execution["started_at"])


def scrape(port: int) -> str:
    """The node's /metrics once it counts shipped executions, else ""."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return text if "noderr_node_executions_total{" in text else ""


def node_row(network: Network, address: str) -> dict | None:
    return next((row for row in network.api("/network/nodes")
                 if row["address"].lower() == address.lower()), None)


def test_run__no_license__exits_3_naming_address_and_type(network: Network):
    node = network.start_node(NodeType.ORACLE, 8)
    assert node.wait_exit(timeout=30) == 3
    assert f"{network.account(8)} holds no Oracle license; the node does not activate" \
        in node.output()


def test_run__license_of_another_type__exits_3(network: Network, licensed):
    licensed(NodeType.GUARDIAN, 7)
    node = network.start_node(NodeType.ORACLE, 7)
    assert node.wait_exit(timeout=30) == 3
    assert f"{network.account(7)} holds no Oracle license" in node.output()


def test_run__oracle_license__runs_all_15_functions_reported_and_heartbeats(
        network: Network, licensed):
    token = licensed(NodeType.ORACLE, 1)
    address = network.account(1)
    operator = anvil_account(1, LOCAL_CHAIN_ID)
    with BackendClient(network.services.api_url) as client:
        client.sign_in(operator.address, LOCAL_CHAIN_ID, operator.sign_message)
        client.put_secret(token, "exchange", {"api_key": "k-1", "api_secret": "s-1"})
    metrics_port = free_port()
    node = network.start_node(NodeType.ORACLE, 1, NODERR_NODE_METRICS_PORT=str(metrics_port))
    node.wait_for(rf"Oracle license #{token} active at block \d+; 1 vault credential\(s\) "
                  r"loaded; node activated")
    assert "s-1" not in node.output()
    node.wait_for(r"first round done: \d+ function execution")
    seen = network.wait_until(
        lambda: {e["function"] for e in network.executions(address)} >= ORACLE_FUNCTIONS,
        "every Oracle function in GET /network/executions")
    assert seen
    scraped = network.wait_until(lambda: scrape(metrics_port), "the node's metrics")
    assert "noderr_node_active 1.0" in scraped
    assert 'noderr_node_executions_total{function="compute_vwap",outcome="ok"}' in scraped
    assert 'noderr_bus_dropped_total{reason="bad_signature"} 0.0' in scraped
    row = network.wait_until(lambda: node_row(network, address), "the node in /network/nodes")
    assert (row["status"], row["token_id"], row["node_type"]) == ("active", token, 1)
    assert node.stop() == 0
    stopped = network.wait_until(
        lambda: (node_row(network, address) or {}).get("status") == "stopped",
        "stopped", context=lambda: f"row {node_row(network, address)}; node said:\n"
                                   f"{node.output()}")
    assert stopped


def test_suspend_then_reinstate__pauses_then_resumes(network: Network, licensed):
    token = licensed(NodeType.ORACLE, 2)
    address = network.account(2)
    node = network.start_node(NodeType.ORACLE, 2)
    node.wait_for(r"first round done")
    network.ops.suspend(token)
    index, _ = node.wait_for(rf"license #{token} is suspended at block \d+: execution paused")
    paused_at = datetime.now(UTC)
    network.wait_until(lambda: node_row(network, address)["status"] == "suspended",
                       "the node shown suspended")
    assert all(started_at(e) <= paused_at for e in network.executions(address))

    network.ops.operate(network.ops.contract.functions.reinstate(token), NodeType.ORACLE)
    node.wait_for(rf"license #{token} is active at block \d+: execution resumed", after=index)
    resumed = network.wait_until(
        lambda: [e for e in network.executions(address) if started_at(e) > paused_at],
        "executions after the reinstatement")
    assert resumed
    assert node.process.poll() is None


def test_revoke__node_stops_and_exits_4_saying_revoked(network: Network, licensed):
    token = licensed(NodeType.ORACLE, 3)
    node = network.start_node(NodeType.ORACLE, 3)
    node.wait_for(r"first round done")
    network.ops.revoke(token)
    assert node.wait_exit(timeout=30) == 4
    assert f"license #{token} was revoked: terms violated; the node stops" in node.output()


def test_reassign__node_stops_and_exits_4_naming_the_new_owner(network: Network, licensed):
    token = licensed(NodeType.ORACLE, 4)
    node = network.start_node(NodeType.ORACLE, 4)
    node.wait_for(r"first round done")
    network.ops.reassign(token, network.account(5))
    assert node.wait_exit(timeout=30) == 4
    assert (f"license #{token} was reassigned to {network.account(5)}; the node stops"
            in node.output())


WATCH_TIMEOUT_S = 30
"""The longest license long poll: the node resumes well before one would time out, since
after the outage it asks for its license as it is (nothing moves on-chain meanwhile)."""


def test_backend_down__node_pauses_saying_why_then_resumes(network: Network, licensed):
    licensed(NodeType.ORACLE, 6)
    services = dataclasses.replace(network.services, api_port=free_port())
    port, api_url = services.api_port, services.api_url
    log = network.folder / "logs" / "api-outage.log"

    def start_api():
        process = start_service(["api", "--port", str(port)], services, log)
        wait_http(f"{api_url}/healthz", process, log)
        return process

    with running(start_api()) as api:
        node = network.start_node(NodeType.ORACLE, 6, NODERR_API_URL=api_url,
                                  NODERR_NODE_WATCH_TIMEOUT=str(WATCH_TIMEOUT_S))
        node.wait_for(r"first round done")
        api.kill()
        api.wait(timeout=15)
        index, _ = node.wait_for(r"the backend cannot confirm the license .*execution paused")
    with running(start_api()):
        node.wait_for(r"is active at block \d+: execution resumed", after=index,
                      timeout=WATCH_TIMEOUT_S / 2)
        assert node.process.poll() is None
