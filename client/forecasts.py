"""Typed client of the ML service (client/volatility.proto): next-day variance forecasts for a
caller holding an active Oracle or Guardian license, authorized by its SIWE session token.

Every call has a deadline; every refusal is a `ForecastError` carrying the gRPC status name and
the server's reason, so a node can say why it runs without a forecast instead of stalling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType

import grpc

from client.grpc_code import messages, services

OHLCV = ("open", "high", "low", "close", "volume")
History = Mapping[str, Sequence[float]]
"""Daily bars as columns (open, high, low, close, volume), oldest first."""


@dataclass(frozen=True)
class VolatilityForecast:
    instrument: str
    variance: float
    """Next-day variance, daily, in return units squared."""
    volatility: float
    model_version: str
    feature_hash: str


class ForecastError(Exception):
    """The ML service refused or could not answer; `code` is the gRPC status name
    (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, DEADLINE_EXCEEDED, UNAVAILABLE…)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ForecastClient:
    """One channel to `target` (host:port); `token` is the caller's SIWE session token."""

    def __init__(self, target: str, token: str, timeout: float = 5.0) -> None:
        self._channel = grpc.insecure_channel(target)
        self._stub = services.VolatilityStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout = timeout

    def predict(self, instrument: str, history: History) -> VolatilityForecast:
        answer = self._call(self._stub.Predict, _request(instrument, history))
        return _forecast(answer)

    def predict_batch(self, histories: Mapping[str, History]) -> dict[str, VolatilityForecast]:
        """All instruments in one call, all or nothing."""
        batch = messages.PredictBatchRequest(
            requests=[_request(name, history) for name, history in histories.items()])
        answer = self._call(self._stub.PredictBatch, batch)
        return {item.instrument: _forecast(item) for item in answer.forecasts}

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> ForecastClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _call(self, method, request):
        try:
            return method(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            raise ForecastError(error.code().name, error.details() or "") from error


def _request(instrument: str, history: History) -> messages.PredictRequest:
    missing = [name for name in OHLCV if name not in history]
    if missing:
        raise ValueError(f"history of {instrument} lacks {', '.join(missing)}")
    return messages.PredictRequest(instrument=instrument, history=messages.Ohlcv(
        **{name: [float(value) for value in history[name]] for name in OHLCV}))


def _forecast(answer: messages.Forecast) -> VolatilityForecast:
    return VolatilityForecast(answer.instrument, answer.variance, answer.volatility,
                              answer.model_version, answer.feature_hash)
