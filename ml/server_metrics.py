"""What the ML server tells Prometheus (`noderr ml serve --metrics-port`, NODERR_ML_METRICS_PORT,
on 127.0.0.1 only): each Predict/PredictBatch call by method and gRPC status code with its
latency, each license decision, and the loaded artifact's version. Names and style follow the
API's (backend/api/metrics.py); the alert on them is NoderrMLServerErrors
(ops/prometheus/alerts.yml). Not to be confused with ml/metrics.py, the forecasts' losses.

Each server has a registry of its own, so two servers in one process (the tests) count apart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, Info, start_http_server

from ml.artifact import Artifact

ANSWERED_CODES = (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT,
                  grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                  grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                  grpc.StatusCode.UNKNOWN)
"""The codes the Volatility service answers with, counted from 0 at start so that an alert's
`rate()` sees the first one (a series born at 1 hides its first increment)."""
DECISIONS = ("granted", "unauthenticated", "permission_denied", "unavailable")
"""The license gate's answers: the call proceeds, or the gRPC status it is refused with."""
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""A cached license decision and one forward pass take about a millisecond; a backend check
adds an HTTP round trip; NODERR_ML_AUTH_TIMEOUT (2 s) bounds the slow end."""


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "noderr_ml_requests", "Volatility calls answered, by method and gRPC status code.",
            ["method", "code"], registry=self.registry)
        self.latency = Histogram(
            "noderr_ml_request_duration_seconds", "Seconds from a Volatility call to its answer, "
            "by method.", ["method"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.decisions = Counter(
            "noderr_ml_auth_decisions", "License decisions on Volatility calls: granted, or the "
            "status the call was refused with.", ["decision"], registry=self.registry)
        self.model = Info("noderr_ml_model", "The artifact the server answers with.",
                          registry=self.registry)
        for decision in DECISIONS:
            self.decisions.labels(decision)

    def describe(self, loaded: Artifact) -> None:
        self.model.info({"version": loaded.version,
                         "feature_hash": loaded.manifest["features"]["hash"]})

    def decided(self, decision: str) -> None:
        self.decisions.labels(decision).inc()

    def interceptor(self, service: str, methods: tuple[str, ...]) -> grpc.ServerInterceptor:
        """Counts and times the unary `methods` of `service`; other services (health) pass."""
        for method in methods:
            self.latency.labels(method)
            for code in ANSWERED_CODES:
                self.requests.labels(method, code.name)
        return _Observing(self, f"/{service}/")

    def serve(self, port: int) -> int:
        """Serve /metrics on 127.0.0.1:`port` (0 picks a free one) from a background thread;
        the bound port."""
        server, _thread = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        return server.server_port

    def observed(self, method: str, behaviour: Callable[[Any, grpc.ServicerContext], Any]
                 ) -> Callable[[Any, grpc.ServicerContext], Any]:
        """`behaviour` counted by the code it ends with: the one it set or aborted with, OK when
        it answered without one, UNKNOWN when it raised without one (what gRPC answers)."""

        def counted(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            outcome = grpc.StatusCode.UNKNOWN
            try:
                answer = behaviour(request, context)
                outcome = grpc.StatusCode.OK
                return answer
            finally:
                code = context.code() or outcome
                self.requests.labels(method, code.name).inc()
                self.latency.labels(method).observe(time.perf_counter() - started)

        return counted


class _Observing(grpc.ServerInterceptor):
    def __init__(self, metrics: ServerMetrics, prefix: str) -> None:
        self.metrics = metrics
        self.prefix = prefix

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Any],
                          details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None or \
                not details.method.startswith(self.prefix):
            return handler
        method = details.method.removeprefix(self.prefix)
        return grpc.unary_unary_rpc_method_handler(
            self.metrics.observed(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)
