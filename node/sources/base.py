"""One interface for every source of market data, and the clock that says what time it is in
the data.

A source answers two questions about an instrument at a data time `at`: its quote now (or None
when it has nothing to say this time: a dropped update, no data yet) and its completed bars in
a window. A replayed source lives in the replay's past, a live one in the present: the `Clock`
maps the node's wall time to the time the sources are asked about, so the Oracle worker runs
the same code on both."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from node.errors import InvalidParameter, UnknownInstrument
from node.sources.market import Bars, Quote


@runtime_checkable
class Source(Protocol):
    """A named source of quotes and bars for some instruments."""

    @property
    def name(self) -> str: ...

    @property
    def instruments(self) -> tuple[str, ...]: ...

    def quote(self, instrument: str, at: datetime) -> Quote | None:
        """The source's price of `instrument` at data time `at`, or None if it sends none now.

        Raises UnknownInstrument for an instrument it does not serve."""
        ...

    def bars(self, instrument: str, start: datetime, end: datetime) -> Bars:
        """The bars of `instrument` completed in (start, end], oldest first (maybe none)."""
        ...


class Clock(Protocol):
    """Maps the node's wall time to the data time its sources are asked about."""

    def replay_time(self, instrument: str, now: datetime) -> datetime: ...


class LiveClock:
    """Live data: the data time is the wall time."""

    def replay_time(self, instrument: str, now: datetime) -> datetime:
        return now


class LiveExchangeSource(ABC):
    """What an adapter to a real exchange implements (REST for bars, a websocket for quotes).

    It is built from the credentials the node fetched from the vault for its license (a
    mapping of names to secrets, e.g. api_key and api_secret), so the data a node reports comes
    from an account bound to its NFT. Subclasses name the credentials they need in
    `required_credentials`; a missing one is refused at construction, before any connection.
    Secrets never appear in repr() or in logs. Its `quote` and `bars` follow `Source`, with
    `at` the wall time (use it with `LiveClock`)."""

    required_credentials: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")

    def __init__(self, name: str, instruments: tuple[str, ...],
                 credentials: Mapping[str, str]) -> None:
        missing = [key for key in self.required_credentials if not credentials.get(key)]
        if missing:
            raise InvalidParameter(f"{name}: missing credential(s) {', '.join(missing)}")
        self._name = name
        self._instruments = tuple(instruments)
        self._credentials = dict(credentials)

    @property
    def name(self) -> str:
        return self._name

    @property
    def instruments(self) -> tuple[str, ...]:
        return self._instruments

    def credential(self, key: str) -> str:
        """One secret, for the subclass's request signing."""
        return self._credentials[key]

    def require_instrument(self, instrument: str) -> None:
        if instrument not in self._instruments:
            raise UnknownInstrument(f"{self._name} does not serve {instrument!r}")

    @abstractmethod
    def quote(self, instrument: str, at: datetime) -> Quote | None: ...

    @abstractmethod
    def bars(self, instrument: str, start: datetime, end: datetime) -> Bars: ...

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self._name!r}, instruments={self._instruments!r}, "
                f"credentials=<{len(self._credentials)} hidden>)")
