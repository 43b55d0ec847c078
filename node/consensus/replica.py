"""One validator's PBFT replica as a pure state machine: a message or a timer tick in, a list of
actions out (send, decide, wake me at). No I/O and no clock: the caller passes `now` in ticks, so
the same inputs always give the same outputs, which is what lets the simulation replay a seed.

Rounds are agreed one at a time; each round is one PBFT instance over that round's members (the
license registry's active validators, sorted by address). Views are numbered globally: round r
opens in view r and the leader of view v is members[v % n], so the first leader rotates with the
round (as Tendermint's proposer) and a crashed validator costs a timeout only in the rounds where
it is first in line.

Rules (n members, f = (n - 1) // 3, quorum n - f, which is the chain's floor(2n / 3) + 1 and
2f + 1 when n = 3f + 1; at other n two sets of 2f + 1 need not share an honest member: the
simulation found a split decision at n = 5 with one equivocator when the quorum was 2f + 1):
- the leader of the round's first view pre-prepares a proposal; a pre-prepare from anyone else,
  for another view, whose value is not the median of the observations it carries, or carrying
  an observation that fails the injected check (the oracle's signature, license, freshness) is
  ignored, and the view times out to the next leader;
- a replica prepares (one prepare per view) after a valid pre-prepare, commits after a quorum of
  matching prepares, and decides after a quorum of matching commits for a proposal it knows;
- when its view timer expires it asks for view v + 1 (ViewChange with its highest prepared
  certificate), and joins the smallest higher view that f + 1 others ask for; the timer doubles
  with each view of the round (PBFT's rule: a replica left in a lower view after a partition
  has shorter timeouts and catches up; with a low cap on the doubling, replicas a view apart
  keep their distance forever), up to 2**MAX_BACKOFF times the base;
- the leader of view v, holding a quorum of view changes for v, sends NewView: the view changes
  and a pre-prepare for the proposal of the highest prepared certificate among them, or for its
  own proposal if none; replicas check that choice before preparing, so a value that a quorum
  prepared (and may have decided) is the only one a later view can carry;
- while undecided a replica resends its messages of the current view every `retransmit_ticks`;
  one that decided a round answers any message of that round with its quorum of commits
  (Decided), at most once per `retransmit_ticks` per sender whatever the round (so a member
  sending messages of many old rounds gets no more answers than one laggard), and only for the
  `history` rounds before the open one: the codec keeps the commits' signatures that long
  (wire.KEPT_ROUNDS), an older answer could not be signed-proven.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from node.consensus import proposals
from node.consensus.messages import (
    Commit,
    Decided,
    Message,
    NewView,
    OracleValue,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    Proposal,
    ViewChange,
)
from node.consensus.proposals import ObservationCheck
from node.consensus.wire import KEPT_ROUNDS

MAX_BACKOFF = 16
FUTURE_MESSAGES_PER_SENDER = 32


@dataclass(frozen=True)
class Send:
    """Send `message` to `to` (None: every other member of the round)."""

    message: Message
    to: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Decide:
    """`round` decided `proposal` by the commits of `certificate`'s members in `view` (the
    view the commits were cast in, which a replica that has since timed out has left)."""

    round: int
    value: int
    proposal: Proposal
    certificate: frozenset[str]
    view: int


@dataclass(frozen=True)
class StartTimer:
    """Call `on_timer` again `ticks` from now."""

    ticks: int


Action = Send | Decide | StartTimer


@dataclass
class _Round:
    number: int
    members: tuple[str, ...]
    observations: tuple[OracleValue, ...]
    view: int
    changing: bool = False
    decided: bool = False
    accepted: dict[int, PrePrepare] = field(default_factory=dict)
    known: dict[str, Proposal] = field(default_factory=dict)
    prepares: dict[tuple[int, str], dict[str, Prepare]] = field(default_factory=dict)
    commits: dict[tuple[int, str], dict[str, Commit]] = field(default_factory=dict)
    voted: set[tuple[type, int, str]] = field(default_factory=set)
    view_changes: dict[int, dict[str, ViewChange]] = field(default_factory=dict)
    prepared: PreparedCertificate | None = None
    mine: list[Message] = field(default_factory=list)
    view_deadline: int = 0
    retransmit_deadline: int = 0
    valid: set[str] = field(default_factory=set)
    """Digests of the proposals checked valid in this round (a proposal comes back in every
    certificate and view change; its observations' signatures are checked once)."""

    @property
    def f(self) -> int:
        return (len(self.members) - 1) // 3

    @property
    def quorum(self) -> int:
        return len(self.members) - self.f

    def leader(self, view: int) -> str:
        return self.members[view % len(self.members)]


@dataclass(frozen=True)
class _Evidence:
    proposal: Proposal
    commits: tuple[Commit, ...]


class Replica:
    """A validator's consensus state. Drive it with `start_round`, `on_message` and `on_timer`;
    carry out the actions they return (the transport signs and sends, the caller wakes it)."""

    def __init__(self, me: str, *, timeout_ticks: int, retransmit_ticks: int,
                 min_observations: int, check_observation: ObservationCheck,
                 history: int = KEPT_ROUNDS) -> None:
        if min(timeout_ticks, retransmit_ticks, min_observations, history) < 1:
            raise ValueError("timeout_ticks, retransmit_ticks, min_observations and history "
                             "must be >= 1")
        self.me = me
        self.timeout_ticks = timeout_ticks
        self.retransmit_ticks = retransmit_ticks
        self.min_observations = min_observations
        self.check_observation = check_observation
        self._history_rounds = history
        self._state: _Round | None = None
        self._history: OrderedDict[int, _Evidence] = OrderedDict()
        self._future: dict[str, list[Message]] = {}
        self._last_reply: dict[str, int] = {}

    @property
    def round(self) -> int | None:
        return None if self._state is None else self._state.number

    @property
    def view(self) -> int | None:
        return None if self._state is None else self._state.view

    def decision(self, round_number: int) -> Proposal | None:
        evidence = self._history.get(round_number)
        return None if evidence is None else evidence.proposal

    def start_round(self, round_number: int, members: Iterable[str],
                    observations: Iterable[OracleValue], now: int) -> list[Action]:
        """Open `round_number` among `members` (the round's validators; sorted here) with the
        observations this replica holds (used if it leads a view of the round; those failing
        the observation check are left out, as every other replica would refuse them)."""
        ordered = tuple(sorted(set(members)))
        if self.me not in ordered:
            raise ValueError(f"{self.me} is not a member of round {round_number}")
        if self._state is not None and round_number <= self._state.number:
            raise ValueError(f"round {round_number} is not after round {self._state.number}")
        checked = tuple(item for item in observations
                        if self.check_observation(round_number, item))
        state = _Round(round_number, ordered, checked, view=round_number)
        self._state = state
        self._forget_decisions_before(round_number - self._history_rounds)
        actions = self._arm_view_timer(state, now)
        if state.leader(state.view) == self.me and self._can_propose(state):
            proposal = proposals.propose(round_number, state.observations)
            if self._valid_proposal(state, proposal):
                actions += self._broadcast(state, PrePrepare(
                    self.me, round_number, state.view, proposal.digest, proposal), now)
        for message in self._take_future(round_number):
            actions += self.on_message(message, now)
        return actions

    def on_message(self, message: Message, now: int) -> list[Action]:
        """Handle a message whose sender the transport has verified."""
        if message.round in self._history:
            return self._answer_laggard(message, now)
        state = self._state
        if state is None or message.round > state.number:
            self._keep_future(message)
            return []
        if message.round < state.number or message.sender not in state.members:
            return []
        return self._receive(state, message, now)

    def on_timer(self, now: int) -> list[Action]:
        state = self._state
        if state is None or state.decided:
            return []
        if now >= state.view_deadline:
            return self._change_view(state, state.view + 1, now)
        if now >= state.retransmit_deadline:
            state.retransmit_deadline = now + self.retransmit_ticks
            return [*(Send(message) for message in state.mine),
                    StartTimer(self.retransmit_ticks)]
        return []

    def _receive(self, state: _Round, message: Message, now: int) -> list[Action]:
        if isinstance(message, PrePrepare):
            return self._on_pre_prepare(state, message, now)
        if isinstance(message, Prepare):
            return self._on_prepare(state, message, now)
        if isinstance(message, Commit):
            return self._on_commit(state, message, now)
        if isinstance(message, ViewChange):
            return self._on_view_change(state, message, now)
        if isinstance(message, NewView):
            return self._on_new_view(state, message, now)
        return self._on_decided(state, message)

    def _on_pre_prepare(self, state: _Round, message: PrePrepare, now: int) -> list[Action]:
        if (message.view != state.number or state.view != message.view or state.changing
                or message.view in state.accepted or not self._valid_pre_prepare(state, message)):
            return []
        return self._accept(state, message, now)

    def _accept(self, state: _Round, pre_prepare: PrePrepare, now: int) -> list[Action]:
        state.accepted[pre_prepare.view] = pre_prepare
        actions = self._learn(state, pre_prepare.proposal)
        if state.decided:
            return actions
        return actions + self._broadcast(state, Prepare(
            self.me, state.number, pre_prepare.view, pre_prepare.digest), now)

    def _learn(self, state: _Round, proposal: Proposal) -> list[Action]:
        """Remember a checked proposal; commits that arrived before it may now decide."""
        if proposal.digest in state.known:
            return []
        state.known[proposal.digest] = proposal
        actions: list[Action] = []
        for key in [key for key in state.commits if key[1] == proposal.digest]:
            actions += self._try_decide(state, key)
        return actions

    def _on_prepare(self, state: _Round, message: Prepare, now: int) -> list[Action]:
        if not self._first_vote(state, message):
            return []
        state.prepares.setdefault((message.view, message.digest), {})[message.sender] = message
        return self._try_commit(state, now)

    def _on_commit(self, state: _Round, message: Commit, now: int) -> list[Action]:
        if not self._first_vote(state, message):
            return []
        key = (message.view, message.digest)
        state.commits.setdefault(key, {})[message.sender] = message
        return self._try_decide(state, key)

    @staticmethod
    def _first_vote(state: _Round, vote: Prepare | Commit) -> bool:
        """Counts one prepare and one commit per sender and view: the first that arrives."""
        key = (type(vote), vote.view, vote.sender)
        if key in state.voted:
            return False
        state.voted.add(key)
        return True

    def _try_commit(self, state: _Round, now: int) -> list[Action]:
        pre_prepare = state.accepted.get(state.view)
        if (state.changing or pre_prepare is None
                or (state.prepared is not None and state.prepared.view == state.view)):
            return []
        prepares = state.prepares.get((state.view, pre_prepare.digest), {})
        if len(prepares) < state.quorum:
            return []
        state.prepared = PreparedCertificate(pre_prepare, tuple(
            prepares[sender] for sender in sorted(prepares)))
        return self._broadcast(state, Commit(
            self.me, state.number, state.view, pre_prepare.digest), now)

    def _try_decide(self, state: _Round, key: tuple[int, str]) -> list[Action]:
        commits = state.commits.get(key, {})
        proposal = state.known.get(key[1])
        if state.decided or proposal is None or len(commits) < state.quorum:
            return []
        return self._decide(state, proposal, tuple(commits[sender] for sender in sorted(commits)))

    def _decide(self, state: _Round, proposal: Proposal,
                commits: tuple[Commit, ...]) -> list[Action]:
        state.decided = True
        self._history[state.number] = _Evidence(proposal, commits)
        return [Decide(state.number, proposal.value, proposal,
                       frozenset(commit.sender for commit in commits), commits[0].view)]

    def _on_decided(self, state: _Round, message: Decided) -> list[Action]:
        proposal = message.proposal
        senders = {commit.sender for commit in message.commits}
        views = {commit.view for commit in message.commits}
        if (len(senders) != len(message.commits) or len(senders) < state.quorum
                or not senders <= set(state.members) or len(views) != 1
                or any(commit.round != state.number or commit.digest != proposal.digest
                       for commit in message.commits)
                or not self._valid_proposal(state, proposal)):
            return []
        return self._decide(state, proposal, message.commits)

    def _forget_decisions_before(self, oldest: int) -> None:
        while self._history and next(iter(self._history)) < oldest:
            self._history.popitem(last=False)

    def _answer_laggard(self, message: Message, now: int) -> list[Action]:
        """A decided round's message from a replica still in it: hand it the decision, at most
        once per `retransmit_ticks` per sender (whichever round it asks about)."""
        sender = message.sender
        if (isinstance(message, Decided) or sender == self.me
                or now - self._last_reply.get(sender, -self.retransmit_ticks)
                < self.retransmit_ticks):
            return []
        self._last_reply[sender] = now
        evidence = self._history[message.round]
        return [Send(Decided(self.me, message.round, evidence.proposal, evidence.commits),
                     to=(message.sender,))]

    def _on_view_change(self, state: _Round, message: ViewChange, now: int) -> list[Action]:
        changes = state.view_changes.get(message.new_view, {})
        if message.sender in changes or not self._valid_view_change(state, message):
            return []
        state.view_changes.setdefault(message.new_view, {})[message.sender] = message
        actions = ([] if message.prepared is None
                   else self._learn(state, message.prepared.pre_prepare.proposal))
        if state.decided:
            return actions
        actions += self._join_higher_view(state, now)
        return actions + self._lead_new_view(state, message.new_view, now)

    def _join_higher_view(self, state: _Round, now: int) -> list[Action]:
        """PBFT's liveness rule: f + 1 replicas asking for views above ours include an honest one,
        so join the smallest of those views instead of waiting for our own timer."""
        lowest_asked: dict[str, int] = {}
        for view, changes in state.view_changes.items():
            if view <= state.view:
                continue
            for sender in changes:
                if sender != self.me:
                    lowest_asked[sender] = min(view, lowest_asked.get(sender, view))
        if len(lowest_asked) < state.f + 1:
            return []
        return self._change_view(state, min(lowest_asked.values()), now)

    def _lead_new_view(self, state: _Round, view: int, now: int) -> list[Action]:
        changes = state.view_changes.get(view, {})
        if (state.leader(view) != self.me or len(changes) < state.quorum
                or view < state.view or (view == state.view and not state.changing)):
            return []
        chosen = tuple(changes[sender] for sender in sorted(changes))
        carried = _highest_prepared(chosen)
        if carried is None and not self._can_propose(state):
            return []
        proposal = (carried.pre_prepare.proposal if carried is not None
                    else proposals.propose(state.number, state.observations))
        if not self._valid_proposal(state, proposal):
            return []
        pre_prepare = PrePrepare(self.me, state.number, view, proposal.digest, proposal)
        return self._broadcast(state, NewView(self.me, state.number, view, chosen, pre_prepare),
                               now)

    def _on_new_view(self, state: _Round, message: NewView, now: int) -> list[Action]:
        view = message.view
        if (view < state.view or (view == state.view and not state.changing)
                or view in state.accepted or not self._valid_new_view(state, message)):
            return []
        state.view = view
        state.changing = False
        state.mine = [message] if message.sender == self.me else []
        actions = self._arm_view_timer(state, now)
        return actions + self._accept(state, message.pre_prepare, now)

    def _change_view(self, state: _Round, view: int, now: int) -> list[Action]:
        state.view = view
        state.changing = True
        state.mine = []
        actions = self._arm_view_timer(state, now)
        return actions + self._broadcast(state, ViewChange(
            self.me, state.number, view, state.prepared), now)

    def _arm_view_timer(self, state: _Round, now: int) -> list[Action]:
        backoff = min(state.view - state.number, MAX_BACKOFF)
        timeout = self.timeout_ticks << backoff
        state.view_deadline = now + timeout
        state.retransmit_deadline = now + self.retransmit_ticks
        return [StartTimer(timeout), StartTimer(self.retransmit_ticks)]

    def _broadcast(self, state: _Round, message: Message, now: int) -> list[Action]:
        """Send `message` to the other members, remember it for retransmission, and apply it
        to this replica as every other member will."""
        state.mine.append(message)
        return [Send(message), *self._receive(state, message, now)]

    def _can_propose(self, state: _Round) -> bool:
        """Whether this replica holds enough observations to propose (a leader without them
        stays silent and the view times out to the next)."""
        return len(state.observations) >= self.min_observations

    def _valid_pre_prepare(self, state: _Round, message: PrePrepare) -> bool:
        return (message.round == state.number and message.view >= state.number
                and message.sender == state.leader(message.view)
                and message.digest == message.proposal.digest
                and self._valid_proposal(state, message.proposal))

    def _valid_proposal(self, state: _Round, proposal: Proposal) -> bool:
        if proposal.digest in state.valid:
            return True
        if not proposals.is_valid(proposal, state.number, self.min_observations,
                                  self.check_observation):
            return False
        state.valid.add(proposal.digest)
        return True

    def _valid_certificate(self, state: _Round, certificate: PreparedCertificate) -> bool:
        pre_prepare = certificate.pre_prepare
        senders = {prepare.sender for prepare in certificate.prepares}
        return (self._valid_pre_prepare(state, pre_prepare)
                and len(senders) == len(certificate.prepares) >= state.quorum
                and senders <= set(state.members)
                and all(prepare.round == state.number and prepare.view == pre_prepare.view
                        and prepare.digest == pre_prepare.digest
                        for prepare in certificate.prepares))

    def _valid_view_change(self, state: _Round, message: ViewChange) -> bool:
        certificate = message.prepared
        return (message.round == state.number and message.new_view > state.number
                and message.sender in state.members
                and (certificate is None or (certificate.view < message.new_view
                                             and self._valid_certificate(state, certificate))))

    def _valid_new_view(self, state: _Round, message: NewView) -> bool:
        changes = message.view_changes
        senders = {change.sender for change in changes}
        pre_prepare = message.pre_prepare
        if (message.sender != state.leader(message.view) or len(senders) != len(changes)
                or len(senders) < state.quorum
                or any(change.new_view != message.view
                       or not self._valid_view_change(state, change) for change in changes)
                or pre_prepare.sender != message.sender or pre_prepare.view != message.view
                or not self._valid_pre_prepare(state, pre_prepare)):
            return False
        carried = _highest_prepared(changes)
        return carried is None or carried.pre_prepare.digest == pre_prepare.digest

    def _keep_future(self, message: Message) -> None:
        """Keep a few messages of later rounds: a replica a step behind the others gets them
        once it starts that round (retransmission covers what is dropped here)."""
        kept = self._future.setdefault(message.sender, [])
        if len(kept) < FUTURE_MESSAGES_PER_SENDER:
            kept.append(message)

    def _take_future(self, round_number: int) -> list[Message]:
        taken: list[Message] = []
        for sender, kept in self._future.items():
            taken += [message for message in kept if message.round == round_number]
            self._future[sender] = [message for message in kept if message.round > round_number]
        return taken


def leader_first(members: Iterable[str], view: int) -> tuple[str, ...]:
    """The members (sorted, as a round orders them) starting at the leader of `view`: the
    staged transmission order of a report decided in `view`, so that its first transmitter is
    the leader that carried the decision, never a leader the view change replaced."""
    ordered = tuple(sorted(set(members)))
    start = view % len(ordered)
    return ordered[start:] + ordered[:start]


def _highest_prepared(changes: Iterable[ViewChange]) -> PreparedCertificate | None:
    """The certificate of the highest view among `changes` (ties, possible only with more than f
    faulty members, broken by digest so every replica picks the same)."""
    certificates = [change.prepared for change in changes if change.prepared is not None]
    if not certificates:
        return None
    return max(certificates, key=lambda certificate: (certificate.view,
                                                      certificate.pre_prepare.digest))
