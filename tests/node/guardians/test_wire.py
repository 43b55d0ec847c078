"""The risk request and answer as they travel, and a guardian's decision, without a bus: a
request parses back to the order the desk sent, a malformed one is refused, the checks run in
their order and each is recorded under its catalogue name; a desk's equity through a crash
moves it to REDUCING here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest
from eth_account import Account

from node.bus.membership import Membership
from node.desk.desk import PaperDesk, tape_feed
from node.desk.gate import LocalRiskGate, RiskContext
from node.desk.portfolio import Portfolio
from node.desk.records import Order
from node.desk.strategy import VolTargetTrend
from node.desk.venue import SimulatedVenue
from node.execution import ExecutionLog
from node.guardian.shutdown import TradingState
from node.guardian.watch import Assessment, book_exposure
from node.runtime.desk import equity_payload
from node.runtime.guardian import GuardianDuties, MalformedRequest, parse_equity, parse_request
from node.runtime.risk_gate import request_payload
from node.settings import GuardianSettings
from node.sources.replay import load_tape
from node.trade_cli import exposure
from noderr.domain import NodeType

NOW = datetime(2026, 1, 2, tzinfo=UTC)
REQUEST_ID = "ab" * 16


def desk_order(quantity: str = "2", limit_price: str | None = None) -> Order:
    return Order("paper-1", "SP500", "sell", Decimal(quantity), NOW,
                 "market" if limit_price is None else "limit",
                 None if limit_price is None else Decimal(limit_price))


def desk_context(state: TradingState = TradingState.ACTIVE) -> RiskContext:
    return RiskContext(NOW, 100.0, {"SP500": 5.0}, 1_000.0, state)


class NoObserver:
    async def step(self) -> int:
        return 0


def guardian(requester: str, **limits: object) -> tuple[GuardianDuties, ExecutionLog]:
    membership = Membership()
    membership.update(1, [(requester, NodeType.ORACLE, 7)])
    log = ExecutionLog()
    settings = GuardianSettings(**{"guardian_max_notional": 1_000.0, "guardian_max_position": 10.0,
                                   **limits})
    duties = GuardianDuties(SimpleNamespace(membership=membership), log, settings, NoObserver(),
                            clock=lambda: NOW)
    return duties, log


def test_parse_request__desk_payload__gives_back_the_order_and_context():
    request = parse_request(request_payload(REQUEST_ID, desk_order("2", "101.5"),
                                            desk_context(TradingState.REDUCING)))

    assert request.request_id == REQUEST_ID
    assert (request.order.instrument, request.order.side, request.order.quantity,
            request.order.price) == ("SP500", "sell", 2.0, 101.5)
    assert (request.at, request.price, request.positions, request.free_balance,
            request.trading_state) == (NOW, 100.0, {"SP500": 5.0}, 1_000.0,
                                       TradingState.REDUCING)


@pytest.mark.parametrize("broken", [
    {"request_id": "not-hex"},
    {"order": {"id": "x"}},
    {"context": {"at": "yesterday"}},
    {"order": {**desk_order().to_dict(), "quantity": "-1"}},
])
def test_parse_request__broken_part__refused_as_malformed(broken: dict):
    payload = {**request_payload(REQUEST_ID, desk_order(), desk_context()), **broken}

    with pytest.raises(MalformedRequest):
        parse_request(payload)


def test_decide__within_limits__every_check_passes_and_is_recorded():
    requester = Account.create().address
    duties, log = guardian(requester)
    request = parse_request(request_payload(REQUEST_ID, desk_order(), desk_context()))

    decision = duties.decide(requester, NodeType.ORACLE, request)

    assert (decision.allowed, decision.check, decision.value) == (True, "pre_trade", 8)
    assert [execution.function for execution in log.drain()] == [
        "check_license_validity", "screen_address_denylist", "set_trading_state",
        "check_order_notional_limit", "check_position_limit", "check_balance_sufficiency",
        "evaluate_circuit_breaker",
        "check_order_rate_limit"]


def test_decide__unlicensed_requester__refused_before_any_other_check():
    duties, log = guardian(Account.create().address)
    request = parse_request(request_payload(REQUEST_ID, desk_order(), desk_context()))

    decision = duties.decide(Account.create().address, NodeType.ORACLE, request)

    assert (decision.allowed, decision.check, decision.value, decision.limit) == \
        (False, "license_validity", 0, 1)
    assert [execution.function for execution in log.drain()] == ["check_license_validity"]


def test_decide__burst_past_the_bucket__refused_by_the_rate_check():
    requester = Account.create().address
    duties, _ = guardian(requester, guardian_rate_capacity=2.0)
    request = parse_request(request_payload(REQUEST_ID, desk_order(), desk_context()))

    decisions = [duties.decide(requester, NodeType.ORACLE, request) for _ in range(3)]

    assert [decision.allowed for decision in decisions] == [True, True, False]
    assert decisions[-1].check == "order_rate"


def test_decide__instrument_price_refused__answered_with_the_check_that_refused():
    requester = Account.create().address
    duties, log = guardian(requester)
    payload = request_payload(REQUEST_ID, desk_order(), desk_context())
    payload["context"]["price"] = -1.0

    decision = duties.decide(requester, NodeType.ORACLE, parse_request(payload))

    assert (decision.allowed, decision.check) == (False, "check_order_notional_limit")
    assert decision.reason.startswith("refused: NonPositivePrice")
    assert log.drain()[-1].outcome == "rejected"


def test_decide__limit_price_beyond_the_band__refused_with_the_deviation():
    requester = Account.create().address
    duties, log = guardian(requester, guardian_price_band=0.05)
    request = parse_request(request_payload(REQUEST_ID, desk_order("2", "80"), desk_context()))

    decision = duties.decide(requester, NodeType.ORACLE, request)

    assert (decision.allowed, decision.check, decision.limit) == (False, "price_band", 0.05)
    assert decision.value == pytest.approx(0.2)
    assert log.drain()[-1].function == "evaluate_circuit_breaker"


def equity_message(desk: str, equity: float, initial: float, cash: float = 0.0,
                   exposure: dict[str, float] | None = None) -> SimpleNamespace:
    """A desk's equity point; by default all of it held in the S&P 500."""
    held = {"SP500": equity - cash} if exposure is None else exposure
    return SimpleNamespace(sender=desk, payload={
        "desk": desk, "run": "run-1", "equity": str(equity), "initial": str(initial),
        "at": NOW.isoformat(), "cash": str(cash),
        "exposure": {name: str(value) for name, value in held.items()}})


