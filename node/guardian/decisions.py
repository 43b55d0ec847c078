"""The answers of the Guardian checks. A decision always names its check and carries the
numbers it compared, so a rejection recorded or sent back to the desk says what failed and by
how much."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LimitDecision:
    """`allowed` when `value` is within `limit` for `check` (the reading of "within" is the
    check's: notional <= cap, tokens >= cost, ...)."""

    allowed: bool
    check: str
    value: float
    limit: float
    reason: str


@dataclass(frozen=True)
class Trigger:
    """An emergency trigger's reading: `triggered` when `value` crossed `limit`; `until` is when
    a lock it imposes ends (None: no lock, or until someone lifts it)."""

    triggered: bool
    check: str
    value: float
    limit: float
    until: datetime | None = None
