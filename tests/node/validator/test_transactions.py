"""validate_tx_risk asks the Guardian's limit checks: hand-computed notional, position and
balance cases, the first refusal ends it, and only an allowed order spends a rate token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from node.guardian.limits import TokenBucket
from node.guardian.orders import Order
from node.validator.transactions import RiskState, validate_tx_risk

AT = datetime(2026, 1, 2, tzinfo=UTC)


def state(**changes) -> RiskState:
    defaults = dict(at=AT, price=100.0, positions={"SP500": 1.0}, free_balance=1_000.0,
                    notional_limits={"SP500": 500.0}, position_limits={"SP500": 5.0},
                    bucket=TokenBucket.full(2, 1.0, AT - timedelta(seconds=1)))
    return RiskState(**{**defaults, **changes})


def test_validate_tx_risk__within_every_limit__allowed_and_token_spent():
    verdict = validate_tx_risk(Order("SP500", "buy", 3.0), state())

    assert verdict.allowed and verdict.refusal is None
    assert [decision.check for decision in verdict.decisions] == [
        "order_notional", "position", "balance", "order_rate"]
    assert [decision.value for decision in verdict.decisions[:3]] == [300.0, 4.0, 300.0]
    assert verdict.bucket.tokens == 1.0


def test_validate_tx_risk__notional_above_cap__refused_before_other_checks_no_token():
    verdict = validate_tx_risk(Order("SP500", "buy", 6.0), state())

    assert not verdict.allowed
    assert (verdict.refusal.check, verdict.refusal.value, verdict.refusal.limit) == (
        "order_notional", 600.0, 500.0)
    assert len(verdict.decisions) == 1 and verdict.bucket.tokens == 2.0


def test_validate_tx_risk__balance_short__refused_by_the_balance_check():
    verdict = validate_tx_risk(Order("SP500", "buy", 4.0), state(free_balance=350.0))

    assert (verdict.refusal.check, verdict.refusal.value) == ("balance", 400.0)


def test_validate_tx_risk__bucket_empty__refused_by_the_rate_limit():
    empty = TokenBucket(2, 1.0, 0.0, int(AT.timestamp() * 1e9))

    verdict = validate_tx_risk(Order("SP500", "sell", 1.0), state(bucket=empty))

    assert verdict.refusal.check == "order_rate"
