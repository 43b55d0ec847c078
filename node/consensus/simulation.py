"""A deterministic simulated network for the replicas (FoundationDB's simulation testing,
TigerBeetle's VOPR): one seeded random generator decides every drop, delay, duplicate, partition
and crash, time is a tick counter, and the same seed replays the same run event for event.

Fault model, until `heal_tick`: each delivery is dropped with `drop_rate`; random partitions split
the validators in two for a while; crashed replicas stop at a random tick. Always: deliveries are
delayed 1..`max_delay` ticks (so reordered) and duplicated with `duplicate_rate`; Byzantine
replicas run the honest code and tamper with what it sends:
- `equivocate`: as leader, sends a different valid proposal (the median of the observations
  without the lowest one) to every other member, and votes for that one towards them;
- `wrong_digest`: votes for a digest nobody proposed, and hides its prepared certificate;
- `fabricate`: as leader, proposes (and votes for) a report over oracle values it made up, the
  round deciding how: unsigned, "signed" by oracles that hold no license, or each a real
  oracle's signature over another value;
- `silent`: never sends anything; `crash`: honest until its crash tick, then nothing.
Byzantine replicas do not forge other members' messages (the transport checks every signature,
embedded ones included), nor the oracles' signatures, which `seal` stands in for (a digest of
oracle, round and value) and `oracle_check` verifies as the runtime's check does. Several
equivocators collude: they split the members the same way.

After every decision the run checks SAFETY (no two non-Byzantine replicas decide different
values for a round, and every decided value is the median of genuine observations); at the end
it checks LIVENESS (every live honest member decided every round by `liveness_deadline`)."""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from itertools import count

from node.consensus import proposals
from node.consensus.messages import (
    Commit,
    Message,
    NewView,
    OracleValue,
    Prepare,
    PrePrepare,
    Proposal,
    ViewChange,
)
from node.consensus.proposals import ObservationCheck
from node.consensus.replica import Decide, Replica, Send, StartTimer

BYZANTINE = frozenset({"equivocate", "wrong_digest", "silent", "fabricate"})
FAULTS = BYZANTINE | {"crash"}
FOREIGN_DIGEST = "f" * 64


def seal(oracle: str, round_number: int, value: int) -> bytes:
    """The simulation's stand-in for `oracle`'s signature over its observation of a round."""
    return hashlib.sha256(f"{oracle}|{round_number}|{value}".encode()).digest()


def oracle_check(oracles: Iterable[str]) -> ObservationCheck:
    """Accepts an observation sealed by one of the licensed `oracles` for its round and value."""
    licensed = frozenset(oracles)

    def check(round_number: int, item: OracleValue) -> bool:
        return item.oracle in licensed and item.proof == seal(item.oracle, round_number,
                                                               item.value)
    return check


class SafetyViolation(AssertionError):
    pass


class LivenessViolation(AssertionError):
    pass


@dataclass(frozen=True)
class Scenario:
    """One simulated run. `faults` maps a validator's index (in address order) to a fault kind;
    `removed` = (index, round) drops that validator from the membership from that round on."""

    seed: int
    n: int
    rounds: int = 4
    faults: tuple[tuple[int, str], ...] = ()
    drop_rate: float = 0.1
    duplicate_rate: float = 0.05
    max_delay: int = 5
    partitions: bool = True
    heal_tick: int = 150
    timeout_ticks: int = 40
    retransmit_ticks: int = 15
    oracles: int = 7
    min_observations: int = 5
    removed: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        unknown = {kind for _, kind in self.faults} - FAULTS
        if unknown or any(not 0 <= index < self.n for index, _ in self.faults):
            raise ValueError(f"bad faults {self.faults}")

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(f"0x{index + 1:040x}" for index in range(self.n))

    @property
    def f(self) -> int:
        return (self.n - 1) // 3

    @property
    def liveness_deadline(self) -> int:
        """Once healed, replicas may sit in a view whose timeout doubled during the partition
        (at most about `heal_tick`), wait it out, and converge; then each round needs at most
        f + 2 views of doubling timeouts."""
        per_round = sum(self.timeout_ticks << view for view in range(self.f + 2))
        return 3 * self.heal_tick + self.rounds * per_round

    def describe(self) -> str:
        return f"replay with run({self!r})"


@dataclass
class Result:
    scenario: Scenario
    decisions: dict[int, int] = field(default_factory=dict)
    decided_at: dict[tuple[str, int], int] = field(default_factory=dict)
    messages: int = 0
    last_tick: int = 0