def test_on_equity__2008_crash__the_desks_growing_orders_refused_reducing_ones_allowed():
    desk = Account.create().address
    duties, log = guardian(desk)
    bars = load_tape("SP500").bars
    closes = pd.Series(bars.close, index=pd.DatetimeIndex(bars.time))["2008-01":"2008-10"]

    async def follow() -> None:
        for close in closes:
            await duties.on_equity(equity_message(desk, 1e6 * close / closes.iloc[0], 1e6))
    asyncio.run(follow())

    growing = parse_request(request_payload(REQUEST_ID, Order(
        "paper-2", "SP500", "buy", Decimal("1"), NOW), desk_context()))
    reducing = parse_request(request_payload(REQUEST_ID, desk_order("1"), desk_context()))
    refused = duties.decide(desk, NodeType.ORACLE, growing)
    assert (refused.allowed, refused.check) == (False, "trading_state")
    assert refused.reason.startswith("REDUCING")
    assert duties.decide(desk, NodeType.ORACLE, reducing).allowed
    functions = {execution.function for execution in log.drain()}
    assert {"compute_drawdown", "evaluate_kill_switch", "compute_var_ewma",
            "compute_var_historical", "set_trading_state"} <= functions


BOOK = {"SP500": 900.0, "NASDAQ": 100.0, "GOOG": -100.0}
"""Herfindahl (0.81 + 0.01 + 0.01) / 1.21 = 0.686 of the gross 1,100: above a 0.6 limit."""
CONCENTRATION = 0.6


