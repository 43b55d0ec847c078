from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from node.sources.replay import load_tape


@pytest.fixture(scope="session")
def index_returns() -> pd.DataFrame:
    """Daily simple returns of the replayed S&P 500 and NASDAQ closes (1999-2018, 5,030 days)."""
    closes = {name: load_tape(name).bars.close for name in ("SP500", "NASDAQ")}
    time = load_tape("SP500").bars.time
    frame = pd.DataFrame(closes, index=pd.DatetimeIndex(time))
    return frame.pct_change().iloc[1:]


@pytest.fixture(scope="session")
def sp500_closes() -> tuple[np.ndarray, np.ndarray]:
    """(times, closes) of the replayed S&P 500."""
    bars = load_tape("SP500").bars
    return bars.time, bars.close
