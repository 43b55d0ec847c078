"""client.forecasts against a real ML server (tests/ml/conftest.py `served`): what a node calls."""

from __future__ import annotations

import pandas as pd
import pytest

from client.forecasts import ForecastClient, ForecastError
from ml.model import VolatilityModel
from ml.panel import Panel


def columns(frame: pd.DataFrame) -> dict[str, list[float]]:
    return {name: frame[name].tolist() for name in ("open", "high", "low", "close", "volume")}


def client(port: int, token: str) -> ForecastClient:
    return ForecastClient(f"127.0.0.1:{port}", token, timeout=10)


def test_predict__licensed_oracle_gets_the_models_forecast(
        served: int, sp500: pd.DataFrame, small_panel: Panel,
        small_model: VolatilityModel) -> None:
    with client(served, "oracle") as forecasts:
        answer = forecasts.predict("SPX", columns(sp500.iloc[600:801]))
    expected = small_model.predict(small_panel, 800, 801)[0]
    assert answer.instrument == "SPX"
    assert answer.variance == pytest.approx(expected, rel=1e-5)
    assert answer.volatility == pytest.approx(expected ** 0.5, rel=1e-5)
    assert answer.feature_hash


def test_predict_batch__answers_every_instrument_by_name(served: int,
                                                         sp500: pd.DataFrame) -> None:
    histories = {"A": columns(sp500.iloc[500:700]), "B": columns(sp500.iloc[600:800])}
    with client(served, "guardian") as forecasts:
        answers = forecasts.predict_batch(histories)
        alone = forecasts.predict("B", histories["B"])
    assert list(answers) == ["A", "B"]
    assert answers["B"].variance == pytest.approx(alone.variance, rel=1e-5)  # float32 batch
    assert answers["A"].variance != answers["B"].variance


@pytest.mark.parametrize(("token", "code"), [("no-such-session", "UNAUTHENTICATED"),
                                             ("unlicensed", "PERMISSION_DENIED"),
                                             ("validator", "PERMISSION_DENIED")])
def test_predict__refusal_is_a_forecast_error_naming_the_status(
        served: int, sp500: pd.DataFrame, token: str, code: str) -> None:
    with client(served, token) as forecasts, pytest.raises(ForecastError) as refused:
        forecasts.predict("SPX", columns(sp500.iloc[600:801]))
    assert refused.value.code == code
    assert refused.value.detail


def test_predict__too_short_a_history_is_invalid_argument(served: int,
                                                          sp500: pd.DataFrame) -> None:
    with client(served, "oracle") as forecasts, pytest.raises(ForecastError) as refused:
        forecasts.predict("SPX", columns(sp500.iloc[:20]))
    assert refused.value.code == "INVALID_ARGUMENT"
    assert "rows" in refused.value.detail


def test_predict__history_without_a_column_is_refused_before_sending(served: int) -> None:
    with client(served, "oracle") as forecasts, pytest.raises(ValueError, match="volume"):
        forecasts.predict("SPX", {"open": [1.0], "high": [1.0], "low": [1.0], "close": [1.0]})


def test_predict__unreachable_server_is_unavailable() -> None:
    with ForecastClient("127.0.0.1:9", "oracle", timeout=2) as forecasts, \
            pytest.raises(ForecastError) as refused:
        forecasts.predict("SPX", {name: [1.0] * 200 for name in
                                  ("open", "high", "low", "close", "volume")})
    assert refused.value.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
