"""Position limit enforcement: the pre-trade checks of one order, as nautilus_trader's
RiskEngine makes them (max notional per order per instrument, a submit rate throttle) plus a
position cap, a balance check and a price band (the exchanges' price collar: a limit price too
far from the reference price is refused, a fat finger caught before the venue). Each answers a
LimitDecision naming the check and its numbers. An instrument without a configured limit is
refused (UnknownInstrument): the desk fails closed on a refusal, so a missing limit never lets
an order through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from node.guardian import checks as guardian_checks
from node.guardian.decisions import LimitDecision
from node.guardian.orders import Order
from node.oracle import checks
from node.oracle.refusals import MalformedInput

NS_PER_SECOND = 1_000_000_000


def _execution_price(order: Order, price: float) -> float:
    """The price the order is valued at: its limit price, else the given mark price."""
    mark = checks.positive_scalar("price", price)
    return order.price if order.price is not None else mark


def check_order_notional_limit(order: Order, price: float,
                               limits: Mapping[str, float]) -> LimitDecision:
    """quantity * price against the instrument's maximum notional per order. The order is
    valued at its limit price when it has one, else at `price` (the mark)."""
    checked = guardian_checks.order(order)
    cap = guardian_checks.limit_of(limits, checked.instrument)
    notional = checked.quantity * _execution_price(checked, price)
    allowed = notional <= cap
    return LimitDecision(allowed, "order_notional", notional, cap,
                         f"notional {notional:.2f} {'within' if allowed else 'above'} "
                         f"the {cap:.2f} cap of {checked.instrument}")


def check_position_limit(positions: Mapping[str, float], order: Order,
                         limits: Mapping[str, float]) -> LimitDecision:
    """|position after the order| against the instrument's cap (in quantity). An order that
    shrinks the position is allowed even above the cap (a lowered cap must not trap it)."""
    checked = guardian_checks.order(order)
    cap = guardian_checks.limit_of(limits, checked.instrument)
    current = checks.finite_scalar(f"position of {checked.instrument}",
                                   positions.get(checked.instrument, 0.0))
    after = abs(current + checked.signed_quantity)
    allowed = after <= cap or after < abs(current)
    return LimitDecision(allowed, "position", after, cap,
                         f"position after the order {after:g} "
                         f"{'within' if after <= cap else 'above'} the {cap:g} cap"
                         + (" but reduced" if allowed and after > cap else ""))


@dataclass(frozen=True)
class TokenBucket:
    """A token bucket's state: `tokens` of `capacity` at `updated_ns`, refilled continuously at
    `refill_per_second`. A burst of `capacity` orders passes, then `refill_per_second` a
    second; over any span T at most capacity + refill * T are admitted."""

    capacity: float
    refill_per_second: float
    tokens: float
    updated_ns: int

    @classmethod
    def full(cls, capacity: float, refill_per_second: float, at: datetime) -> TokenBucket:
        checks.positive_scalar("capacity", capacity)
        checks.positive_scalar("refill_per_second", refill_per_second)
        return cls(float(capacity), float(refill_per_second), float(capacity),
                   guardian_checks.instant("at", at))


@dataclass(frozen=True)
class RateDecision(LimitDecision):
    """The decision and the bucket to keep for the next order (tokens spent if allowed)."""

    bucket: TokenBucket


def check_order_rate_limit(bucket: TokenBucket, at: datetime,
                           cost: float = 1.0) -> RateDecision:
    """Refill the bucket up to `at`, then admit the submit or modify if `cost` tokens are there.
    The clock is the caller's (`at`), so tests and replays inject it."""
    checks.require(isinstance(bucket, TokenBucket), "bucket must be a TokenBucket")
    spend = checks.positive_scalar("cost", cost)
    checks.require(spend <= bucket.capacity, f"cost {spend} exceeds capacity {bucket.capacity}")
    now_ns = guardian_checks.instant("at", at)
    elapsed_ns = now_ns - bucket.updated_ns
    if elapsed_ns < 0:
        raise MalformedInput(f"order at {at.isoformat()} is before the bucket's last update")
    tokens = min(bucket.capacity,
                 bucket.tokens + elapsed_ns * bucket.refill_per_second / NS_PER_SECOND)
    allowed = tokens >= spend
    kept = TokenBucket(bucket.capacity, bucket.refill_per_second,
                       tokens - spend if allowed else tokens, now_ns)
    return RateDecision(allowed, "order_rate", tokens, spend,
                        f"{tokens:.3f} token(s) for a cost of {spend:g}", kept)


def check_balance_sufficiency(free_balance: float, order: Order, price: float, *,
                              position: float = 0.0, fee_rate: float = 0.0) -> LimitDecision:
    """The order's cost against the free balance. The cost is the fee on the whole order plus
    the notional of the part that opens or grows a position (long or short); the part that
    closes the current `position` releases collateral and needs none."""
    checked = guardian_checks.order(order)
    balance = checks.finite_scalar("free_balance", free_balance)
    held = checks.finite_scalar("position", position)
    checks.require(0 <= fee_rate < 1, f"fee_rate must be in [0, 1), got {fee_rate}")
    unit = _execution_price(checked, price)
    closing = min(checked.quantity, abs(held)) if held * checked.signed_quantity < 0 else 0.0
    required = (checked.quantity - closing) * unit + checked.quantity * unit * fee_rate
    allowed = required <= balance
    return LimitDecision(allowed, "balance", required, balance,
                         f"order needs {required:.2f}, free balance {balance:.2f}")


def check_price_band(order: Order, reference: float, band: float) -> LimitDecision:
    """|order price - reference| / reference against `band` (a fraction in (0, 1)): the order's
    limit price against the reference price (the agreed feed value the order is priced from).
    A market order trades at the reference and is always within."""
    checked = guardian_checks.order(order)
    mark = checks.positive_scalar("reference", reference)
    checks.require(0 < band < 1, f"band must be in (0, 1), got {band}")
    price = _execution_price(checked, mark)
    deviation = abs(price - mark) / mark
    allowed = deviation <= band
    return LimitDecision(allowed, "price_band", deviation, band,
                         f"price {price:g} is {deviation:.2%} from "
                         f"the reference {mark:g}, {'within' if allowed else 'beyond'} the "
                         f"{band:.2%} band")
