"""The Trading page (a desk's stored PAPER run, NodeGuard's halt with its reason and signers)
and the Network page's feed chart (a round transmitted on-chain), on the live stack: through
AppTest, then in Debian's chromium (screenshots in test-artifacts/dashboard)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import Browser, expect

from client import BackendClient
from client.endpoints import EventFilters
from dashboard.safe_text import escape_markdown
from node.runtime.keys import anvil_account
from noderr.domain import NodeType
from noderr.feed_report import Report, sign_report, transmit_args
from noderr.halt_report import GUARD_CONTRACT, Halt, halt_args, sign_halt
from tests.dashboard.browser import go_to, open_page, provider_script, shot, sign_in
from tests.dashboard.conftest import LiveStack, signed_in, texts
from tests.fixtures_chain import GENESIS_VALIDATOR

HALT_REASON = "drawdown 22% over limit 20%"
START = datetime(2008, 9, 15, 20, tzinfo=UTC)


def mint(live: LiveStack, node_type: NodeType) -> Account:
    key = Account.create()
    license_ = live.w3.eth.contract(address=live.license_address,
                                    abi=live.deployment.contracts["NodeLicense"].abi)
    tx = license_.functions.mint(key.address, node_type, os.urandom(32)).transact(
        {"from": live.admin})
    assert live.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    return key


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def order(order_id: str, step: int, quantity: str = "2") -> dict:
    return {"id": order_id, "instrument": "SP500", "side": "buy", "quantity": quantity,
            "created_at": (START + timedelta(days=step)).isoformat(), "order_type": "market",
            "time_in_force": "IOC", "limit_price": None}


def equity(step: int, value: str) -> dict:
    return {"kind": "equity", "at": (START + timedelta(days=step)).isoformat(), "cash": value,
            "market_value": "0", "equity": value, "realized_pnl": "0", "unrealized_pnl": "0",
            "fees": "1.5"}


@pytest.fixture(scope="module")
def desk_run(live: LiveStack) -> str:
    """A licensed desk's stored run: one filled order, one refused by the notional check,
    three equity points; the run id."""
    key = mint(live, NodeType.ORACLE)
    with BackendClient(live.services.api_url) as client:
        client.sign_in(key.address, 31337, lambda text: "0x" + Account.sign_message(
            encode_defunct(text=text), key.key).signature.hex().removeprefix("0x"))
        wait_for(lambda: any(m.address == key.address
                             for m in client.network_members().members), "mint not indexed")
        client.record_trading("run-dash", [
            {"kind": "order", **order("o-1", 0)},
            {"kind": "fill", "order_id": "o-1", "instrument": "SP500", "side": "buy",
             "quantity": "2", "price": "1200", "fee": "1.5", "notional": "2400",
             "at": START.isoformat()},
            {"kind": "rejection", "order": order("o-2", 1, "900"), "check": "order_notional",
             "value": 1.08e6, "limit": 1e6, "reason": "notional 1,080,000 over 1,000,000",
             "at": (START + timedelta(days=1)).isoformat()},
            equity(0, "100000"), equity(1, "99000"), equity(2, "97500")])
    return "run-dash"


@pytest.fixture(scope="module")
def halted(live: LiveStack) -> list[str]:
    """NodeGuard halted by both of two guardians, as indexed; their addresses."""
    guardians = [mint(live, NodeType.GUARDIAN) for _ in range(2)]
    record = live.deployment.contracts[GUARD_CONTRACT]
    guard = live.w3.eth.contract(address=record.address, abi=record.abi)
    deadline = live.w3.eth.get_block("latest")["timestamp"] + 3600
    signed = Halt(HALT_REASON, deadline, guard.functions.halt_nonce().call())
    signatures = {key.address: sign_halt(key.key, live.deployment.chain_id, guard.address,
                                         signed) for key in guardians}
    tx = guard.functions.halt(*halt_args(signed, signatures)).transact({"from": live.admin})
    assert live.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    with BackendClient(live.services.api_url) as client:
        wait_for(lambda: client.network_guard().halted, "the halt was never indexed")
    return [key.address for key in guardians]


@pytest.fixture(scope="module")
def landed_round(live: LiveStack) -> float:
    """Round 1 of NodeFeed.SP500 transmitted with the genesis validator's signature (the
    quorum of one), as indexed; its answer in the feed's units."""
    record = live.deployment.contracts["NodeFeed.SP500"]
    feed = live.w3.eth.contract(address=record.address, abi=record.abi)
    validator = anvil_account(9, 31337)
    assert validator.address == GENESIS_VALIDATOR
    report = Report(round=1, answer=2_512_340_000_00, observed_at=int(time.time()))
    signature = sign_report(validator.private_key, 31337, feed.address, report)
    tx = feed.functions.transmit(*transmit_args(report, [validator.address],
                                                {validator.address: signature})
                                 ).transact({"from": live.admin})
    assert live.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    with BackendClient(live.services.api_url) as client:
        wait_for(lambda: client.events(EventFilters(event="Transmitted")).events,
                 "the round was never indexed")
    return 2_512.34


def test_trading_page__shows_the_halt_its_reason_and_signers(make_app, live, halted):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/trading.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trading state"] == "HALTED"
    assert escape_markdown(HALT_REASON) in "\n".join(e.value for e in at.error)
    halts = at.dataframe[0].value
    row = halts.iloc[0]
    assert (row["event"], row["reason"]) == ("Halted", HALT_REASON)
    assert set(row["signers"].lower().split(", ")) == {a.lower() for a in halted}


def test_trading_page__shows_the_run_its_equity_and_refusals_by_check(make_app, live,
                                                                       desk_run):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/trading.py").run()
    assert not at.exception
    assert "Paper trading" in texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Equity (latest run)"] == "97,500.00"
    orders = at.dataframe[-1].value
    mine = orders[orders["run_id"] == desk_run].set_index("refused_by")
    assert mine.loc["order_notional", "status"] == "rejected"
    assert mine.loc["", "status"] == "filled"
    positions = at.dataframe[-2].value
    assert list(positions[positions["run_id"] == desk_run]["quantity"]) == ["2"]


def test_network_page__charts_the_feeds_landed_rounds(make_app, live, landed_round):
    at = signed_in(make_app, live, 0)
    at.switch_page("views/network.py").run()
    assert not at.exception
    assert "Feeds on-chain" in texts(at)
    latest = next(frame.value for frame in at.dataframe if "feed" in frame.value)
    row = latest.set_index("feed").loc["SP500"]
    assert (row["round"], row["answer"], row["signers"]) == (1, pytest.approx(landed_round,
                                                                              rel=1e-4), 1)


def test_browser__network_and_trading_pages_show_feeds_and_the_halt(
        browser: Browser, live: LiveStack, halted, desk_run, landed_round):
    page = open_page(browser, live.services.dashboard_url,
                     provider_script(live.services.rpc_url, live.admin))
    sign_in(page)
    go_to(page, "Network")
    expect(page.get_by_text("Feeds on-chain")).to_be_visible()
    expect(page.get_by_text("SP500", exact=True).first).to_be_visible()
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    shot(page, "20-network-feeds")
    go_to(page, "Trading")
    expect(page.get_by_text("HALTED", exact=True)).to_be_visible()
    expect(page.get_by_text(HALT_REASON).first).to_be_visible()
    expect(page.get_by_text("Refused before the venue, by check")).to_be_visible()
    shot(page, "21-trading-halted")
