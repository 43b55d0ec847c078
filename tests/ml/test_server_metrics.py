"""The ML server's Prometheus metrics (ml/server_metrics.py) on a real gRPC server, scraped over
HTTP: calls by method and status code, license decisions, the artifact's version."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import httpx
import pandas as pd
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from client.grpc_code import messages, services
from ml import artifact
from ml.server import start
from ml.server_metrics import ServerMetrics
from ml.settings import MLSettings
from tests.ml.fake_backend import FakeBackend
from tests.ml.test_server import bearer, request, status_of


@pytest.fixture(scope="module")
def metrics() -> ServerMetrics:
    return ServerMetrics()


@pytest.fixture(scope="module")
def channel(backend: FakeBackend, loaded: artifact.Artifact,
            metrics: ServerMetrics) -> Iterator[grpc.Channel]:
    """A channel to a real server of `loaded` counting into `metrics`."""
    settings = MLSettings(api_url=backend.url, ml_auth_cache_seconds=60, ml_auth_timeout=5)
    server, port = start(loaded, settings, "127.0.0.1", 0, metrics=metrics)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened
    server.stop(grace=None)


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> services.VolatilityStub:
    return services.VolatilityStub(channel)


@pytest.fixture(scope="module")
def metrics_url(metrics: ServerMetrics) -> str:
    return f"http://127.0.0.1:{metrics.serve(0)}/metrics"


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of the scrape, by name and labels."""
    text = httpx.get(url, timeout=10).text
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_predict_and_refusals__move_the_counters_by_method_and_code(
        sp500: pd.DataFrame, stub: services.VolatilityStub, metrics_url: str) -> None:
    before = scrape(metrics_url)
    stub.Predict(request(sp500.iloc[:200]), metadata=bearer("oracle"), timeout=10)
    assert status_of(stub.Predict, request(sp500.iloc[:200]), metadata=bearer("validator"),
                     timeout=10)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert status_of(stub.PredictBatch, messages.PredictBatchRequest(
        requests=[request(sp500.iloc[:200])]), timeout=10)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert status_of(stub.Predict, request(sp500.iloc[:20]), metadata=bearer("oracle"),
                     timeout=10)[0] == grpc.StatusCode.INVALID_ARGUMENT
    after = scrape(metrics_url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "noderr_ml_requests_total"
    assert moved(requests, method="Predict", code="OK") == 1
    assert moved(requests, method="Predict", code="PERMISSION_DENIED") == 1
    assert moved(requests, method="Predict", code="INVALID_ARGUMENT") == 1
    assert moved(requests, method="PredictBatch", code="UNAUTHENTICATED") == 1
    assert moved(requests, method="PredictBatch", code="OK") == 0
    decisions = "noderr_ml_auth_decisions_total"
    assert moved(decisions, decision="granted") == 2
    assert moved(decisions, decision="permission_denied") == 1
    assert moved(decisions, decision="unauthenticated") == 1
    assert moved("noderr_ml_request_duration_seconds_count", method="Predict") == 3


def test_scrape__names_the_loaded_artifact_and_leaves_health_checks_out(
        channel: grpc.Channel, metrics_url: str, loaded: artifact.Artifact) -> None:
    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    samples = scrape(metrics_url)
    assert value(samples, "noderr_ml_model_info", version="served",
                 feature_hash=loaded.manifest["features"]["hash"]) == 1
    methods = {dict(labels).get("method") for name, labels in samples
               if name == "noderr_ml_requests_total"}
    assert methods == {"Predict", "PredictBatch"}

