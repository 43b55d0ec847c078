from __future__ import annotations

import pandas as pd
import pytest
import torch

from ml import data


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
