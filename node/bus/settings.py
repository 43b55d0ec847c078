"""Configuration of the bus from `NODERR_*` environment variables (docs/bus.md lists them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from noderr.settings import get_settings


class BusSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    bus_url: str = Field("nats://127.0.0.1:4222",
                         description="NATS server of the bus (`noderr bus` listens there).")
    bus_dir: Path | None = Field(
        None, description="JetStream storage of `noderr bus`; default <data_dir>/bus.")
    bus_clock_skew: float = Field(
        30.0, gt=0, description="Seconds a message's signed time may be off the receiver's "
                                "clock before it is dropped as stale.")
    bus_heartbeat_ttl: float = Field(
        15.0, ge=1, description="Seconds a heartbeat stays in the bucket without a new beat.")

    def store_dir(self) -> Path:
        return self.bus_dir or get_settings().data_dir / "bus"


@lru_cache
def get_bus_settings() -> BusSettings:
    return BusSettings()
