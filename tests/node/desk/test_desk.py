from __future__ import annotations

import json
from decimal import Decimal

import pytest

from node.desk.desk import PaperDesk, run_feed
from node.desk.gate import LocalRiskGate, RiskContext
from node.desk.portfolio import Portfolio
from node.desk.records import Order
from node.desk.strategy import VolTargetTrend
from node.desk.venue import SimulatedVenue
from node.guardian.shutdown import TradingState
from tests.node.desk.builders import AT, FLAT_BOOK, ScriptedStrategy, SpyGate, SpyVenue, day

ROOMY = {"SP500": 1e9}


def desk_of(script, gate, **kwargs) -> PaperDesk:
    venue = SpyVenue(fee_bps=10, book_profile=FLAT_BOOK)
    return PaperDesk(venue, Portfolio(1_000_000), ScriptedStrategy(script), gate, **kwargs)


def test_step__accepted_order_fills_and_updates_the_portfolio():
    desk = desk_of([[("buy", "5")]], LocalRiskGate(ROOMY, ROOMY))

    step = desk.step("SP500", 100.0, AT)

    assert [o.id for o in step.orders] == ["paper-1"] and step.rejections == ()
    assert desk.portfolio.position("SP500") == 5
    assert desk.portfolio.cash == Decimal(1_000_000) - Decimal("500.05") - Decimal("0.50005")
    assert step.point.equity == desk.portfolio.cash + 5 * Decimal(100)


def test_step__gate_refusal_is_recorded_with_its_numbers_and_never_reaches_the_venue():
    desk = desk_of([[("buy", "20")]], LocalRiskGate({"SP500": 1_000.0}, ROOMY))

    step = desk.step("SP500", 100.0, AT)

    [rejection] = step.rejections
    assert (rejection.check, rejection.value, rejection.limit) == ("order_notional", 2000.0,
                                                                   1000.0)
    assert "above" in rejection.reason
    assert desk.venue.submitted == [] and desk.orders == [] and desk.fills == []
    assert desk.rejections == [rejection]
    assert json.dumps(rejection.to_dict())


@pytest.mark.parametrize(("answer", "check"), [
    (RuntimeError("guardian unreachable"), "risk_gate_error"),
    (None, "risk_gate_no_answer"),
    ("yes", "risk_gate_no_answer"),
])
def test_step__gate_failing_or_not_answering_refuses_the_order(answer, check):
    desk = desk_of([[("buy", "1")]], SpyGate(answer))

    [rejection] = desk.step("SP500", 100.0, AT).rejections

    assert rejection.check == check and rejection.reason.startswith("refused")
    assert desk.venue.submitted == []


def test_step__instrument_without_a_configured_limit_fails_closed():
    desk = desk_of([[("buy", "1")]], LocalRiskGate({"GOOG": 1e6}, {"GOOG": 1e6}))

    [rejection] = desk.step("SP500", 100.0, AT).rejections

    assert rejection.check == "risk_gate_error" and "UnknownInstrument" in rejection.reason
    assert desk.venue.submitted == []


def test_step__halted_refuses_every_order_without_asking_the_gate():
    gate = SpyGate()
    desk = desk_of([[("buy", "1"), ("sell", "1")]], gate, trading_state=TradingState.HALTED)

    step = desk.step("SP500", 100.0, AT)

    assert [(r.check, r.reason) for r in step.rejections] == [("halted", "refused: halted")] * 2
    assert gate.calls == 0 and desk.venue.submitted == []


def test_step__reducing_lets_only_orders_that_shrink_the_position_through():
    desk = desk_of([[("buy", "10")], [("sell", "4"), ("buy", "1"), ("sell", "10")]],
                   LocalRiskGate(ROOMY, ROOMY))
    desk.step("SP500", 100.0, AT)
    desk.trading_state = TradingState.REDUCING

    step = desk.step("SP500", 100.0, day(1))

    assert [(o.side, o.quantity) for o in step.orders] == [("sell", 4)]
    assert [(r.check, r.value, r.limit) for r in step.rejections] == [
        ("trading_state", 7.0, 6.0), ("trading_state", 4.0, 6.0)]
    assert desk.portfolio.position("SP500") == 6


def test_local_risk_gate__rate_limit_is_spent_only_by_orders_that_pass_the_others():
    gate = LocalRiskGate({"SP500": 1_000.0}, ROOMY, rate_capacity=1, rate_per_second=1 / 3600)
    desk = desk_of([[("buy", "20"), ("buy", "1"), ("buy", "1")]], gate)

    step = desk.step("SP500", 100.0, AT)

    assert [o.quantity for o in step.orders] == [1]
    assert [r.check for r in step.rejections] == ["order_notional", "order_rate"]


def replay(feed, seed: int = 11) -> PaperDesk:
    gate = LocalRiskGate({"SP500": 5e6}, {"SP500": 5_000.0}, fee_rate=1e-4)
    desk = PaperDesk(SimulatedVenue(fee_bps=1, seed=seed), Portfolio(1_000_000),
                     VolTargetTrend(), gate)
    run_feed(desk, "SP500", feed)
    return desk


def test_run_feed__sp500_replay_trades_and_its_equity_curve_reconciles_with_its_fills(
        sp500_300_days):
    desk = replay(sp500_300_days)

    assert len(desk.orders) >= 5 and len(desk.fills) >= len(desk.orders)
    assert len(desk.equity_curve) == 300
    book = desk.portfolio
    assert book.cash == book.initial_cash - sum(f.signed_quantity * f.price + f.fee
                                                for f in desk.fills)
    assert book.position("SP500") == sum(f.signed_quantity for f in desk.fills)
    assert book.fees == sum(f.fee for f in desk.fills)
    for point in desk.equity_curve:
        assert point.equity == point.cash + point.market_value
        assert point.equity - book.initial_cash == (
            point.realized_pnl + point.unrealized_pnl - point.fees)
    last = desk.equity_curve[-1]
    assert last.market_value == book.position("SP500") * Decimal(repr(sp500_300_days[-1][1]))
    assert json.dumps([f.to_dict() for f in desk.fills] + [o.to_dict() for o in desk.orders]
                      + [p.to_dict() for p in desk.equity_curve])


def test_run_feed__same_seed_gives_the_same_run(sp500_300_days):
    def run(seed: int) -> list:
        desk = replay(sp500_300_days[:150], seed)
        return [f.to_dict() for f in desk.fills] + [p.to_dict() for p in desk.equity_curve]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_local_gate__limit_price_beyond_the_band__refused_with_the_deviation():
    gate = LocalRiskGate(ROOMY, ROOMY, price_band=0.05)
    far = Order("paper-1", "SP500", "buy", Decimal("1"), AT, "limit", Decimal("110"))
    near = Order("paper-2", "SP500", "buy", Decimal("1"), AT, "limit", Decimal("104"))
    context = RiskContext(AT, 100.0, {"SP500": 0.0}, 1e6, TradingState.ACTIVE)

    refused, allowed = gate(far, context), gate(near, context)

    assert (refused.allowed, refused.check, refused.limit) == (False, "price_band", 0.05)
    assert refused.value == pytest.approx(0.10)
    assert (allowed.allowed, allowed.check, allowed.value) == (True, "pre_trade", 6)
