"""Input checks of the Guardian functions, beside the numeric ones of node.oracle.checks (which
they reuse): orders, addresses, instants, named numbers. Each returns the checked value in the
form the functions compute on, or raises the typed refusal that names the problem."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from node.errors import InvalidParameter, UnknownInstrument
from node.guardian.orders import SIDES, Order
from node.oracle import checks
from node.oracle.refusals import MalformedInput
from node.sources.market import to_ns

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def order(checked: Order) -> Order:
    """A buy or sell of a named instrument for a positive finite quantity (and limit price)."""
    if not isinstance(checked, Order):
        raise MalformedInput(f"expected an Order, got {type(checked).__name__}")
    if checked.side not in SIDES:
        raise MalformedInput(f"order side must be buy or sell, not {checked.side!r}")
    if not checked.instrument:
        raise UnknownInstrument("order names no instrument")
    checks.positive_scalar("order quantity", checked.quantity)
    if checked.price is not None:
        checks.positive_scalar("order price", checked.price)
    return checked


def address(value: str) -> str:
    """An Ethereum address (0x and 40 hex digits, any case) in lowercase, the form compared."""
    if not isinstance(value, str) or not ADDRESS.fullmatch(value):
        raise MalformedInput(f"not an address: {value!r}")
    return value.lower()


def addresses(values: Iterable[str]) -> list[str]:
    """Many addresses checked in a few passes over their concatenation (a deny list of
    thousands costs tens of microseconds, not one regular expression per address); on a
    failure, the address-by-address check names the first bad one."""
    items = list(values)
    try:
        joined = "".join(items)
    except TypeError:
        joined = ""
    count = len(items)
    if (len(joined) == 42 * count and set(map(len, items)) == {42}
            and joined[0::42] == "0" * count
            and joined[1::42] == "x" * count and joined.count("x") == count):
        try:
            valid = len(bytes.fromhex(joined.replace("x", "0"))) == 21 * count
        except ValueError:
            valid = False
        if valid:
            return [item.lower() for item in items]
    return [address(item) for item in items]


def instant(name: str, value: datetime) -> int:
    """A timezone-aware datetime as integer nanoseconds since the epoch."""
    if not isinstance(value, datetime):
        raise InvalidParameter(f"{name} must be a datetime, got {value!r}")
    return to_ns(value)


def limit_of(limits: Mapping[str, float], instrument: str) -> float:
    """The instrument's positive limit; an instrument without one is refused (fail closed)."""
    if instrument not in limits:
        raise UnknownInstrument(f"no limit configured for {instrument!r}")
    return checks.positive_scalar(f"limit of {instrument}", limits[instrument])


def finite_mapping(name: str, values: Mapping[str, float]) -> dict[str, float]:
    return {key: checks.finite_scalar(f"{name}[{key}]", value) for key, value in values.items()}
