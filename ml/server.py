"""The gRPC server of the volatility model (client/volatility.proto) and the standard health
service. Every Predict/PredictBatch call is authorized by the license gate first; the health
service answers anyone, as load balancers expect. Calls and license decisions are counted for
Prometheus (ml/server_metrics.py)."""

from __future__ import annotations

import math
import signal
import threading
from concurrent import futures

import grpc
import numpy as np
import pandas as pd
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from client.grpc_code import messages, services
from ml import features
from ml.artifact import Artifact
from ml.data import DataError, validate
from ml.license_gate import LicenseGate, Verdict, backend_nodes_me
from ml.server_metrics import ServerMetrics
from ml.settings import MLSettings

SERVICE_NAME = "noderr.ml.v1.Volatility"
STATUS_OF = {Verdict.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
             Verdict.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
             Verdict.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE}
METHODS = ("Predict", "PredictBatch")


class VolatilityService(services.VolatilityServicer):
    def __init__(self, loaded: Artifact, gate: LicenseGate, auth_timeout: float,
                 max_rows: int, metrics: ServerMetrics) -> None:
        self.loaded = loaded
        self.gate = gate
        self.auth_timeout = auth_timeout
        self.max_rows = max_rows
        self.metrics = metrics

    def Predict(self, request: messages.PredictRequest,
                context: grpc.ServicerContext) -> messages.Forecast:
        self._authorize(context)
        row = self._input_row(request, context)
        return self._forecasts([request.instrument], row[None, :])[0]

    def PredictBatch(self, request: messages.PredictBatchRequest,
                     context: grpc.ServicerContext) -> messages.PredictBatchResponse:
        self._authorize(context)
        if not request.requests:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "requests is empty")
        rows = np.stack([self._input_row(item, context) for item in request.requests])
        _check_deadline(context)
        return messages.PredictBatchResponse(
            forecasts=self._forecasts([item.instrument for item in request.requests], rows))

    def _authorize(self, context: grpc.ServicerContext) -> None:
        _check_deadline(context)
        token = _bearer_token(context)
        if token is None:
            self.metrics.decided("unauthenticated")
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "sign in first: send metadata authorization: Bearer <session token>")
        remaining = context.time_remaining()
        timeout = self.auth_timeout if remaining is None else min(self.auth_timeout, remaining)
        decision = self.gate.check(token, timeout)
        refusal = STATUS_OF.get(decision.verdict)
        self.metrics.decided("granted" if refusal is None else refusal.name.lower())
        _check_deadline(context)
        if refusal is not None:
            context.abort(refusal, decision.reason)

    def _input_row(self, request: messages.PredictRequest,
                   context: grpc.ServicerContext) -> np.ndarray:
        """The model's input row for the day after the history's last row."""
        _check_deadline(context)
        model = self.loaded.model
        try:
            return model.inputs(features.latest(self._history(request), model.span))[0]
        except (DataError, ValueError) as error:
            label = request.instrument or "history"
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{label}: {error}")
            raise  # unreachable: abort raises

    def _history(self, request: messages.PredictRequest) -> pd.DataFrame:
        columns = {name: getattr(request.history, name) for name in features.OHLCV}
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1:
            raise DataError("open, high, low, close and volume must have the same length")
        rows = lengths.pop()
        needed = self.loaded.model.history
        if rows < needed:
            raise DataError(f"need at least {needed} rows of history, got {rows}")
        if rows > self.max_rows:
            raise DataError(f"at most {self.max_rows} rows of history, got {rows}")
        return validate(pd.DataFrame({name: np.asarray(values, dtype=np.float64)
                                      for name, values in columns.items()}))

    def _forecasts(self, instruments: list[str], rows: np.ndarray) -> list[messages.Forecast]:
        variances = self.loaded.model.predict_inputs(rows)
        manifest = self.loaded.manifest
        return [messages.Forecast(instrument=name, variance=float(variance),
                                  volatility=math.sqrt(variance), model_version=self.loaded.version,
                                  feature_hash=manifest["features"]["hash"])
                for name, variance in zip(instruments, variances, strict=True)]


def start(loaded: Artifact, settings: MLSettings, host: str, port: int,
          gate: LicenseGate | None = None,
          metrics: ServerMetrics | None = None) -> tuple[grpc.Server, int]:
    """A started server and the port it is bound to (`port` 0 picks a free one); it counts
    into `metrics` (serving them over HTTP is the caller's choice)."""
    gate = gate or LicenseGate(backend_nodes_me(settings.api_url), settings.ml_auth_cache_seconds)
    metrics = metrics or ServerMetrics()
    metrics.describe(loaded)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=settings.ml_workers),
                         interceptors=[metrics.interceptor(SERVICE_NAME, METHODS)])
    services.add_VolatilityServicer_to_server(
        VolatilityService(loaded, gate, settings.ml_auth_timeout, settings.ml_max_rows, metrics),
        server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise RuntimeError(f"cannot listen on {host}:{port}")
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, bound


def run_until_signalled(server: grpc.Server, grace: float = 5.0) -> None:
    """Block until SIGINT or SIGTERM, then let calls in flight finish (up to `grace` s)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop(grace).wait()


def _bearer_token(context: grpc.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _check_deadline(context: grpc.ServicerContext) -> None:
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the forecast")
