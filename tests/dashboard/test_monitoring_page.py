"""The Monitoring page's network at a glance: the tables it is built from against hand-made
answers (dashboard/network_health.py), then the page on the live stack, through AppTest and in
Debian's chromium (screenshot in test-artifacts/dashboard)."""

from __future__ import annotations

import ast
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import Browser, expect

from client import BackendClient
from client.models import ExecutionItem, ExecutionRecord, NodeHealth, RoundItem, RoundReport
from dashboard import network_health
from node.runtime.keys import anvil_account
from noderr.domain import NodeType
from noderr.settings import REPO_ROOT
from tests.dashboard.browser import go_to, open_page, provider_script, shot, sign_in
from tests.dashboard.conftest import LiveStack, signed_in, texts
from tests.fixtures_chain import GENESIS_VALIDATOR

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
ROUND = 7
FAILING_FUNCTION = "validate_observation"


def node(address: str, node_type: NodeType, status: str, silent_s: float) -> NodeHealth:
    return NodeHealth(address=address, node_type=node_type, token_id=1, status=status,
                      last_heartbeat=NOW - timedelta(seconds=silent_s),
                      started_at=NOW - timedelta(hours=1), software_version="0.1.0")


def round_item(feed: str, number: int, ago_s: float) -> RoundItem:
    return RoundItem(id=number, feed=feed, feed_address="0x" + "11" * 20, round=number,
                     view=number, view_changes=0, leader=GENESIS_VALIDATOR, value=1,
                     observed_at=0, signers=[GENESIS_VALIDATOR], status="transmitted",
                     reported_status="agreed", reported_by=GENESIS_VALIDATOR,
                     decided_at=NOW - timedelta(seconds=ago_s),
                     recorded_at=NOW - timedelta(seconds=ago_s), transmit_tx_hash=None,
                     transmitter=None, block_number=None, agrees_with_chain=None)


def execution(function: str, outcome: str, ago_s: float, address: str = "0xa") -> ExecutionItem:
    return ExecutionItem(id=1, address=address, node_type=NodeType.ORACLE, token_id=1,
                         function=function, started_at=NOW - timedelta(seconds=ago_s),
                         duration_ms=0.1, outcome=outcome, error=None)


def test_nodes_stale_first__stale_then_suspended_stopped_active__longest_silent_first():
    nodes = [node("0xactive", NodeType.ORACLE, "active", 1),
             node("0xstale-recent", NodeType.VALIDATOR, "stale", 40),
             node("0xstopped", NodeType.GUARDIAN, "stopped", 500),
             node("0xstale-old", NodeType.ORACLE, "stale", 900),
             node("0xsuspended", NodeType.ORACLE, "suspended", 2)]
    frame = network_health.nodes_stale_first(nodes, NOW)
    assert list(frame["address"]) == ["0xstale-old", "0xstale-recent", "0xsuspended",
                                       "0xstopped", "0xactive"]
    assert list(frame["silent_s"])[:2] == [900.0, 40.0]


def test_nodes_by_type__every_type_and_status_counted_zero_included():
    counts = network_health.nodes_by_type([
        node("0x1", NodeType.ORACLE, "active", 1), node("0x2", NodeType.ORACLE, "stale", 99),
        node("0x3", NodeType.ORACLE, "active", 1)]).set_index("node_type")
    assert set(counts.index) == {"Oracle", "Guardian", "Validator"}
    assert (counts.loc["Oracle", "active"], counts.loc["Oracle", "stale"]) == (2, 1)
    assert int(counts.loc["Validator"].sum()) == 0


def test_last_rounds__feed_without_a_round_then_quietest_first():
    frame = network_health.last_rounds({"SP500": round_item("SP500", 40, 3),
                                        "GOOG": None,
                                        "EURUSD": round_item("EURUSD", 12, 120)}, NOW)
    assert list(frame["feed"]) == ["GOOG", "EURUSD", "SP500"]
    assert frame.loc[0, "status"] == network_health.NO_ROUND
    assert list(frame["ago_s"])[1:] == [120.0, 3.0]
    assert frame.loc[2, "round"] == 40 and frame.loc[2, "signers"] == 1


