"""Small builders of the Guardian functions' inputs."""

from __future__ import annotations

from datetime import UTC, datetime

from node.guardian.orders import Order, Side

AT = datetime(2020, 3, 2, 15, 30, tzinfo=UTC)
LIMITS = {"SP500": 50_000.0, "NASDAQ": 20_000.0}


def order(side: Side = "buy", quantity: float = 10.0, instrument: str = "SP500",
          price: float | None = None) -> Order:
    return Order(instrument, side, quantity, price)


def address(number: int) -> str:
    """A distinct, well-formed address per number."""
    return "0x" + f"{number:040x}"