@dataclass(frozen=True)
class _Partition:
    start: int
    end: int
    side: frozenset[str]


class _Run:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.random = random.Random(scenario.seed)  # noqa: S311 (a replayable seed, not secrecy)
        self.addresses = scenario.addresses
        self.kinds = {self.addresses[index]: kind for index, kind in scenario.faults}
        self.crash_at = {address: (0 if kind == "silent" else self.random.randrange(
            scenario.heal_tick)) for address, kind in self.kinds.items()
            if kind in ("crash", "silent")}
        check = oracle_check(self.oracles)
        self.replicas = {address: Replica(
            address, timeout_ticks=scenario.timeout_ticks,
            retransmit_ticks=scenario.retransmit_ticks,
            min_observations=scenario.min_observations, check_observation=check)
            for address in self.addresses}
        self.observations = [self._genuine_observations(round_number)
                             for round_number in range(scenario.rounds)]
        self.partitions = self._partitions() if scenario.partitions else []
        self.queue: list[tuple[int, int, str, str, object]] = []
        self.sequence = count()
        self.result = Result(scenario)

    @property
    def oracles(self) -> tuple[str, ...]:
        return tuple(f"oracle-{index}" for index in range(self.scenario.oracles))

    def members(self, round_number: int) -> tuple[str, ...]:
        removed = self.scenario.removed
        if removed is None or round_number < removed[1]:
            return self.addresses
        return tuple(address for index, address in enumerate(self.addresses)
                     if index != removed[0])

    def live_honest(self, round_number: int) -> list[str]:
        return [address for address in self.members(round_number) if address not in self.kinds]

    def run(self) -> Result:
        for address in self.members(0):
            self._schedule(0, "start", address, 0)
        deadline = self.scenario.liveness_deadline
        while self.queue and not self._all_decided():
            tick, _, kind, address, payload = heapq.heappop(self.queue)
            if tick > deadline:
                break
            self.result.last_tick = tick
            if self._crashed(address, tick):
                continue
            replica = self.replicas[address]
            if kind == "start":
                round_number = int(payload)  # type: ignore[call-overload]
                actions = replica.start_round(round_number, self.members(round_number),
                                              self._observations_of(round_number), tick)
            elif kind == "deliver":
                actions = replica.on_message(payload, tick)  # type: ignore[arg-type]
            else:
                actions = replica.on_timer(tick)
            self._carry_out(address, actions, tick)
        self._check_liveness()
        return self.result

    def _carry_out(self, address: str, actions: list, tick: int) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._send(address, action, tick)
            elif isinstance(action, StartTimer):
                self._schedule(tick + action.ticks, "timer", address, None)
            elif isinstance(action, Decide):
                self._decided(address, action, tick)

    def _send(self, sender: str, action: Send, tick: int) -> None:
        message = action.message
        recipients = action.to or tuple(
            address for address in self.members(message.round) if address != sender)
        for recipient in recipients:
            tampered = self._tamper(sender, message, recipient)
            if tampered is None or self._lost(sender, recipient, tick):
                continue
            self.result.messages += 1
            copies = 2 if self.random.random() < self.scenario.duplicate_rate else 1
            for _ in range(copies):
                delay = self.random.randint(1, self.scenario.max_delay)
                self._schedule(tick + delay, "deliver", recipient, tampered)

    def _lost(self, sender: str, recipient: str, tick: int) -> bool:
        if tick >= self.scenario.heal_tick:
            return False
        if any(partition.start <= tick < partition.end
               and (sender in partition.side) != (recipient in partition.side)
               for partition in self.partitions):
            return True
        return self.random.random() < self.scenario.drop_rate

    def _tamper(self, sender: str, message: Message, recipient: str) -> Message | None:
        kind = self.kinds.get(sender)
        if kind == "equivocate" and self._misled(recipient):
            return self._substituted(message, self._other_proposal)
        if kind == "fabricate":
            return self._substituted(message, self._fabricated_proposal)
        if kind == "wrong_digest":
            if isinstance(message, Prepare | Commit):
                return replace(message, digest=FOREIGN_DIGEST)
            if isinstance(message, ViewChange):
                return replace(message, prepared=None)
        return message

    def _misled(self, recipient: str) -> bool:
        """The honest members that the colluding equivocators lie to (every other one)."""
        return recipient not in self.kinds and self.addresses.index(recipient) % 2 == 1

    def _substituted(self, message: Message, proposal_of: Callable[[int], Proposal]
                     ) -> Message:
        """`message` as it would be for the proposal `proposal_of` its round."""
        if not 0 <= message.round < self.scenario.rounds:
            return message
        other = proposal_of(message.round)
        if isinstance(message, PrePrepare):
            return replace(message, digest=other.digest, proposal=other)
        if isinstance(message, NewView):
            pre_prepare = replace(message.pre_prepare, digest=other.digest, proposal=other)
            return replace(message, pre_prepare=pre_prepare)
        if isinstance(message, Prepare | Commit):
            return replace(message, digest=other.digest)
        return message

    def _other_proposal(self, round_number: int) -> Proposal:
        genuine = sorted(self.observations[round_number], key=lambda item: item.value)
        return proposals.propose(round_number, genuine[1:])

    def _fabricated_proposal(self, round_number: int) -> Proposal:
        """Every value doubled: unsigned (round % 3 == 0), sealed by unlicensed oracles (1),
        or carrying the real oracle's seal of its genuine value (2)."""
        made_up = []
        for item in self.observations[round_number]:
            value = 2 * item.value
            if round_number % 3 == 0:
                made_up.append(OracleValue(item.oracle, value))
            elif round_number % 3 == 1:
                intruder = item.oracle.replace("oracle", "intruder")
                made_up.append(OracleValue(intruder, value, seal(intruder, round_number, value)))
            else:
                made_up.append(OracleValue(item.oracle, value, item.proof))
        return proposals.propose(round_number, made_up)

    def _decided(self, address: str, action: Decide, tick: int) -> None:
        self._check_safety(address, action)
        self.result.decided_at[(address, action.round)] = tick
        following = action.round + 1
        if following < self.scenario.rounds and address in self.members(following):
            self._schedule(tick, "start", address, following)

    def _check_safety(self, address: str, action: Decide) -> None:
        if address in self.kinds and address not in self.crash_at:
            return
        genuine = set(self.observations[action.round])
        if (not set(action.proposal.observations) <= genuine
                or action.value != proposals.median_value(action.proposal.observations)):
            raise SafetyViolation(f"{address} decided an invalid value in round {action.round}; "
                                  f"{self.scenario.describe()}")
        agreed = self.result.decisions.setdefault(action.round, action.value)
        if agreed != action.value:
            raise SafetyViolation(
                f"round {action.round}: {address} decided {action.value}, another replica "
                f"{agreed}; {self.scenario.describe()}")

    def _check_liveness(self) -> None:
        missing = [(address, round_number) for round_number in range(self.scenario.rounds)
                   for address in self.live_honest(round_number)
                   if (address, round_number) not in self.result.decided_at]
        if missing:
            raise LivenessViolation(
                f"undecided by tick {self.scenario.liveness_deadline} (replica, round): "
                f"{missing[:6]}; {self.scenario.describe()}")

    def _all_decided(self) -> bool:
        return all((address, round_number) in self.result.decided_at
                   for round_number in range(self.scenario.rounds)
                   for address in self.live_honest(round_number))

    def _crashed(self, address: str, tick: int) -> bool:
        crash = self.crash_at.get(address)
        return crash is not None and tick >= crash

    def _schedule(self, tick: int, kind: str, address: str, payload: object) -> None:
        heapq.heappush(self.queue, (tick, next(self.sequence), kind, address, payload))

    def _genuine_observations(self, round_number: int) -> tuple[OracleValue, ...]:
        centre = self.random.randint(90, 110) * 10**8
        values = [(oracle, centre + self.random.randint(-10**6, 10**6))
                  for oracle in self.oracles]
        return tuple(OracleValue(oracle, value, seal(oracle, round_number, value))
                     for oracle, value in values)

    def _observations_of(self, round_number: int) -> tuple[OracleValue, ...]:
        """What this replica heard from the oracles: a random subset, at least the minimum."""
        genuine = self.observations[round_number]
        size = self.random.randint(self.scenario.min_observations, len(genuine))
        return tuple(self.random.sample(genuine, size))

    def _partitions(self) -> list[_Partition]:
        found = []
        for _ in range(self.random.randint(0, 3)):
            start = self.random.randrange(self.scenario.heal_tick)
            end = min(self.scenario.heal_tick, start + self.random.randint(10, 80))
            side = frozenset(self.random.sample(self.addresses,
                                                self.random.randint(1, self.scenario.n - 1)))
            found.append(_Partition(start, end, side))
        return found


def run(scenario: Scenario) -> Result:
    """Run one scenario; raises SafetyViolation or LivenessViolation naming how to replay it."""
    return _Run(scenario).run()
