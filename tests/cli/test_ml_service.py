"""The demo's ML server (noderr_cli.services.ml_service): a real `noderr ml serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ml.settings import get_ml_settings
from noderr.ports import free_port
from noderr_cli.services import Services, accepts_connections, ml_service
from tests.ml.artifacts import save_small_artifact


@pytest.fixture
def artifact_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """NODERR_ML_DIR holding one small trained artifact, as a demo run before leaves it."""
    monkeypatch.setenv("NODERR_ML_DIR", str(tmp_path / "ml"))
    get_ml_settings.cache_clear()
    save_small_artifact(tmp_path / "ml", "earlier-run")
    yield tmp_path / "ml"
    get_ml_settings.cache_clear()


def test_ml_service__serves_an_existing_artifact_and_stops_with_the_block(
        artifact_dir: Path, tmp_path: Path) -> None:
    services = Services(rpc_url="http://127.0.0.1:1", deployment=tmp_path / "unused.json",
                        database_url="postgresql://unused")
    with ml_service(services, tmp_path / "logs", free_port()) as target:
        with grpc.insecure_channel(target) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    assert not accepts_connections(f"grpc://{target}")
    assert "serving earlier-run" in (tmp_path / "logs" / "ml.log").read_text()
    assert [p.name for p in artifact_dir.iterdir()] == ["earlier-run"]
