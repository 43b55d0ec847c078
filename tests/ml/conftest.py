from __future__ import annotations

import pandas as pd
import pytest
import torch

from ml import data
from ml.model import Hyperparameters, VolatilityModel
from ml.panel import Panel, build


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> None:
    """The suite shares two cores: one torch thread is faster there and deterministic."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sp500() -> pd.DataFrame:
    return data.load("sp500")


@pytest.fixture(scope="session")
def nasdaq() -> pd.DataFrame:
    return data.load("nasdaq")


FAST = Hyperparameters(hidden=16, max_epochs=8, patience=3, ensemble=1)
"""Small enough to train in about a second on a loaded core; tests check behaviour, not skill."""


@pytest.fixture(scope="session")
def small_panel(sp500: pd.DataFrame) -> Panel:
    return build(sp500.iloc[:900])


@pytest.fixture(scope="session")
def small_model(small_panel: Panel) -> VolatilityModel:
    model = VolatilityModel(FAST, seed=7)
    model.fit(small_panel, 700)
    return model
