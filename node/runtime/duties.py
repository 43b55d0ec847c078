"""What a node does each round, by type. Oracles run their 15 functions and publish a signed
observation per feed, and with NODERR_ML_TARGET the ML service's forecast volatility of each
instrument as feed INSTRUMENT_VOL whenever a new bar brings a new forecast; Validators agree on
each feed's report and transmit it (node/runtime/validator.py; no deployed contract carries a
_VOL feed, so they leave it alone); Guardians answer the desk's risk requests
(node/runtime/guardian.py) and keep the oracles' latest observations."""

from __future__ import annotations

import abc
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from node.execution import ExecutionLog
from node.oracle.observation import Observation
from node.oracle.worker import OracleParams, OracleWorker
from node.runtime import metrics
from node.runtime.forecasts import VolatilityForecasts, node_forecasts, volatility_observation
from node.runtime.governance_duty import GovernedValidatorDuties, with_governance
from node.runtime.guardian import GuardianDuties, guardian_duties
from node.runtime.keys import NodeKey
from node.runtime.network import OBSERVATIONS, Network, Verified
from node.runtime.reporting import MessageLog, RoundLog
from node.runtime.validator import ValidatorDuties, feed_contracts
from node.settings import NodeSettings
from node.sources.book import BookSimulator
from node.sources.replay import INSTRUMENTS, ReplayClock, replay_sources
from noderr.deployment import Deployment
from noderr.domain import NodeType
from noderr.settings import get_settings

REPLAY_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""Every oracle replays the same moment of the data at the same wall time (from this epoch),
so independent nodes observe the same market."""


class Duties(abc.ABC):
    """One step of a node's work; `step()` answers how many function executions it recorded."""

    @abc.abstractmethod
    async def step(self) -> int: ...

    @staticmethod
    def for_type(node_type: NodeType, network: Network, log: ExecutionLog,
                 credentials: dict[str, dict[str, Any]], settings: NodeSettings,
                 seed: int, key: NodeKey, rounds: RoundLog | None = None,
                 messages: MessageLog | None = None
                 ) -> Duties | ValidatorDuties | GovernedValidatorDuties | GuardianDuties:
        if node_type is NodeType.ORACLE:
            return OracleDuties(network, replay_worker(log, seed), settings,
                                node_forecasts(settings, lambda: network.client.token))
        if node_type is NodeType.VALIDATOR:
            return validator_duties(network, log, key, settings, rounds, messages)
        return guardian_duties(network, log, key, settings, ObserverDuties(network))


def validator_duties(network: Network, log: ExecutionLog, key: NodeKey,
                     settings: NodeSettings, rounds: RoundLog | None = None,
                     messages: MessageLog | None = None
                     ) -> ValidatorDuties | GovernedValidatorDuties:
    """Consensus and transmission for the feeds of the deployment file (its `NodeFeed.<FEED>`
    contracts; none: the validator takes part in no round), and governance as the operator's
    policy allows (node/runtime/governance_duty.py)."""
    chain_id = network.bus.signer.domain.chain_id
    deployment = Deployment.load(get_settings().deployment_path(chain_id))
    duties = ValidatorDuties(network, log, key, feed_contracts(deployment), settings.rpc_url,
                             settings.node_round_interval, rounds=rounds, messages=messages)
    metrics.validating(list(duties.drivers), settings.node_round_interval
                       * duties.context.settings.validator_round_every)
    return with_governance(duties, deployment, settings.rpc_url)


def replay_worker(log: ExecutionLog, seed: int) -> OracleWorker:
    """An Oracle worker over the replayed market data (its sources' noise seeded per node).
    A live exchange adapter (node.sources.base.LiveExchangeSource) would take the vault's
    credentials; the replay needs none."""
    return OracleWorker(replay_sources(seed), INSTRUMENTS, ReplayClock(REPLAY_EPOCH),
                        BookSimulator(seed), OracleParams(), log)


class OracleDuties(Duties):
    """collect -> validate -> aggregate -> publish, once per round. Rounds are numbered by wall
    time (unix seconds // round interval), so independent oracles observe the same round."""

    def __init__(self, network: Network, worker: OracleWorker, settings: NodeSettings,
                 forecasts: VolatilityForecasts | None = None) -> None:
        self.network, self.worker, self.log = network, worker, worker.log
        self.interval = settings.node_round_interval
        self.last_round = 0
        self.forecasts = forecasts
        self.published: dict[str, float] = {}
        """The forecast sigma last published per instrument."""

    async def step(self) -> int:
        round_id = max(int(time.time() // self.interval), self.last_round + 1)
        self.last_round = round_id
        before = self.log.recorded
        now = datetime.now(UTC)
        observations = await asyncio.to_thread(self.worker.run_round, round_id, now)
        if self.forecasts is not None:
            observations += await self.volatility_observations(self.forecasts, round_id, now)
        for observation in observations:
            await self.network.publish(f"{OBSERVATIONS}.{observation.feed_id}",
                                       observation.to_payload())
        return self.log.recorded - before

    async def volatility_observations(self, forecasts: VolatilityForecasts, round_id: int,
                                      now: datetime) -> list[Observation]:
        """The forecast volatility of each instrument at its replay time, when it is new (a
        new bar's forecast; the cache answers the same bar without asking again)."""
        fresh = []
        for instrument in self.worker.feeds:
            at = self.worker.clock.replay_time(instrument, now)
            sigma = await forecasts.sigma_async(instrument, at)
            if sigma is None or self.published.get(instrument) == sigma:
                continue
            observation = volatility_observation(instrument, round_id, sigma, now)
            if observation is not None:
                self.published[instrument] = sigma
                fresh.append(observation)
        return fresh


class ObserverDuties(Duties):
    """Keeps the latest verified observation of every feed (what consensus will start from)."""

    def __init__(self, network: Network) -> None:
        self.latest: dict[str, Observation] = {}
        self.subscribed = False
        self.network = network

    async def step(self) -> int:
        if not self.subscribed:
            await self.network.subscribe(f"{OBSERVATIONS}.*", self._observed)
            self.subscribed = True
        return 0

    async def _observed(self, message: Verified) -> None:
        observation = Observation.from_payload(message.payload)
        known = self.latest.get(observation.feed_id)
        if known is None or observation.round_id >= known.round_id:
            self.latest[observation.feed_id] = observation
