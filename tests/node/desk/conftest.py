from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.desk.desk import tape_feed
from node.desk.venue import SimulatedVenue
from node.settings import get_node_settings
from noderr.ports import free_port
from tests.node.desk.builders import AT, FLAT_BOOK


@pytest.fixture
def flat_venue() -> SimulatedVenue:
    """A 10 bps venue over the flat book (see builders.FLAT_BOOK), the feed at 100."""
    venue = SimulatedVenue(fee_bps=10, book_profile=FLAT_BOOK)
    venue.on_price("SP500", 100, AT)
    return venue


@pytest.fixture(scope="session")
def sp500_300_days() -> list:
    """300 daily closes of the replayed S&P 500 from 2007-01-03 (bar 2011): the 2007 top and
    the start of the 2008 fall."""
    return tape_feed("SP500", 2011, 300)


@pytest.fixture
def unreachable_chain(monkeypatch) -> Iterator[None]:
    """NODERR_RPC_URL at a port nothing listens on, the node settings read afresh."""
    monkeypatch.setenv("NODERR_RPC_URL", f"http://127.0.0.1:{free_port()}")
    get_node_settings.cache_clear()
    yield
    get_node_settings.cache_clear()
