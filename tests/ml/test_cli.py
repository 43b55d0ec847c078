"""`noderr ml` through its typer app (the lead mounts ml_app as `noderr ml`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pandas as pd
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from typer.testing import CliRunner

from ml import artifact
from ml.cli import ml_app
from ml.model import VolatilityModel
from ml.server import SERVICE_NAME
from ml.settings import get_ml_settings
from noderr.ports import free_port

runner = CliRunner()


@pytest.fixture
def ml_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NODERR_ML_DIR", str(tmp_path / "artifacts"))
    get_ml_settings.cache_clear()
    yield tmp_path / "artifacts"
    get_ml_settings.cache_clear()


@pytest.fixture(scope="module")
def short_csv(tmp_path_factory: pytest.TempPathFactory, sp500: pd.DataFrame) -> Path:
    """Two years: the test window is its last 20% (one refit), so the real model trains fast."""
    path = tmp_path_factory.mktemp("csv") / "spx-short.csv"
    sp500.iloc[:500].rename_axis("date").reset_index().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def evaluated(short_csv: Path) -> dict:
    result = runner.invoke(ml_app, ["evaluate", "--csv", str(short_csv), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_evaluate_json_has_every_model(evaluated: dict) -> None:
    models = evaluated["models"]
    assert set(models) == {"model", "ewma", "garch", "har", "ridge"}
    assert models["model"]["dm_t"] is None
    for name, row in models.items():
        assert row["qlike"] > 0 and row["mse"] > 0
        assert name == "model" or isinstance(row["dm_t"], float)
    assert evaluated["test_days"] == 88


def test_a_csv_missing_a_column_is_one_error_line(tmp_path: Path, sp500: pd.DataFrame) -> None:
    path = tmp_path / "no-volume.csv"
    sp500.iloc[:100].drop(columns="volume").rename_axis("date").reset_index().to_csv(
        path, index=False)
    result = runner.invoke(ml_app, ["evaluate", "--csv", str(path)])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {path}: missing column(s) volume"


def test_too_short_a_csv_is_refused(tmp_path: Path, sp500: pd.DataFrame) -> None:
    path = tmp_path / "short.csv"
    sp500.iloc[:300].rename_axis("date").reset_index().to_csv(path, index=False)
    result = runner.invoke(ml_app, ["evaluate", "--csv", str(path)])
    assert result.exit_code == 1 and result.output.startswith("error: need at least 250")


def test_train_writes_a_loadable_artifact(short_csv: Path, ml_dir: Path, evaluated: dict,
                                          sp500: pd.DataFrame) -> None:
    result = runner.invoke(ml_app, ["train", "--data", str(short_csv)])
    assert result.exit_code == 0, result.output
    for name in ("model", "ewma", "garch", "har", "ridge", "QLIKE", "MSE", "DM t"):
        assert name in result.stdout
    assert f"{evaluated['models']['har']['qlike']:.4f}" in result.stdout
    path = artifact.newest(ml_dir)
    assert f"artifact: {path}" in result.stdout and path.name.startswith("spx-short-")
    manifest = artifact.load(path).manifest
    assert manifest["data"] == "spx-short" and manifest["device"] == "cpu"
    dates = [str(sp500.index[row].date()) for row in (60 + 65, 499)]
    assert manifest["training_window"] == {"first": dates[0], "last": dates[1], "rows": 374}
    assert manifest["metrics"]["models"] == evaluated["models"]


def test_train__no_evaluation_saves_an_artifact_that_says_so(short_csv: Path,
                                                              ml_dir: Path) -> None:
    result = runner.invoke(ml_app, ["train", "--data", str(short_csv), "--no-evaluation"])
    assert result.exit_code == 0, result.output
    assert "QLIKE" not in result.stdout and "not evaluated" in result.stdout
    manifest = artifact.load(artifact.newest(ml_dir)).manifest
    assert manifest["metrics"] == {"evaluated": False}
    assert manifest["training_window"]["rows"] == 374


def test_cuda_without_a_gpu_is_one_error_line(short_csv: Path, ml_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a GPU machine too
    result = runner.invoke(ml_app, ["train", "--data", str(short_csv), "--device", "cuda"])
    assert result.exit_code == 1 and "CUDA is not available" in result.output


def test_serve_without_an_artifact_is_one_error_line(ml_dir: Path) -> None:
    result = runner.invoke(ml_app, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "no model artifact" in result.output and "noderr ml train" in result.output


def test_module_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "ml.cli", "--help"], capture_output=True,
                            text=True, check=True, cwd=Path(__file__).parents[2])
    for command in ("train", "evaluate", "serve"):
        assert command in result.stdout


def test_serve_answers_health_and_metrics_and_stops_on_sigterm(
        tmp_path: Path, small_model: VolatilityModel) -> None:
    path = artifact.save(small_model, tmp_path / "served")
    env = {**os.environ, "NODERR_ML_ARTIFACT": str(path), "PYTHONUNBUFFERED": "1"}
    metrics_port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ml.cli", "serve", "--port", "0",
                                "--metrics-port", str(metrics_port)],
                               cwd=Path(__file__).parents[2], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving served on 127.0.0.1:"), line
        port = int(line.split(":")[1].split()[0])
        assert process.stdout.readline().strip() == (
            f"metrics on http://127.0.0.1:{metrics_port}/metrics")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert 'noderr_ml_model_info{feature_hash="' in scraped and 'version="served"' in scraped
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
