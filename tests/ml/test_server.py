"""The gRPC server end to end: a real server and channel, authorized against a fake backend
over real HTTP (tests/ml/fake_backend.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from client.grpc_code import messages, services
from ml import artifact, features
from ml.license_gate import LicenseGate, backend_nodes_me
from ml.model import VolatilityModel
from ml.panel import Panel
from ml.server import SERVICE_NAME, start
from ml.settings import MLSettings
from tests.ml.fake_backend import SLOW, FakeBackend


@pytest.fixture(scope="module")
def channel(served: int) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{served}") as opened:
        yield opened


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> services.VolatilityStub:
    return services.VolatilityStub(channel)


def request(frame: pd.DataFrame, instrument: str = "SPX") -> messages.PredictRequest:
    return messages.PredictRequest(instrument=instrument, history=messages.Ohlcv(
        **{name: frame[name].tolist() for name in features.OHLCV}))


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def status_of(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value.code(), caught.value.details()


def test_health_service_answers_serving(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE_NAME):
        answer = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_predict_equals_the_batch_feature_path(stub: services.VolatilityStub, sp500: pd.DataFrame,
                                               small_panel: Panel,
                                               small_model: VolatilityModel) -> None:
    for t in (700, 850):
        forecast = stub.Predict(request(sp500.iloc[t - 200:t + 1]), metadata=bearer("oracle"),
                                timeout=10)
        expected = small_model.predict(small_panel, t, t + 1)[0]
        assert forecast.variance == pytest.approx(expected, rel=1e-6)
        assert forecast.volatility == pytest.approx(np.sqrt(expected), rel=1e-6)
        assert forecast.instrument == "SPX" and forecast.model_version == "served"
        assert forecast.feature_hash == features.FEATURE_HASH


def test_predict_batch_answers_in_order(stub: services.VolatilityStub, sp500: pd.DataFrame,
                                        nasdaq: pd.DataFrame) -> None:
    items = [request(sp500.iloc[:800], "a"), request(nasdaq.iloc[:800], "b"),
             request(sp500.iloc[:861], "c")]
    batch = stub.PredictBatch(messages.PredictBatchRequest(requests=items),
                              metadata=bearer("guardian"), timeout=10)
    singles = [stub.Predict(item, metadata=bearer("guardian"), timeout=10) for item in items]
    assert [f.instrument for f in batch.forecasts] == ["a", "b", "c"]
    for one, other in zip(batch.forecasts, singles, strict=True):
        assert one.variance == pytest.approx(other.variance, rel=1e-6)


@pytest.mark.parametrize(("metadata", "code", "reason"), [
    ((), grpc.StatusCode.UNAUTHENTICATED, "sign in first"),
    ((("authorization", "Basic abc"),), grpc.StatusCode.UNAUTHENTICATED, "sign in first"),
    (bearer("forged"), grpc.StatusCode.UNAUTHENTICATED, "sign in again"),
    (bearer("validator"), grpc.StatusCode.PERMISSION_DENIED, "no active Oracle or Guardian"),
    (bearer("unlicensed"), grpc.StatusCode.PERMISSION_DENIED, "holds no active license"),
    (bearer("lagging"), grpc.StatusCode.UNAVAILABLE, "mirror lags"),
])
def test_callers_without_an_oracle_or_guardian_license_are_refused(
        stub: services.VolatilityStub, sp500: pd.DataFrame, metadata: tuple,
        code: grpc.StatusCode, reason: str) -> None:
    got, details = status_of(stub.Predict, request(sp500.iloc[:200]), metadata=metadata,
                             timeout=10)
    assert got == code and reason in details
    got, _ = status_of(stub.PredictBatch, messages.PredictBatchRequest(
        requests=[request(sp500.iloc[:200])]), metadata=metadata, timeout=10)
    assert got == code


def test_decisions_are_cached_per_token_and_lag_is_not(stub: services.VolatilityStub,
                                                       backend: FakeBackend,
                                                       sp500: pd.DataFrame) -> None:
    backend.calls.clear()
    for _ in range(3):
        stub.Predict(request(sp500.iloc[:200]), metadata=bearer("guardian"), timeout=10)
        status_of(stub.Predict, request(sp500.iloc[:200]), metadata=bearer("lagging"),
                  timeout=10)
    assert backend.calls["guardian"] <= 1 and backend.calls["lagging"] == 3


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda f: f.iloc[:125], "need at least 126 rows"),
    (lambda f: f.assign(close=f["close"].where(f.index != f.index[70], -1.0)),
     "price that is not positive"),
    (lambda f: f.assign(high=f["low"] * 0.99), "high below open, low or close"),
    (lambda f: f.assign(volume=np.nan), "missing or not a number"),
])
def test_bad_input_is_invalid_argument_with_the_reason(
        stub: services.VolatilityStub, sp500: pd.DataFrame, mutate, reason: str) -> None:
    code, details = status_of(stub.Predict, request(mutate(sp500.iloc[:200]), "SPX"),
                              metadata=bearer("oracle"), timeout=10)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and reason in details
    assert details.startswith("SPX: ")


def test_columns_of_different_lengths_are_invalid(stub: services.VolatilityStub,
                                                  sp500: pd.DataFrame) -> None:
    item = request(sp500.iloc[:200])
    del item.history.volume[-1]
    code, details = status_of(stub.Predict, item, metadata=bearer("oracle"), timeout=10)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "same length" in details
    code, details = status_of(stub.PredictBatch, messages.PredictBatchRequest(),
                              metadata=bearer("oracle"), timeout=10)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "empty" in details


def test_the_deadline_is_honoured_while_the_backend_is_slow(stub: services.VolatilityStub,
                                                            sp500: pd.DataFrame) -> None:
    code, _ = status_of(stub.Predict, request(sp500.iloc[:200]), metadata=bearer(SLOW),
                        timeout=0.3)
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_an_unreachable_backend_fails_closed(loaded: artifact.Artifact,
                                             sp500: pd.DataFrame) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = MLSettings(api_url=f"http://127.0.0.1:{closed_port}")
    server, port = start(loaded, settings, "127.0.0.1", 0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            code, details = status_of(services.VolatilityStub(channel).Predict,
                                      request(sp500.iloc[:200]), metadata=bearer("oracle"),
                                      timeout=10)
        assert code == grpc.StatusCode.UNAVAILABLE and "does not answer" in details
    finally:
        server.stop(grace=None)


def test_gate_reuses_a_decision_only_briefly(backend: FakeBackend) -> None:
    now = [0.0]
    gate = LicenseGate(backend_nodes_me(backend.url), cache_seconds=2.0, clock=lambda: now[0])
    backend.calls.clear()
    first = gate.check("oracle", 5)
    assert first.indexed_block == 42 and first.address.startswith("0x7099")
    gate.check("oracle", 5)
    now[0] = 2.5
    gate.check("oracle", 5)
    assert backend.calls["oracle"] == 2


def test_missing_generated_code_says_how_to_build_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = ("import sys; sys.modules['client.volatility_pb2'] = None\n"
              "try:\n    import client.grpc_code\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[2]).stdout
    assert "make setup" in out
