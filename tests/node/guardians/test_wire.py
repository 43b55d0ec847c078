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
from node.desk.gate import RiskContext
from node.desk.records import Order
from node.execution import ExecutionLog
from node.guardian.shutdown import TradingState
from node.runtime.guardian import GuardianDuties, MalformedRequest, parse_request
from node.runtime.risk_gate import request_payload
from node.settings import GuardianSettings
from node.sources.replay import load_tape
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


def equity_message(desk: str, equity: float, initial: float) -> SimpleNamespace:
    return SimpleNamespace(sender=desk, payload={
        "desk": desk, "run": "run-1", "equity": str(equity), "initial": str(initial),
        "at": NOW.isoformat()})


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
