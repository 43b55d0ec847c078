"""Transaction validation against risk: a validator asks the Guardian's pre-trade limit checks
(node/guardian/limits.py) about an order before it counts it valid, so the network applies one
set of limits whichever node checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from node.guardian.decisions import LimitDecision
from node.guardian.limits import (
    TokenBucket,
    check_balance_sufficiency,
    check_order_notional_limit,
    check_order_rate_limit,
    check_position_limit,
)
from node.guardian.orders import Order


@dataclass(frozen=True)
class RiskState:
    """The account's state the checks read: the mark price, positions, free balance, the
    configured limits and its submit-rate bucket."""

    at: datetime
    price: float
    positions: Mapping[str, float]
    free_balance: float
    notional_limits: Mapping[str, float]
    position_limits: Mapping[str, float]
    bucket: TokenBucket
    fee_rate: float = 0.0


@dataclass(frozen=True)
class TxRiskVerdict:
    """`allowed` when every check allowed the order; `decisions` in the order they ran (up to
    the first refusal); `bucket` to keep (a token spent only when the order is allowed)."""

    allowed: bool
    decisions: tuple[LimitDecision, ...]
    bucket: TokenBucket

    @property
    def refusal(self) -> LimitDecision | None:
        return None if self.allowed else self.decisions[-1]


def validate_tx_risk(order: Order, state: RiskState) -> TxRiskVerdict:
    """The Guardian's notional, position and balance checks, then its rate limit (last, so a
    refused order spends no token); the first refusal ends the validation."""
    held = state.positions.get(order.instrument, 0.0)
    decisions: list[LimitDecision] = []
    for check in (
        lambda: check_order_notional_limit(order, state.price, state.notional_limits),
        lambda: check_position_limit(state.positions, order, state.position_limits),
        lambda: check_balance_sufficiency(state.free_balance, order, state.price,
                                          position=held, fee_rate=state.fee_rate),
    ):
        decisions.append(check())
        if not decisions[-1].allowed:
            return TxRiskVerdict(False, tuple(decisions), state.bucket)
    rate = check_order_rate_limit(state.bucket, state.at)
    decisions.append(rate)
    return TxRiskVerdict(rate.allowed, tuple(decisions), rate.bucket)