def test_failures_since__only_failures_inside_the_window_most_errors_first():
    frame = network_health.failures_since([
        execution("compute_vwap", "error", 30), execution("compute_vwap", "ok", 30),
        execution("compute_twap", "rejected", 60), execution("compute_twap", "error", 60),
        execution("compute_twap", "error", 61), execution("compute_vwap", "error", 900)],
        NOW - timedelta(minutes=10))
    assert list(frame["function"]) == ["compute_twap", "compute_vwap"]
    assert list(frame["error"]) == [2, 1] and list(frame["rejected"]) == [1, 0]
    assert network_health.failures_since([execution("x", "ok", 1)], NOW).empty


@pytest.mark.parametrize("view", sorted((REPO_ROOT / "dashboard" / "views").glob("*.py")),
                         ids=lambda path: path.name)
def test_views__no_string_statement_below_the_docstring(view):
    """Streamlit's magic shows every string statement of a page below its docstring: a
    constant's docstring there ends up on the page."""
    body = ast.parse(view.read_text()).body[1:]
    assert not [statement.lineno for statement in body if isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)]


@pytest.fixture(scope="module")
def network_activity(live: LiveStack) -> str:
    """A licensed Oracle key that sent a heartbeat and one failed execution, and round ROUND of
    GOOG reported by the genesis validator; the Oracle's address."""
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
        wait_for_member(client, key.address)
        client.heartbeat(NodeType.ORACLE, token, "0.1.0", "active")
        client.report_executions(NodeType.ORACLE, token, [ExecutionRecord(
            function=FAILING_FUNCTION, started_at=datetime.now(UTC), duration_ms=0.1,
            outcome="error", error="SourceDown: no quote")])
    validator = anvil_account(9, 31337)
    with BackendClient(live.services.api_url) as client:
        client.sign_in(validator.address, 31337, validator.sign_message)
        client.report_rounds([RoundReport(
            feed="GOOG", round=ROUND, view=ROUND, leader=GENESIS_VALIDATOR, answer=150_00000000,
            observed_at=1, signers=(GENESIS_VALIDATOR,), status="agreed",
            decided_at=datetime.now(UTC))])
    return key.address


def wait_for_member(client: BackendClient, address: str) -> None:
    deadline = time.monotonic() + 30
    while not any(m.address == address for m in client.network_members().members):
        assert time.monotonic() < deadline, "the mint never reached the mirror"
        time.sleep(0.2)


def test_monitoring_page__shows_nodes_rounds_failures_and_trading_state(
        make_app, live, network_activity):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/monitoring.py").run()
    assert not at.exception and not at.error
    assert "Network at a glance" in texts(at)
    with BackendClient(live.services.api_url) as client:
        halted = client.network_guard().halted
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trading state"] == ("HALTED" if halted else "ACTIVE")
    assert int(metrics["Nodes active"]) >= 1
    assert int(metrics["Failed executions (10 min)"]) >= 1
    frames = {tuple(frame.value.columns): frame.value for frame in at.dataframe}
    by_type = frames[("node_type", *network_health.STATUS_ORDER)].set_index("node_type")
    assert by_type.loc["Oracle", "active"] >= 1
    nodes = frames[("status", "node_type", "address", "token_id", "silent_s", "last_heartbeat")]
    assert network_activity in set(nodes["address"])
    rounds = frames[("feed", "round", "status", "ago_s", "leader", "view_changes", "signers",
                     "decided_at")].set_index("feed")
    assert (rounds.loc["GOOG", "round"], rounds.loc["GOOG", "status"]) == (ROUND, "agreed")
    assert set(rounds.index) == {"SP500", "NASDAQ", "GOOG", "EURUSD"}
    failures = frames[("function", "address", "error", "rejected")]
    mine = failures[failures["address"] == network_activity]
    assert list(mine["function"]) == [FAILING_FUNCTION] and list(mine["error"]) == [1]


def test_browser__monitoring_page_shows_the_network_at_a_glance(
        browser: Browser, live: LiveStack, network_activity):
    page = open_page(browser, live.services.dashboard_url,
                     provider_script(live.services.rpc_url, live.admin))
    sign_in(page)
    go_to(page, "Monitoring")
    expect(page.get_by_text("Network at a glance")).to_be_visible()
    expect(page.get_by_text("Last consensus round per feed")).to_be_visible()
    expect(page.get_by_text("Recent activity")).to_be_visible()
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    shot(page, "30-monitoring-network")
