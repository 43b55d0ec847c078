from __future__ import annotations

import pytest

from node.sources.market import Bars, BookSnapshot
from node.sources.replay import load_tape
from tests.node.oracle.builders import book


@pytest.fixture(scope="session")
def sp500() -> Bars:
    """The replayed S&P 500 daily bars (5,031)."""
    return load_tape("SP500").bars


@pytest.fixture(scope="session")
def eurusd() -> Bars:
    """The replayed EURUSD hourly bars (5,000)."""
    return load_tape("EURUSD").bars


@pytest.fixture
def small_book() -> BookSnapshot:
    """Bid 99/98/97 for 10/20/30, ask 101/102/103 for 5/15/25: mid 100, spread 2."""
    return book(bids=[(99.0, 10.0), (98.0, 20.0), (97.0, 30.0)],
                asks=[(101.0, 5.0), (102.0, 15.0), (103.0, 25.0)])
