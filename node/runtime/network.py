"""The node's place on the bus: its signed connection, the membership its receivers check
signers against (refreshed from the backend's mirror on every indexed block), its heartbeats
in the bus's bucket, and its announcement."""

from __future__ import annotations

import logging
from typing import Any

from nats.errors import Error as NatsError

from client import AsyncBackendClient, BackendError
from node.bus import subjects
from node.bus.admission import SenderBudget
from node.bus.envelope import Domain, Signer
from node.bus.heartbeats import Heartbeats
from node.bus.membership import Membership
from node.bus.settings import get_bus_settings
from node.bus.transport import Bus, Handler
from node.bus.verify import Message, Verifier
from node.runtime.keys import NodeKey
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.network")
OBSERVATIONS = subjects.subject("oracle", "observations")
"""Oracle observations, one subject per feed below it: `noderr.oracle.observations.<feed>`."""
Verified = Message


class BusUnreachable(Exception):
    """The bus does not answer at start-up."""


class Network:
    def __init__(self, bus: Bus, heartbeats: Heartbeats, membership: Membership,
                 client: AsyncBackendClient, token_id: int) -> None:
        self.bus, self.heartbeats, self.membership = bus, heartbeats, membership
        self.client, self.token_id = client, token_id

    @classmethod
    async def join(cls, key: NodeKey, node_type: NodeType, chain_id: int,
                   client: AsyncBackendClient, token_id: int) -> Network:
        settings = get_bus_settings()
        domain, membership = Domain(chain_id), Membership()
        signer = Signer(key.private_key, node_type, domain)
        verifier = Verifier(domain, membership, window_s=settings.bus_clock_skew)
        try:
            bus = await Bus.connect(settings.bus_url, signer, verifier)
            heartbeats = await Heartbeats.open(bus, settings.bus_heartbeat_ttl)
        except (OSError, TimeoutError, NatsError) as error:
            raise BusUnreachable(f"cannot join the bus at {settings.bus_url}: "
                                 f"{type(error).__name__}: {error}") from None
        return cls(bus, heartbeats, membership, client, token_id)

    async def refresh_members(self) -> None:
        """Who may speak on the bus, as of the backend's latest indexed block."""
        try:
            members = await self.client.network_members()
        except BackendError as error:
            log.warning("membership not refreshed (receivers keep block %s): %s",
                        self.membership.block, error)
            return
        if members.indexed_block is not None:
            self.membership.update(members.indexed_block, [
                (member.address, member.node_type, member.token_id)
                for member in members.members])

    async def announce(self, version: str) -> None:
        await self.bus.publish(subjects.ANNOUNCE, {"token_id": self.token_id,
                                                   "version": version})

    async def publish(self, subject: str, payload: dict[str, Any]) -> None:
        await self.bus.publish(subject, payload)

    async def subscribe(self, pattern: str, handler: Handler,
                        budget: SenderBudget | None = None) -> None:
        await self.bus.subscribe(pattern, handler, budget=budget)

    async def beat(self, state: str, version: str) -> None:
        try:
            await self.heartbeats.beat(self.token_id, state, version)
        except (NatsError, TimeoutError) as error:
            log.warning("heartbeat to the bus failed: %s", error)

    async def close(self) -> None:
        try:
            await self.bus.close()
        except (NatsError, TimeoutError) as error:
            log.warning("closing the bus connection: %s", error)
