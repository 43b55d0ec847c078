from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import torch

from ml import artifact, data
from ml.model import Hyperparameters, VolatilityModel
from ml.panel import Panel, build
from ml.server import start
from ml.settings import MLSettings
from tests.ml.fake_backend import FakeBackend, fake_backend


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


@pytest.fixture(scope="module")
def backend() -> Iterator[FakeBackend]:
    with fake_backend() as server:
        yield server


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory,
           small_model: VolatilityModel) -> artifact.Artifact:
    return artifact.load(artifact.save(small_model, tmp_path_factory.mktemp("ml") / "served"))


@pytest.fixture(scope="module")
def served(backend: FakeBackend, loaded: artifact.Artifact) -> Iterator[int]:
    """The port of a real gRPC server of `loaded`, authorized against `backend`."""
    settings = MLSettings(api_url=backend.url, ml_auth_cache_seconds=60, ml_auth_timeout=5)
    server, port = start(loaded, settings, "127.0.0.1", 0)
    yield port
    server.stop(grace=None)
