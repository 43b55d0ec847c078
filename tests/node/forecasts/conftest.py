"""A real ML server (tests/ml/conftest.py's small model, authorized against the fake backend's
/nodes/me, whose tokens name the caller: "guardian", "oracle", "unlicensed", …) for the
node's forecast client, the guardian's watch and the desk's sizing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from node.runtime.forecasts import VolatilityForecasts
from node.sources.market import from_ns
from node.sources.replay import load_tape
from tests.ml.conftest import (  # noqa: F401  fixtures, used by name
    backend,
    loaded,
    one_torch_thread,
    served,
    small_model,
    small_panel,
    sp500,
)

DEADLINE_S = 10.0


@pytest.fixture
def target(served: int) -> str:  # noqa: F811  the imported fixture, by name
    return f"127.0.0.1:{served}"


@pytest.fixture
def guardian_forecasts(target: str) -> Iterator[VolatilityForecasts]:
    forecasts = VolatilityForecasts(target, lambda: "guardian", DEADLINE_S)
    yield forecasts
    forecasts.close()


def sp500_time(bar: int) -> datetime:
    """The start of the replayed S&P 500's bar `bar`."""
    return from_ns(int(load_tape("SP500").start_ns[bar]))
