"""What an Oracle node publishes each round for a feed: the aggregated value and its confidence
as integers scaled by 10**8 (no float for what goes on-chain), the sources behind it, and when.

The payload carries the two integers as decimal strings: a JSON reader that maps numbers to
doubles (JavaScript, many others) would silently round integers above 2**53."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

PRICE_DECIMALS = 8
PRICE_SCALE = 10**PRICE_DECIMALS
PAYLOAD_KEYS = frozenset(
    {"feed_id", "round_id", "value", "confidence", "sources_used", "observed_at"})


class InvalidObservation(ValueError):
    """An observation (or payload) that breaks the format: never published, never accepted."""


def to_scaled(price: float) -> int:
    """`price` times 10**8, rounded half to even from the decimal the float prints as (its
    shortest round-trip repr: 5e-09 is half a unit, not the binary value just above it)."""
    if not math.isfinite(price):
        raise InvalidObservation(f"cannot scale {price}")
    return int((Decimal(repr(float(price))) * PRICE_SCALE).to_integral_value(ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Observation:
    feed_id: str
    round_id: int
    value: int
    confidence: int
    sources_used: tuple[str, ...]
    observed_at: datetime

    def __post_init__(self) -> None:
        problems = [
            problem for problem, broken in (
                ("feed_id must be a non-empty string",
                 not isinstance(self.feed_id, str) or not self.feed_id),
                ("round_id must be an integer >= 0", not _is_int(self.round_id, 0)),
                ("value must be an integer > 0", not _is_int(self.value, 1)),
                ("confidence must be an integer >= 0", not _is_int(self.confidence, 0)),
                ("sources_used must be a tuple of distinct names",
                 not isinstance(self.sources_used, tuple)
                 or not all(isinstance(name, str) and name for name in self.sources_used)
                 or len(set(self.sources_used)) != len(self.sources_used)),
                ("observed_at must be a UTC datetime",
                 not isinstance(self.observed_at, datetime)
                 or self.observed_at.utcoffset() != timedelta(0)),
            ) if broken]
        if problems:
            raise InvalidObservation("; ".join(problems))

    def to_payload(self) -> dict[str, Any]:
        """A JSON-safe dict (what the bus signs and publishes)."""
        return {
            "feed_id": self.feed_id,
            "round_id": self.round_id,
            "value": str(self.value),
            "confidence": str(self.confidence),
            "sources_used": list(self.sources_used),
            "observed_at": self.observed_at.astimezone(UTC).isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Observation:
        """The observation of a payload from `to_payload`; InvalidObservation for anything else."""
        if not isinstance(payload, Mapping) or set(payload) != PAYLOAD_KEYS:
            raise InvalidObservation(f"payload keys must be exactly {sorted(PAYLOAD_KEYS)}")
        sources = payload["sources_used"]
        if not isinstance(sources, list):
            raise InvalidObservation("sources_used must be a list")
        return cls(
            feed_id=payload["feed_id"],
            round_id=payload["round_id"],
            value=_decimal_integer("value", payload["value"]),
            confidence=_decimal_integer("confidence", payload["confidence"]),
            sources_used=tuple(sources),
            observed_at=_utc_instant(payload["observed_at"]),
        )


def _is_int(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _decimal_integer(name: str, text: object) -> int:
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise InvalidObservation(f"{name} must be a string of decimal digits")
    return int(text)


def _utc_instant(text: object) -> datetime:
    if not isinstance(text, str):
        raise InvalidObservation("observed_at must be an ISO 8601 string")
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidObservation(f"observed_at: {error}") from error
    if instant.utcoffset() != timedelta(0):
        raise InvalidObservation("observed_at must carry the UTC offset")
    return instant
