"""A Byzantine validator for the real-process tests: it holds a licensed validator's key,
joins the test stack's NATS, and for as long as it runs it lies in every way the protocol lets
one member lie, signing everything with the product's own code (wire.Codec through
`consensus_codec`, the bus envelope's `Signer`, `sign_report`):

- as the leader of a round's first view it sends two pre-prepares for that view, each a valid
  proposal (one per oracle's observation: both pass every replica's checks) — equivocation;
  NATS delivers both to every replica (a subject has no halves), so each replica sees the pair;
- on every honest pre-prepare it prepares and commits both the leader's digest and another one
  (two digests for one (round, view, phase));
- it replays an honest validator's earlier pre-prepare, both its frame unchanged and its
  payload in its own envelope, and forges a prepare naming an honest validator as its sender
  (the body edited after signing);
- on a round's first honest report signature it signs that report and another answer for the
  same round (the one after the other, so a receiver keeping the latest per signer would keep
  the wrong one).

It records what it sent, so a test can name the rounds it attacked. Several run together
(benchmarks/consensus_chaos.py: f = 2 at n = 7) answer each other: each answers every new
pre-prepare frame from another sender with a re-sealed replay, so two of them echo without end
(~150 messages/s each), a flood the honest validators' per-sender budget drops as `flooding`."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from nats.aio.client import Client

from node.bus.envelope import Domain, Signer, checksum, decode
from node.consensus.messages import Commit, Message, OracleValue, Prepare, PrePrepare
from node.consensus.proposals import propose
from node.oracle.observation import InvalidObservation, Observation
from node.runtime.keys import NodeKey
from node.runtime.network import OBSERVATIONS
from node.runtime.validator import CONSENSUS, SIGNATURES, consensus_codec
from noderr.domain import NodeType
from noderr.feed_report import Report, sign_report

GRACE_FRACTION = 5
"""A consensus round opens a fifth of an oracle interval into the oracle round after its own
(ValidatorDuties._next_round); the attacker opens its rounds on the same clock."""
LEAD_DELAY_S = 0.15


@dataclass
class Attacks:
    """The rounds the attacker lied in, by kind."""

    equivocated: set[int] = field(default_factory=set)
    double_voted: set[int] = field(default_factory=set)
    double_reported: set[int] = field(default_factory=set)
    replayed: int = 0
    forged: int = 0


class ByzantineValidator:
    """Run with `start()`, stop with `stop()` (which returns the attacks made)."""

    def __init__(self, key: NodeKey, chain_id: int, bus_url: str, feed_id: str,
                 feed_address: str, members: tuple[str, ...], round_interval: float,
                 round_every: int) -> None:
        self.key, self.chain_id, self.bus_url = key, chain_id, bus_url
        self.feed_id, self.feed_address, self.members = feed_id, feed_address, members
        self.round_interval, self.round_every = round_interval, round_every
        self.codec = consensus_codec(key, chain_id)
        self.signer = Signer(key.private_key, NodeType.VALIDATOR, Domain(chain_id))
        self.consensus_subject = f"{CONSENSUS}.{feed_id}"
        self.signatures_subject = f"{SIGNATURES}.{feed_id}"
        self.observations: dict[int, dict[str, OracleValue]] = {}
        self.first_honest: tuple[bytes, dict[str, Any]] | None = None
        """An honest pre-prepare as received: its frame and its payload, replayed later."""
        self.answered: set[bytes] = set()
        """The frames answered, so that the replayed one, coming back, is not answered again."""
        self.attacks = Attacks()
        self._connection = Client()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> Attacks:
        self._stopping.set()
        self._thread.join(timeout=10)
        return self.attacks

    async def _run(self) -> None:
        connection = self._connection
        await connection.connect(self.bus_url)
        await connection.subscribe(f"{OBSERVATIONS}.{self.feed_id}", cb=self._observed)
        await connection.subscribe(self.consensus_subject, cb=self._consensus)
        await connection.subscribe(self.signatures_subject, cb=self._signature)
        led = 0
        while not self._stopping.is_set():
            opened = self._opened_round(time.time())
            if opened > led and self._leads(opened):
                led = opened
                await asyncio.sleep(LEAD_DELAY_S)
                await self._equivocate(opened)
            await asyncio.sleep(0.05)
        await connection.drain()

    def _opened_round(self, now: float) -> int:
        grace = self.round_interval / GRACE_FRACTION
        return (int((now - grace) // self.round_interval) - 1) // self.round_every

    def _leads(self, round_number: int) -> bool:
        return self.members[round_number % len(self.members)] == self.key.address

    async def _publish(self, subject: str, payload: dict[str, Any]) -> None:
        await self._connection.publish(subject, self.signer.seal(subject, orjson.dumps(payload)))

    async def _send(self, message: Message) -> None:
        await self._publish(self.consensus_subject, self.codec.encode(message))

    async def _observed(self, msg: Any) -> None:
        frame = decode(msg.data)
        try:
            observation = Observation.from_payload(orjson.loads(frame.payload))
        except InvalidObservation:
            return
        oracle = checksum(frame.envelope.sender)
        round_number = -(-observation.round_id // self.round_every)
        self.observations.setdefault(round_number, {})[oracle] = OracleValue(
            oracle, observation.value, msg.data)

    async def _equivocate(self, round_number: int) -> None:
        """Two valid pre-prepares for the round's first view, one per oracle observed."""
        observed = list(self.observations.get(round_number, {}).values())
        if len(observed) < 2:
            return
        for observation in observed[:2]:
            proposal = propose(round_number, [observation])
            await self._send(PrePrepare(self.key.address, round_number, round_number,
                                        proposal.digest, proposal))
        self.attacks.equivocated.add(round_number)

    async def _consensus(self, msg: Any) -> None:
        frame = decode(msg.data)
        if checksum(frame.envelope.sender) == self.key.address or msg.data in self.answered:
            return
        self.answered.add(msg.data)
        payload = orjson.loads(frame.payload)
        if payload.get("type") != "pre_prepare":
            return
        message = self.codec.decode(payload)
        await self._replay(msg.data, payload)
        await self._double_vote(message)
        await self._forge(message)

    async def _replay(self, frame: bytes, payload: dict[str, Any]) -> None:
        """Resend the first honest pre-prepare seen: its frame unchanged (the bus's replay
        guard's case) and its payload in this validator's own envelope (the core's)."""
        if self.first_honest is None:
            self.first_honest = (frame, payload)
            return
        old_frame, old_payload = self.first_honest
        await self._connection.publish(self.consensus_subject, old_frame)
        await self._publish(self.consensus_subject, old_payload)
        self.attacks.replayed += 1

    async def _double_vote(self, pre_prepare: PrePrepare) -> None:
        other = hashlib.sha256(f"byzantine|{pre_prepare.digest}".encode()).hexdigest()
        for kind in (Prepare, Commit):
            for digest in (pre_prepare.digest, other):
                await self._send(kind(self.key.address, pre_prepare.round, pre_prepare.view,
                                      digest))
        self.attacks.double_voted.add(pre_prepare.round)

    async def _forge(self, pre_prepare: PrePrepare) -> None:
        """A prepare signed by this key, its body naming the honest leader as sender."""
        payload = self.codec.encode(Prepare(self.key.address, pre_prepare.round,
                                            pre_prepare.view, pre_prepare.digest))
        await self._publish(self.consensus_subject,
                            {**payload, "body": {**payload["body"],
                                                 "sender": pre_prepare.sender}})
        self.attacks.forged += 1

    async def _signature(self, msg: Any) -> None:
        """On the first honest signature of a round's report (its signer has decided; others
        are deciding), sign that report and then another answer for the same round."""
        frame = decode(msg.data)
        payload = orjson.loads(frame.payload)
        round_number = int(payload["round"])
        if (checksum(frame.envelope.sender) == self.key.address
                or round_number in self.attacks.double_reported):
            return
        self.attacks.double_reported.add(round_number)
        for answer in (int(payload["answer"]), int(payload["answer"]) + 1):
            report = Report(round_number, answer, int(payload["observed_at"]))
            signature = sign_report(self.key.private_key, self.chain_id, self.feed_address,
                                    report)
            await self._publish(self.signatures_subject, {
                "round": report.round, "answer": str(report.answer),
                "observed_at": report.observed_at, "signature": "0x" + signature.hex()})
