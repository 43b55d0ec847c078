"""Configuration of `noderr ml` from `NODERR_*` environment variables (docs/ml.md lists them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from noderr.settings import get_settings


class MLSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    api_url: str = Field("http://127.0.0.1:8000",
                         description="Backend API that answers GET /nodes/me (as the dashboard's).")
    ml_dir: Path | None = Field(
        None, description="Where `noderr ml train` writes artifacts; default <data_dir>/ml.")
    ml_artifact: Path | None = Field(
        None, description="Artifact `noderr ml serve` loads; default the newest in ml_dir.")
    ml_seed: int = Field(0, description="Seed of model training (same seed, same weights).")
    ml_torch_threads: int = Field(
        1, ge=1, description="CPU threads torch uses; one is fastest on a shared 2-core host.")
    ml_auth_cache_seconds: float = Field(
        2.0, ge=0, description="How long a license decision of the backend is reused.")
    ml_auth_timeout: float = Field(
        2.0, gt=0, description="Seconds the license check may take before the call is refused.")
    ml_max_rows: int = Field(
        10_000, ge=61, description="Most OHLCV rows one instrument may send.")
    ml_workers: int = Field(8, ge=1, description="Threads answering gRPC calls.")
    ml_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port of the server's Prometheus /metrics on 127.0.0.1 "
                                       "(0: none); `noderr ml serve --metrics-port` overrides.")

    def artifact_dir(self) -> Path:
        return self.ml_dir or get_settings().data_dir / "ml"


@lru_cache
def get_ml_settings() -> MLSettings:
    return MLSettings()