def assessed(duties: GuardianDuties, message: SimpleNamespace) -> Assessment:
    return asyncio.run(duties.on_equity(message))


def test_on_equity__concentrated_book__growing_orders_refused_reducing_ones_allowed():
    desk = Account.create().address
    duties, log = guardian(desk, guardian_max_concentration=CONCENTRATION)

    assessment = assessed(duties, equity_message(desk, 10_000.0, 10_000.0, 9_100.0, BOOK))

    assert assessment.state is TradingState.REDUCING and not assessment.halt
    [crossed] = assessment.crossed
    assert crossed.check == "concentration"
    assert crossed.value == pytest.approx((0.81 + 0.01 + 0.01) / 1.21)
    growing = parse_request(request_payload(REQUEST_ID, Order(
        "paper-2", "SP500", "buy", Decimal("1"), NOW), desk_context()))
    reducing = parse_request(request_payload(REQUEST_ID, desk_order("1"), desk_context()))
    assert duties.decide(desk, NodeType.ORACLE, growing).check == "trading_state"
    assert duties.decide(desk, NodeType.ORACLE, reducing).allowed
    assert "compute_exposure_concentration" in {each.function for each in log.drain()}


def test_on_equity__largest_position_left_out__refused_recorded_and_reducing():
    desk = Account.create().address
    duties, log = guardian(desk, guardian_max_concentration=CONCENTRATION)
    without_largest = {name: value for name, value in BOOK.items() if name != "SP500"}

    assessment = assessed(duties, equity_message(
        desk, 10_000.0, 10_000.0, 9_100.0, without_largest))

    assert assessment.state is TradingState.REDUCING
    assert [each.check for each in assessment.crossed] == ["exposure_report"]
    [record] = [each for each in log.drain() if each.function == "compute_exposure_concentration"]
    assert record.outcome == "rejected" and "do not add up" in (record.error or "")
    assert duties.desks[desk].watch.equity == []


@pytest.mark.parametrize("forged", [
    {"exposure": None}, {"exposure": "all cash"}, {"exposure": {"SP500": "nan"}}, {"cash": None},
])
def test_on_equity__positions_missing_or_unreadable__refused_and_reducing(forged: dict):
    desk = Account.create().address
    duties, _ = guardian(desk)
    message = equity_message(desk, 10_000.0, 10_000.0, 9_100.0, BOOK)
    message.payload = {key: value for key, value in {**message.payload, **forged}.items()
                       if value is not None}

    assessment = assessed(duties, message)

    assert assessment.state is TradingState.REDUCING
    assert [each.check for each in assessment.crossed] == ["exposure_report"]


def test_on_equity__report_adds_up_again__back_to_active():
    desk = Account.create().address
    duties, _ = guardian(desk)
    assessed(duties, equity_message(desk, 10_000.0, 10_000.0, 0.0, {"SP500": 1.0}))

    assessment = assessed(duties, equity_message(desk, 10_000.0, 10_000.0, 9_100.0, BOOK))

    assert (assessment.previous, assessment.state) == (TradingState.REDUCING,
                                                       TradingState.ACTIVE)


def test_equity_payload__paper_desk_over_the_sp500__every_point_adds_up():
    desk_address = Account.create().address
    desk = PaperDesk(SimulatedVenue(seed=11), Portfolio(Decimal(10_000)),
                     VolTargetTrend(fast=5, slow=20), LocalRiskGate({"SP500": 1e6},
                                                                    {"SP500": 1e6}))
    books = []
    for at, value in tape_feed("SP500", 2_000, 60):
        point = desk.step("SP500", value, at).point
        payload = equity_payload(desk_address, "run-1", Decimal(10_000), point, exposure(desk))
        books.append(parse_equity(payload, desk_address).book)

    assert any(book.notionals for book in books)
    assert all(book_exposure(book).herfindahl in (0.0, 1.0) for book in books)
