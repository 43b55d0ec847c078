"""Consensus failover (issue 13's chaos benchmark): on the demo-sized network (four genesis
validators as `noderr node run` processes, two oracles, two guardians, four replayed feeds,
anvil, embedded PostgreSQL, NATS, indexer, API; benchmarks/network_load.py's stack), kill the
leader of a feed's next consensus round with SIGKILL just before that round opens, and time
how long until the feed's next report lands on-chain; then restart the killed validator (a new
`noderr node run` with the same account) and wait until a round lands signed by all
validators again before the next kill.

`--validators N` (4 to 7) admits N - 4 more validators first (Validator licenses minted by the
timelock, impersonated on anvil, as an executed proposal would) and starts them as processes.
After the kills, with f = (N - 1) // 3: f validators frozen with SIGSTOP (silent: alive to the
bus, saying nothing) while ROUNDS_WATCHED rounds fall due, counting the rounds that land; then
f + 1 validators killed, until a survivor records the `QuorumUnreachable` rejection of
`handle_view_change` naming them (GET /network/executions) and no round lands meanwhile.
Messages per round: the rows GET /network/rounds/{feed}/{round}/messages holds for each
baseline round (every validator's report of every message it signed or received).

The leader of round c is `members[c % n]`, the active validators sorted by checksum address
(round c opens in view c; docs/consensus.md), and round c opens at
((c * NODERR_VALIDATOR_ROUND_EVERY) + 1.2) * NODERR_NODE_ROUND_INTERVAL on the unix clock.
A landing is seen by polling the feed's `latest_round` every POLL_S. The bound is issue 13's:
the next report lands within 2 * the round (view) timeout,
NODERR_VALIDATOR_VIEW_TIMEOUT_TICKS * NODERR_VALIDATOR_TICK_MS. The baseline, measured first
in the same run with every validator up: the period between consecutive landings and a
round's latency from its opening to its landing. That latency is part of every kill-to-landing
time, so the table also gives what the kill adds: the killed round's opening-to-landing minus
the idle median (the cost of the view change and of the next transmitter).
With --write, the figures go in docs/benchmarks.md, section "Consensus failover".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
from eth_utils import keccak
from tqdm import tqdm
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network_load import Stack, pct, stack
from report import write_section

from client import BackendClient
from node.settings import NodeSettings, ValidatorSettings
from noderr.domain import NodeType
from noderr.feeds import REPLAYED_INSTRUMENTS
from noderr_cli.demo_network import START_TIMEOUT_S, VALIDATORS, wait_activated
from noderr_cli.services import running, start_service

POLL_S = 0.05
KILL_LEAD_S = 0.1
LAND_TIMEOUT_S = 60.0
RECOVERY_TIMEOUT_S = 120.0
EXTRA_VALIDATORS = (2, 3, 8)
"""anvil accounts the demo network leaves free, admitted as validators 5 to 7."""
ROUNDS_WATCHED = 6
REASON_TIMEOUT_S = 60.0
SHIPPED_S = 2.0
"""Long enough for a validator's records of a closed round to reach the backend (it ships
every second)."""


@dataclass(frozen=True)
class Clock:
    """The validators' shared round clock (node/runtime/validator.py, ValidatorDuties)."""

    interval: float
    every: int

    def opens(self, round_number: int) -> float:
        return (round_number * self.every + 1) * self.interval + self.interval / 5

    def next_round(self, after: float) -> int:
        round_number = int((after - self.interval * 1.2) // (self.every * self.interval))
        while self.opens(round_number) < after:
            round_number += 1
        return round_number


@dataclass
class Kill:
    round: int
    leader: int
    kill_to_land_s: float
    open_to_land_s: float
    landed_round: int
    view_changes: int | None
    recovery_s: float
    unobserved: bool = False
    """The killed round did not land and its validators had no oracle observation to propose
    (attendance's NoObservations): a quiet market's skipped round, not the failover's."""


@dataclass
class Run:
    feed: str
    bound_s: float
    idle_periods_s: list[float] = field(default_factory=list)
    idle_latency_s: list[float] = field(default_factory=list)
    idle_view_changes: list[int] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    never_landed: list[int] = field(default_factory=list)
    validators: int = 4
    idle_messages: list[tuple[int, int]] = field(default_factory=list)
    """Per baseline round: (rows stored, distinct signed messages)."""
    silent: list[int] = field(default_factory=list)
    silent_landed: list[tuple[int, int]] = field(default_factory=list)
    """Rounds landed while `silent` were frozen: (round, signers)."""
    silent_unobserved: list[int] = field(default_factory=list)
    """Rounds due meanwhile that did not land for want of an oracle observation."""
    silent_due: int = 0
    down: list[int] = field(default_factory=list)
    down_reason: str | None = None
    down_reason_s: float | None = None
    down_landed: int = 0


class Validators:
    """The validators' processes: the network's own and the restarts this benchmark starts."""

    def __init__(self, stack_: Stack, exits: contextlib.ExitStack) -> None:
        self.stack, self.exits, self.restarts = stack_, exits, 0
        self.accounts = stack_.w3.eth.accounts
        self.by_address = {self.accounts[number]: number for number in VALIDATORS}
        self.logs = {number: stack_.folder / "logs" / f"node-validator-{number}.log"
                     for number in VALIDATORS}
        """Each validator's current process log."""

    def admit(self, numbers: tuple[int, ...]) -> None:
        """Validator licenses for `numbers` (minted from the timelock, impersonated), then
        their nodes, each until it has activated."""
        license_ = license_contract(self.stack)
        for number in numbers:
            owner = self.accounts[number]
            govern(self.stack, license_.functions.mint(owner, NodeType.VALIDATOR,
                                                       keccak(text=f"bench:{owner}")),
                   f"minting a Validator license to #{number}")
            self.by_address[owner] = number
        for number in numbers:
            self.start(number)

    def members(self) -> list[str]:
        return sorted(Web3.to_checksum_address(address) for address in self.by_address)

    def leader(self, round_number: int) -> int:
        members = self.members()
        return self.by_address[members[round_number % len(members)]]

    def kill(self, account: int) -> None:
        process = self._process(account)
        os.kill(process.pid, signal.SIGKILL)

    def freeze(self, account: int, frozen: bool) -> None:
        os.kill(self._process(account).pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def start(self, account: int) -> None:
        self.restarts += 1
        log = self.stack.folder / "logs" / f"node-validator-{account}-start-{self.restarts}.log"
        self.exits.enter_context(running(start_service(
            ["node", "run", "--type", "validator", "--account", str(account)],
            self.stack.services, log)))
        self.logs[account] = log
        wait_activated(log, time.monotonic() + START_TIMEOUT_S)

    def alive(self, account: int) -> bool:
        try:
            self._process(account)
        except RuntimeError:
            return False
        return True

    @staticmethod
    def _process(account: int) -> psutil.Process:
        for process in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                line = process.cmdline()
                if (process.status() != psutil.STATUS_ZOMBIE and "validator" in line
                        and line[line.index("--account") + 1] == str(account)):
                    return process
        raise RuntimeError(f"no running validator process for account #{account}")


def json_deployment(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def license_contract(stack_: Stack):
    record = json_deployment(stack_.services.deployment)["contracts"]["NodeLicense"]
    return stack_.w3.eth.contract(address=record["address"], abi=record["abi"])


def govern(stack_: Stack, function, what: str) -> None:
    """`function` sent from the timelock (impersonated on anvil), as an executed proposal
    would; `what` names it if it reverts."""
    w3 = stack_.w3
    timelock = json_deployment(stack_.services.deployment)["contracts"]["NodeTimelock"]["address"]
    w3.provider.make_request("anvil_impersonateAccount", [timelock])
    w3.provider.make_request("anvil_setBalance", [timelock, hex(10**18)])
    try:
        tx = function.transact({"from": timelock})
        if w3.eth.wait_for_transaction_receipt(tx)["status"] != 1:
            raise RuntimeError(f"{what} reverted")
    finally:
        w3.provider.make_request("anvil_stopImpersonatingAccount", [timelock])


def latest_round(feed) -> int:
    return feed.functions.latest_round().call()


def wait_landed(feed, round_number: int, timeout_s: float = LAND_TIMEOUT_S) -> tuple[int, float]:
    """The first latest_round at or past `round_number`, and the time it was seen."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        landed = latest_round(feed)
        if landed >= round_number:
            return landed, time.time()
        time.sleep(POLL_S)
    raise TimeoutError(f"round {round_number} did not land in {timeout_s:.0f} s")


def signers(w3: Web3, feed, round_number: int) -> int:
    events = feed.events.Transmitted().get_logs(
        from_block=max(0, w3.eth.block_number - 500), argument_filters={"round": round_number})
    return len(events[0]["args"]["signers"]) if events else 0


def wait_all_sign(w3: Web3, feed, members: int) -> None:
    """Until a round opened after now lands signed by every member."""
    deadline = time.time() + RECOVERY_TIMEOUT_S
    round_number = latest_round(feed) + 1
    while time.time() < deadline:
        landed, _ = wait_landed(feed, round_number, deadline - time.time())
        if signers(w3, feed, landed) == members:
            return
        round_number = landed + 1
    raise TimeoutError(f"no round signed by all {members} validators in "
                       f"{RECOVERY_TIMEOUT_S:.0f} s after the restart")


def measure_idle(run: Run, stack_: Stack, clock: Clock, rounds: int) -> None:
    feed = stack_.feeds[run.feed]
    landed, seen = wait_landed(feed, latest_round(feed) + 1)
    first = landed + 1
    for _ in tqdm(range(rounds), desc="idle rounds", unit="round", file=sys.stderr):
        following, at = wait_landed(feed, landed + 1)
        if following == landed + 1:
            run.idle_periods_s.append(at - seen)
        run.idle_latency_s.append(at - clock.opens(following))
        landed, seen = following, at
    time.sleep(2 * clock.every * clock.interval)  # the validators' last words shipped
    for round_number in range(first, landed + 1):
        changes = view_changes(stack_.services.api_url, run.feed, round_number)
        if changes is not None:
            run.idle_view_changes.append(changes)
        run.idle_messages.append(messages(stack_.services.api_url, run.feed, round_number))


def messages(api_url: str, feed_id: str, round_number: int) -> tuple[int, int]:
    """The rows the backend holds for the round's consensus messages (one per reporter and
    message), and the distinct signed messages among them."""
    rows, distinct, cursor = 0, set(), None
    with BackendClient(api_url) as client:
        while True:
            page = client.network_round_messages(feed_id, round_number, limit=1000,
                                                 cursor=cursor)
            rows += len(page.items)
            distinct |= {item.signed_digest for item in page.items}
            cursor = page.next_cursor
            if cursor is None:
                return rows, len(distinct)


def view_changes(api_url: str, feed_id: str, round_number: int) -> int | None:
    with BackendClient(api_url) as client:
        items = client.network_rounds(feed=feed_id, from_round=round_number,
                                      to_round=round_number).items
    known = [item.view_changes for item in items if item.view_changes is not None]
    return max(known) if known else None


def kill_once(run: Run, stack_: Stack, validators: Validators, clock: Clock) -> Kill | None:
    feed = stack_.feeds[run.feed]
    round_number = clock.next_round(time.time() + 1.0)
    leader = validators.leader(round_number)
    time.sleep(max(0.0, clock.opens(round_number) - KILL_LEAD_S - time.time()))
    killed_at = time.time()
    validators.kill(leader)
    try:
        landed, at = wait_landed(feed, round_number)
    except TimeoutError:
        run.never_landed.append(round_number)
        landed, at = None, None
    restarted = time.time()
    validators.start(leader)
    wait_all_sign(stack_.w3, feed, len(validators.by_address))
    if landed is None:
        return None
    api_url = stack_.services.api_url
    return Kill(round_number, leader, at - killed_at, at - clock.opens(round_number), landed,
                view_changes(api_url, run.feed, round_number), time.time() - restarted,
                landed != round_number and unobserved(api_url, run.feed, round_number))


def unobserved(api_url: str, feed_id: str, round_number: int) -> bool:
    """Whether a validator recorded that it had no oracle observation to propose in the round
    (node/runtime/attendance.py's NoObservations)."""
    prefix = f"NoObservations: round {round_number} of {feed_id}:"
    with BackendClient(api_url) as client:
        items = client.network_executions(function="handle_view_change", outcome="rejected",
                                          limit=1000).items
    return any((item.error or "").startswith(prefix) for item in items)


def silent(run: Run, stack_: Stack, validators: Validators, clock: Clock) -> None:
    """f validators frozen while ROUNDS_WATCHED rounds fall due: which land, signed by whom."""
    feed = stack_.feeds[run.feed]
    faulty = (run.validators - 1) // 3
    run.silent = sorted(validators.by_address.values())[-faulty:]
    for account in run.silent:
        validators.freeze(account, True)
    first = latest_round(feed) + 1
    last = first + ROUNDS_WATCHED - 1
    time.sleep(max(0.0, clock.opens(last) - time.time()))
    with contextlib.suppress(TimeoutError):  # a round missing is a figure, not an error
        wait_landed(feed, last, clock.every * clock.interval)
    time.sleep(SHIPPED_S)
    run.silent_due = ROUNDS_WATCHED
    run.silent_landed = [(number, count) for number in range(first, last + 1)
                         if (count := signers(stack_.w3, feed, number))]
    run.silent_unobserved = [number for number in range(first, last + 1)
                             if number not in dict(run.silent_landed)
                             and unobserved(stack_.services.api_url, run.feed, number)]
    for account in run.silent:
        validators.freeze(account, False)
    wait_all_sign(stack_.w3, feed, run.validators)


def down(run: Run, stack_: Stack, validators: Validators, clock: Clock) -> None:
    """f + 1 validators killed: until a survivor says why no report lands, naming them."""
    feed = stack_.feeds[run.feed]
    run.down = sorted(validators.by_address.values())[:(run.validators - 1) // 3 + 1]
    named = [validators.accounts[account] for account in run.down]
    killed_at = time.time()
    for account in run.down:
        validators.kill(account)
    landed_before = latest_round(feed)
    deadline = killed_at + REASON_TIMEOUT_S
    with BackendClient(stack_.services.api_url) as client:
        while time.time() < deadline and run.down_reason is None:
            for item in client.network_executions(function="handle_view_change",
                                                  outcome="rejected", limit=100).items:
                error = item.error or ""
                if (item.started_at.timestamp() > killed_at and run.feed in error
                        and all(address in error for address in named)):
                    run.down_reason, run.down_reason_s = error, time.time() - killed_at
                    break
            time.sleep(0.5)
    run.down_landed = latest_round(feed) - landed_before
    for account in run.down:
        validators.start(account)
    wait_all_sign(stack_.w3, feed, run.validators)


def measure(stack_: Stack, kills: int, idle_rounds: int, count: int) -> Run:
    settings, node = ValidatorSettings(), NodeSettings()
    clock = Clock(node.node_round_interval, settings.validator_round_every)
    view_timeout_s = settings.validator_view_timeout_ticks * settings.validator_tick_ms / 1e3
    run = Run(REPLAYED_INSTRUMENTS[0], 2 * view_timeout_s, validators=count)
    with contextlib.ExitStack() as exits:
        validators = Validators(stack_, exits)
        validators.admit(EXTRA_VALIDATORS[:count - len(VALIDATORS)])
        wait_all_sign(stack_.w3, stack_.feeds[run.feed], count)
        measure_idle(run, stack_, clock, idle_rounds)
        progress = tqdm(range(kills), desc="leader kills", unit="kill", file=sys.stderr)
        for _ in progress:
            kill = kill_once(run, stack_, validators, clock)
            if kill:
                run.kills.append(kill)
                progress.set_postfix(failover=f"{kill.kill_to_land_s:.2f}s")
        if count > len(VALIDATORS):
            silent(run, stack_, validators, clock)
            down(run, stack_, validators, clock)
    return run


def heading(run: Run) -> str:
    """The demo's size keeps the section's first name; other sizes get their own section."""
    suffix = "" if run.validators == len(VALIDATORS) else f", n = {run.validators}"
    return f"## Consensus failover{suffix}"


def report(run: Run, started: datetime) -> str:
    if not run.kills:
        missed = ([f"**No report within {LAND_TIMEOUT_S:.0f} s** after any leader kill "
                   f"(rounds {', '.join(map(str, run.never_landed))})."]
                  if run.never_landed else [])
        return "\n".join([heading(run), "", *missed, *faults(run)]) + "\n"
    failover = [kill.kill_to_land_s for kill in run.kills]
    opened = [kill.open_to_land_s for kill in run.kills]
    period = statistics.median(run.idle_periods_s)
    idle_latency = statistics.median(run.idle_latency_s)
    within = sum(value <= run.bound_s for value in failover)
    quiet = [kill for kill in run.kills if kill.unobserved]
    within_observed = sum(kill.kill_to_land_s <= run.bound_s for kill in run.kills
                          if not kill.unobserved)
    same_round = sum(kill.landed_round == kill.round for kill in run.kills)
    changes = [kill.view_changes for kill in run.kills if kill.view_changes is not None]
    recovery = [kill.recovery_s for kill in run.kills]
    rows = [("kill → next report on-chain (s)", failover),
            ("round opening → its report on-chain, leader killed (s)", opened),
            ("added by the kill: the above minus the idle median (s)",
             [value - idle_latency for value in opened])]
    lines = [
        heading(run), "",
        f"`benchmarks/consensus_failover.py`, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} "
        f"cores shared with other work (load average {os.getloadavg()[0]:.1f} at the end). "
        f"The demo's network ({run.validators} validators as processes, 2 oracles, 2 guardians, "
        "4 feeds); "
        f"feed {run.feed}. {len(run.kills) + len(run.never_landed)} kills: each SIGKILLs the "
        f"leader of the feed's next round {KILL_LEAD_S * 1e3:.0f} ms before the round opens, "
        "times the next landing (polling `latest_round` every "
        f"{POLL_S * 1e3:.0f} ms), restarts the validator and waits for a round signed by all "
        f"{run.validators}. Bound (issue 13): 2 × the view timeout = {run.bound_s:.1f} s. "
        f"Baseline, same run, all up ({len(run.idle_latency_s)} rounds): {period:.2f} s "
        "between landings, "
        f"{idle_latency:.2f} s from a round's opening to its landing; "
        f"{sum(change > 0 for change in run.idle_view_changes)} of "
        f"{len(run.idle_view_changes)} of these rounds decided after a view change.", "",
        "| figure | p50 | p95 | max | p50 / bound | p50 / idle period |",
        "|---|---:|---:|---:|---:|---:|"]
    for name, values in rows:
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.2f} | {pct(values, 95):.2f} | {max(values):.2f} | "
                     f"{median / run.bound_s:.2f} | {median / period:.2f} |")
    lines += ["", f"Within the bound: {within} of {len(failover)} kills. The killed round itself "
              f"landed in {same_round} of {len(run.kills)} (else a later one did). Landed in "
              f"a later view (view changes, from `GET /network/rounds`): "
              f"{sum(change > 0 for change in changes)} of {len(changes)} reported. "
              "Opening → landing with the leader killed against all up: "
              f"{statistics.median(opened) / idle_latency:.2f} × (medians). Restart → a round "
              f"signed by all {run.validators}: median {statistics.median(recovery):.1f} s."]
    if quiet:
        lines += ["", f"{len(quiet)} killed round(s) had no oracle observation to propose (the "
                  "oracles publish on a 0.5 % move or their heartbeat; the validators recorded "
                  "NoObservations), so no report was due from them: within the bound among "
                  f"the other {len(run.kills) - len(quiet)}: {within_observed}."]
    lines += faults(run)
    lines += ["", "| kill | round | leader | kill → landing (s) | round landed | view changes |",
              "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {number} | {kill.round} | #{kill.leader} | {kill.kill_to_land_s:.2f} | "
              f"{kill.landed_round}{' (killed round unobserved)' if kill.unobserved else ''} | "
              f"{'' if kill.view_changes is None else kill.view_changes} |"
              for number, kill in enumerate(run.kills, 1)]
    if run.never_landed:
        lines += ["", f"**No report within {LAND_TIMEOUT_S:.0f} s** after killing the leader "
                  f"of round(s) {', '.join(map(str, run.never_landed))}."]
    return "\n".join(lines) + "\n"


def faults(run: Run) -> list[str]:
    lines = []
    if run.idle_messages:
        rows = [count for count, _ in run.idle_messages]
        distinct = [count for _, count in run.idle_messages]
        lines += ["", f"Consensus messages per baseline round ({len(rows)} rounds): "
                  f"{statistics.median(distinct):.0f} distinct signed messages (median; max "
                  f"{max(distinct)}; PBFT's bound 2n² = {2 * run.validators ** 2}), stored as "
                  f"{statistics.median(rows):.0f} rows (median; max {max(rows)}: one per "
                  "validator that signed or received each)."]
    if run.silent:
        landed = len(run.silent_landed)
        clean = sum(count >= run.validators * 2 // 3 + 1 for _, count in run.silent_landed)
        lines += ["", f"f = {len(run.silent)} silent (#{', #'.join(map(str, run.silent))} "
                  f"frozen by SIGSTOP): {landed} rounds landed while {run.silent_due} fell due "
                  f"({landed / run.silent_due:.2f} of the all-up rate), {clean} with a quorum "
                  f"of signers; {len(run.silent_unobserved)} had no oracle observation to "
                  "propose (NoObservations)."]
    if run.down:
        reason = (f"named in {run.down_reason_s:.1f} s: `{run.down_reason}`"
                  if run.down_reason else f"**not named within {REASON_TIMEOUT_S:.0f} s**")
        lines += ["", f"f + 1 = {len(run.down)} down (#{', #'.join(map(str, run.down))} "
                  f"killed): {run.down_landed} rounds landed meanwhile; the reason {reason}."]
    return lines


@contextlib.contextmanager
def demo_network(prefix: str, keep: bool) -> Iterator[Stack]:
    """network_load's stack in a fresh folder, which `keep` leaves behind (the nodes' logs)."""
    with contextlib.ExitStack() as folders:
        directory = (tempfile.mkdtemp(prefix=prefix) if keep else
                     folders.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
        print(f"starting the demo-sized network in {directory} …", file=sys.stderr)
        with stack(Path(directory)) as running_stack:
            yield running_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="leader kills (at least 10 for "
                                                              "issue 13's median)")
    parser.add_argument("--idle-rounds", type=int, default=10, help="baseline rounds, all up")
    parser.add_argument("--validators", type=int, default=len(VALIDATORS),
                        choices=range(len(VALIDATORS), len(VALIDATORS) + len(EXTRA_VALIDATORS)
                                      + 1),
                        help="validators as processes (n = 7: f = 2, and the f-silent and "
                             "f + 1-down runs)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's folder (the nodes' logs) and print its path")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()
    started = datetime.now(UTC)
    with demo_network("noderr-failover-", args.keep) as running_stack:
        run = measure(running_stack, args.kills, args.idle_rounds, args.validators)
    text = report(run, started)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
