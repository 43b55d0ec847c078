"""An Oracle with NODERR_ML_TARGET publishes the ML service's forecast volatility of each
instrument as feed INSTRUMENT_VOL, once per new bar, from a real ML server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from client.forecasts import ForecastClient
from node.execution import ExecutionLog
from node.oracle.observation import Observation, to_scaled
from node.runtime.duties import REPLAY_EPOCH, OracleDuties, replay_worker
from node.runtime.forecasts import VolatilityForecasts, daily_history
from node.runtime.network import OBSERVATIONS
from node.settings import NodeSettings
from tests.node.forecasts.conftest import DEADLINE_S

NOW = REPLAY_EPOCH + timedelta(seconds=400)
"""400 replayed days past the warm-up: every daily tape has the model's history by then."""


@pytest.fixture(scope="module")
def worker():
    return replay_worker(ExecutionLog(), 0)


class Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []

    async def publish(self, subject: str, payload: dict) -> None:
        self.published.append((subject, payload))


def oracle(worker, forecasts: VolatilityForecasts) -> tuple[OracleDuties, Recorder]:
    network = Recorder()
    return OracleDuties(network, worker, NodeSettings(), forecasts), network


def test_volatility_observations__licensed_oracle__the_forecast_of_each_instrument(
        worker, target: str):
    forecasts = VolatilityForecasts(target, lambda: "oracle", DEADLINE_S)
    duties, _ = oracle(worker, forecasts)
    observations = asyncio.run(duties.volatility_observations(forecasts, 7, NOW))
    again = asyncio.run(duties.volatility_observations(forecasts, 8, NOW))
    forecasts.close()

    at = worker.clock.replay_time("SP500", NOW)
    with ForecastClient(target, "oracle", DEADLINE_S) as direct:
        sigma = direct.predict("SP500", daily_history("SP500", at)).volatility
    by_feed = {each.feed_id: each for each in observations}
    assert {"SP500_VOL", "NASDAQ_VOL", "GOOG_VOL"} <= set(by_feed)
    assert set(by_feed) <= {f"{name}_VOL" for name in worker.feeds}
    assert by_feed["SP500_VOL"].value == to_scaled(sigma)
    assert (by_feed["SP500_VOL"].round_id, by_feed["SP500_VOL"].sources_used) == (7, ("ml",))
    assert Observation.from_payload(by_feed["SP500_VOL"].to_payload()) == by_feed["SP500_VOL"]
    assert again == []


def test_step__ml_refuses__price_observations_only_and_the_status_kept(worker, target: str):
    forecasts = VolatilityForecasts(target, lambda: "validator", DEADLINE_S)
    duties, network = oracle(worker, forecasts)
    asyncio.run(duties.step())
    forecasts.close()

    assert network.published
    assert not any(subject.endswith("_VOL") for subject, _ in network.published)
    assert all(subject.startswith(f"{OBSERVATIONS}.") for subject, _ in network.published)
    assert {fallback.code for fallback in forecasts.fallbacks} == {"PERMISSION_DENIED"}
    assert forecasts.fell_back == len(worker.feeds)
