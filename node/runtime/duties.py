"""What a node does each round, by type. Oracles run their 15 functions and publish a signed
observation per feed; Validators agree on each feed's report and transmit it
(node/runtime/validator.py); Guardians answer the desk's risk requests
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
from node.runtime.governance_duty import GovernedValidatorDuties, with_governance
from node.runtime.guardian import GuardianDuties, guardian_duties
from node.runtime.keys import NodeKey
from node.runtime.network import OBSERVATIONS, Network, Verified
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
                 seed: int, key: NodeKey) -> (Duties | ValidatorDuties | GovernedValidatorDuties
                                        | GuardianDuties):
        if node_type is NodeType.ORACLE:
            return OracleDuties(network, replay_worker(log, seed), settings)
        if node_type is NodeType.VALIDATOR:
            return validator_duties(network, log, key, settings)
        return guardian_duties(network, log, key, settings, ObserverDuties(network))


def validator_duties(network: Network, log: ExecutionLog, key: NodeKey,
                     settings: NodeSettings) -> ValidatorDuties | GovernedValidatorDuties:
    """Consensus and transmission for the feeds of the deployment file (its `NodeFeed.<FEED>`
    contracts; none: the validator takes part in no round), and governance as the operator's
    policy allows (node/runtime/governance_duty.py)."""
    chain_id = network.bus.signer.domain.chain_id
    deployment = Deployment.load(get_settings().deployment_path(chain_id))
    duties = ValidatorDuties(network, log, key, feed_contracts(deployment), settings.rpc_url,
                             settings.node_round_interval)
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

    def __init__(self, network: Network, worker: OracleWorker, settings: NodeSettings) -> None:
        self.network, self.worker, self.log = network, worker, worker.log
        self.interval = settings.node_round_interval
        self.last_round = 0

    async def step(self) -> int:
        round_id = max(int(time.time() // self.interval), self.last_round + 1)
        self.last_round = round_id
        before = self.log.recorded
        observations = await asyncio.to_thread(self.worker.run_round, round_id,
                                               datetime.now(UTC))
        for observation in observations:
            await self.network.publish(f"{OBSERVATIONS}.{observation.feed_id}",
                                       observation.to_payload())
        return self.log.recorded - before


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
