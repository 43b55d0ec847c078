"""Consensus chaos (issue 13's "Faults" beyond the leader kills and the f silent / f + 1 down
runs of benchmarks/consensus_failover.py): on the demo-sized network (benchmarks/network_load.py's
stack; `--validators 7` admits three more validators first, as consensus_failover does), one
feed's consensus is put through three faults in turn, each checked for its safety property:

1. f = (n - 1) // 3 Byzantine validators at once: their processes are killed and a participant
   holding each one's key (tests/node/validators/byzantine.py) takes its place on the bus,
   equivocating as leader, voting two digests per phase, replaying and forging messages and
   signing two reports per round; each answers the other's re-sealed replays, so together they
   flood the feed's subjects (~150 messages/s each), which the honest validators' per-sender
   budget drops as `flooding`. Broken if a round lands twice, if fewer than LANDED_AT_LEAST
   of the rounds due land, or if an honest validator does not log double-signing evidence
   naming each liar. Figures: rounds landed against rounds due; `flooding` and `stale` drops
   per honest validator.
2. NATS restarted, first with SIGTERM (the server flushes JetStream) and then with SIGKILL,
   on the same port and store directory. Figure: restart → the next landed round, against the
   idle period between landings measured first in the same run. Broken if no round lands
   within RESUME_TIMEOUT_S, or if any feed's round is transmitted twice (every Transmitted
   event of the run is checked, so also never with two values: NodeFeed keeps one answer a
   round).
3. A validator's license revoked (by the timelock, as an executed proposal would): its process
   stops itself, and a participant holding its key goes on sending as a Byzantine one would.
   Broken if its process does not stop, if no round lands after the revocation or one mined
   after it carries its signature, if the chain does not count n - 1 active validators, if
   the honest validators do not drop its messages as unlicensed, or if a transmit carrying its
   signature (in another's entry; or with it kept in the validator list) does not revert with
   NodeFeed's reason. Runs last: the license is gone.

The process exits non-zero naming every broken property, after printing (and with --write,
recording) the section, so a broken run is both loud and on the record."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consensus_failover import (
    EXTRA_VALIDATORS,
    Clock,
    Validators,
    demo_network,
    govern,
    latest_round,
    license_contract,
    wait_all_sign,
    wait_landed,
)
from network_load import Stack
from report import write_section

from node.runtime.keys import anvil_account
from node.runtime.validator import CONSENSUS
from node.settings import NodeSettings, ValidatorSettings
from noderr.domain import NodeType
from noderr.feeds import REPLAYED_INSTRUMENTS
from noderr_cli.demo_network import VALIDATORS
from tests.node.validators.byzantine import Attacks, ByzantineValidator
from tests.node.validators.revoked_signature import (
    LISTED_REASON,
    OUTSIDER_REASON,
    revoked_signature_reverts,
)

FEED = REPLAYED_INSTRUMENTS[0]
IDLE_ROUNDS = 6
ATTACK_ROUNDS = 8
LANDED_AT_LEAST = 0.5
"""Of the rounds due while the liars run: below it, the liars have stalled the feed."""
"""Rounds the liars run for, at least: with n = 7 each liar leads one round in seven."""
EVIDENCE_TIMEOUT_S = 60.0
RESUME_TIMEOUT_S = 120.0
EXIT_TIMEOUT_S = 60.0
REVOKED_ROUNDS = 4


def quorum(members: int) -> int:
    return members * 2 // 3 + 1


@dataclass
class Byzantine:
    liars: list[int]
    attacks: dict[int, Attacks]
    seconds: float
    landed: list[tuple[int, int]]
    """(round, signers) of each round landed while the liars ran."""
    evidence: dict[int, set[int]]
    """Honest validator -> the liars its log names in double-signing evidence."""
    drops: dict[int, Counter]
    """Honest validator -> its logged drops on the feed's subjects by reason, while the liars
    ran (drop lines are rate-limited: each line counts itself and the drops it says it
    stands for; those of a period with no line after it are not counted)."""
    honest_cpu: dict[int, float]
    """Honest validator -> its CPU seconds per second while the liars ran."""
    liars_cpu: float
    """The liars' CPU seconds per second (threads of this process: they share the machine)."""


@dataclass
class Restart:
    how: str
    down_s: float
    resume_s: float | None


@dataclass
class Revocation:
    account: int
    address: str
    exit_s: float | None
    landed: list[tuple[int, list[str]]]
    """(round, signers) of each round mined after the revocation."""
    first_without_s: float | None
    active_after: int
    dropped_by: dict[int, bool]
    """Each remaining validator: whether its log shows the revoked key's messages dropped as
    unlicensed."""
    reverts: dict[str, str]
    """What a transmit carrying its signature reverted with, by how it was built."""


@dataclass
class Chaos:
    validators: int
    round_period_s: float
    """The schedule's: a round due every NODERR_VALIDATOR_ROUND_EVERY oracle rounds."""
    first_block: int = 0
    idle_periods_s: list[float] = field(default_factory=list)
    idle_cpu: float = 0.0
    """A validator's CPU seconds per second during the idle rounds, mean over validators."""
    byzantine: Byzantine | None = None
    restarts: list[Restart] = field(default_factory=list)
    revocation: Revocation | None = None
    landed: dict[str, int] = field(default_factory=dict)
    """Feed -> rounds landed in the run."""
    twice: dict[str, list[int]] = field(default_factory=dict)
    """Feed -> rounds with more than one Transmitted event in the run."""
    broken: list[str] = field(default_factory=list)

    @property
    def period(self) -> float:
        return statistics.median(self.idle_periods_s)


def transmitted(stack_: Stack, feed_name: str, from_block: int) -> list[dict]:
    return [{**event["args"], "block": event["blockNumber"]} for event in
            stack_.feeds[feed_name].events.Transmitted().get_logs(from_block=from_block)]


def log_text(path: Path, after: int = 0) -> str:
    with path.open("rb") as log:
        log.seek(after)
        return log.read().decode(errors="replace")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure_idle(chaos: Chaos, stack_: Stack, validators: Validators) -> None:
    feed = stack_.feeds[FEED]
    landed, seen = wait_landed(feed, latest_round(feed) + 1)
    accounts = list(validators.by_address.values())
    before, started = {account: cpu_seconds(validators._process(account))
                       for account in accounts}, time.time()
    for _ in range(IDLE_ROUNDS):
        following, at = wait_landed(feed, landed + 1)
        if following == landed + 1:
            chaos.idle_periods_s.append(at - seen)
        landed, seen = following, at
    spent = [cpu_seconds(validators._process(account)) - before[account] for account in accounts]
    chaos.idle_cpu = statistics.mean(spent) / (time.time() - started)


def liar(stack_: Stack, account: int, members: list[str], clock: Clock) -> ByzantineValidator:
    w3 = stack_.w3
    return ByzantineValidator(anvil_account(account, w3.eth.chain_id), w3.eth.chain_id,
                              stack_.bus.url, FEED, stack_.feeds[FEED].address, tuple(members),
                              clock.interval, clock.every)


def byzantine(chaos: Chaos, stack_: Stack, validators: Validators, clock: Clock) -> None:
    """f liars in place of f validators for at least ATTACK_ROUNDS rounds, until each has
    led a round, then until every honest validator names every liar."""
    feed, members = stack_.feeds[FEED], validators.members()
    accounts = sorted(validators.by_address.values())
    liars = accounts[-((len(accounts) - 1) // 3):]
    honest = [account for account in accounts if account not in liars]
    marks = {account: validators.logs[account].stat().st_size for account in honest}
    for account in liars:
        validators.kill(account)
    participants = {account: liar(stack_, account, members, clock) for account in liars}
    cpu_before = {account: cpu_seconds(validators._process(account)) for account in honest}
    own_before = cpu_seconds(psutil.Process())
    started, first_block = time.time(), stack_.w3.eth.block_number + 1
    for participant in participants.values():
        participant.start()
    deadline = started + ATTACK_ROUNDS * clock.every * clock.interval
    give_up = deadline + 2 * len(members) * clock.every * clock.interval
    while time.time() < deadline or (
            time.time() < give_up
            and not all(participant.attacks.equivocated for participant in participants.values())):
        time.sleep(0.5)
    evidence = named_in_evidence(validators, marks, liars, time.time() + EVIDENCE_TIMEOUT_S)
    attacks = {account: participant.stop() for account, participant in participants.items()}
    seconds = time.time() - started
    honest_cpu = {account: (cpu_seconds(validators._process(account)) - before) / seconds
                  for account, before in cpu_before.items()}
    liars_cpu = (cpu_seconds(psutil.Process()) - own_before) / seconds
    landed = [(event["round"], len(event["signers"]))
              for event in transmitted(stack_, FEED, first_block)]
    drops = {account: logged_drops(log_text(validators.logs[account], mark))
             for account, mark in marks.items()}
    chaos.byzantine = Byzantine(liars, attacks, seconds, landed, evidence, drops, honest_cpu,
                                liars_cpu)
    for account in liars:
        validators.start(account)
    wait_all_sign(stack_.w3, feed, len(members))


DROP_LINE = re.compile(rf"bus dropped a message on noderr\.validator\.\w+\.{FEED} from \S+: "
                       r"(\w+)(?: \(and (\d+) more not logged\))?$", re.MULTILINE)


def logged_drops(text: str) -> Counter:
    """Drops by reason in a node's log text: each line and the drops it stands for."""
    drops: Counter = Counter()
    for reason, unlogged in DROP_LINE.findall(text):
        drops[reason] += 1 + int(unlogged or 0)
    return drops


def named_in_evidence(validators: Validators, marks: dict[int, int], liars: list[int],
                      deadline: float) -> dict[int, set[int]]:
    """Until each honest validator's log names every liar in double-signing evidence, or the
    deadline: who named whom."""
    while True:
        named = {account: {number for number in liars if
                           f"double signing by {validators.accounts[number]} in round"
                           in log_text(validators.logs[account], mark)}
                 for account, mark in marks.items()}
        if all(found == set(liars) for found in named.values()) or time.time() > deadline:
            return named
        time.sleep(1.0)


def restart_nats(chaos: Chaos, stack_: Stack, validators: Validators, how: str) -> None:
    """The bus stopped by `how` (SIGTERM or SIGKILL) and started again on its port and store,
    just after a round landed: the time until the next one lands."""
    feed, bus = stack_.feeds[FEED], stack_.bus
    landed, _ = wait_landed(feed, latest_round(feed) + 1)
    stopped = time.time()
    if how == "SIGTERM":
        bus.stop()
    else:
        os.kill(bus.process.pid, signal.SIGKILL)
        bus.process.wait()
        bus.stop()
    bus.start()
    restarted = time.time()
    try:
        _, at = wait_landed(feed, max(landed, latest_round(feed)) + 1, RESUME_TIMEOUT_S)
        resume_s = at - restarted
    except TimeoutError:
        resume_s = None
    chaos.restarts.append(Restart(how, restarted - stopped, resume_s))
    if resume_s is not None:
        wait_all_sign(stack_.w3, feed, len(validators.by_address))


def revoke(chaos: Chaos, stack_: Stack, validators: Validators, clock: Clock) -> None:
    """The lowest-numbered genesis validator's license revoked: the rounds after it, its
    process, its messages (a participant goes on sending with its key) and its signature."""
    w3, feed, members = stack_.w3, stack_.feeds[FEED], validators.members()
    account = VALIDATORS[0]
    address = validators.accounts[account]
    honest = [number for number in validators.by_address.values() if number != account]
    marks = {number: validators.logs[number].stat().st_size for number in honest}
    license_ = license_contract(stack_)
    token = license_.functions.token_of(address, NodeType.VALIDATOR).call()
    govern(stack_, license_.functions.revoke(token, "chaos: revoked mid-run"),
           f"revoking #{account}'s Validator license")
    revoked, revoked_block = time.time(), w3.eth.block_number
    participant = liar(stack_, account, members, clock)
    participant.start()
    exit_s = exited(validators, account, revoked)
    del validators.by_address[address]
    due = revoked + REVOKED_ROUNDS * clock.every * clock.interval
    time.sleep(max(0.0, due - time.time()))
    with contextlib.suppress(TimeoutError):  # none landing is a broken property, in check()
        wait_landed(feed, latest_round(feed) + 1, RESUME_TIMEOUT_S)
    participant.stop()
    landed = [(event["round"], list(event["signers"]), event["block"])
              for event in transmitted(stack_, FEED, revoked_block + 1)]
    first_without = next((w3.eth.get_block(block)["timestamp"] - revoked
                          for _, signers, block in landed if address not in signers), None)
    dropped = re.compile(rf"bus dropped a message on {re.escape(CONSENSUS)}\.{FEED} from "
                         rf"{address}: unlicensed")
    chaos.revocation = Revocation(
        account, address, exit_s, [(number, signers) for number, signers, _ in landed],
        first_without,
        license_.functions.active_count(NodeType.VALIDATOR).call(),
        {number: bool(dropped.search(log_text(validators.logs[number], marks[number])))
         for number in honest},
        revoked_signature_reverts(
            w3, feed, {number: validators.accounts[number]
                       for number in validators.by_address.values()}, (account, address)))


def exited(validators: Validators, account: int, since: float) -> float | None:
    """Seconds from `since` until the validator's process has stopped itself, or None."""
    while time.time() < since + EXIT_TIMEOUT_S:
        if not validators.alive(account):
            return time.time() - since
        time.sleep(0.25)
    return None


def check(chaos: Chaos, stack_: Stack) -> None:
    """Every feed's Transmitted events of the run, then each scenario's safety property."""
    for name in stack_.feeds:
        rounds = Counter(event["round"] for event in transmitted(stack_, name, chaos.first_block))
        chaos.landed[name] = len(rounds)
        chaos.twice[name] = sorted(number for number, count in rounds.items() if count > 1)
        if chaos.twice[name]:
            chaos.broken.append(f"{name}: round(s) transmitted twice: {chaos.twice[name]}")
    check_byzantine(chaos)
    for restart in chaos.restarts:
        if restart.resume_s is None:
            chaos.broken.append(f"NATS restarted ({restart.how}): no round landed within "
                                f"{RESUME_TIMEOUT_S:.0f} s")
    check_revocation(chaos)


def check_byzantine(chaos: Chaos) -> None:
    run = chaos.byzantine
    if run is None:
        return
    due = run.seconds / chaos.round_period_s
    if len(run.landed) < LANDED_AT_LEAST * due:
        chaos.broken.append(f"Byzantine: {len(run.landed)} rounds landed of {due:.1f} due "
                            "while the liars ran")
    for account, named in run.evidence.items():
        missing = sorted(set(run.liars) - named)
        if missing:
            chaos.broken.append(f"Byzantine: validator #{account} logged no double-signing "
                                f"evidence naming #{', #'.join(map(str, missing))}")


def check_revocation(chaos: Chaos) -> None:
    run = chaos.revocation
    if run is None:
        return
    remaining = chaos.validators - 1
    if run.exit_s is None:
        chaos.broken.append(f"revoked: #{run.account}'s process still ran "
                            f"{EXIT_TIMEOUT_S:.0f} s after the revocation")
    carrying = [number for number, signers in run.landed if run.address in signers]
    if carrying:
        chaos.broken.append(f"revoked: rounds landed with #{run.account}'s signature after "
                            f"the revocation: {carrying}")
    if not run.landed:
        chaos.broken.append("revoked: no round landed after the revocation")
    if run.active_after != remaining:
        chaos.broken.append(f"revoked: {run.active_after} active validators on-chain, not "
                            f"{remaining}")
    silent = [number for number, dropped in run.dropped_by.items() if not dropped]
    if silent:
        chaos.broken.append(f"revoked: #{', #'.join(map(str, silent))} did not drop "
                            f"#{run.account}'s messages as unlicensed")
    for how, expected in (("in another's entry", OUTSIDER_REASON),
                          ("kept in the list", LISTED_REASON)):
        if expected not in run.reverts[how]:
            chaos.broken.append(f"revoked: a transmit with #{run.account}'s signature {how} "
                                f"reverted with {run.reverts[how]!r}, not {expected!r}")


def measure(stack_: Stack, count: int) -> Chaos:
    settings, node = ValidatorSettings(), NodeSettings()
    clock = Clock(node.node_round_interval, settings.validator_round_every)
    chaos = Chaos(count, clock.every * clock.interval)
    with contextlib.ExitStack() as exits:
        validators = Validators(stack_, exits)
        validators.admit(EXTRA_VALIDATORS[:count - len(VALIDATORS)])
        wait_all_sign(stack_.w3, stack_.feeds[FEED], count)
        chaos.first_block = stack_.w3.eth.block_number + 1
        steps = [("idle rounds", lambda: measure_idle(chaos, stack_, validators)),
                 ("Byzantine", lambda: byzantine(chaos, stack_, validators, clock)),
                 ("NATS SIGTERM", lambda: restart_nats(chaos, stack_, validators, "SIGTERM")),
                 ("NATS SIGKILL", lambda: restart_nats(chaos, stack_, validators, "SIGKILL")),
                 ("revocation", lambda: revoke(chaos, stack_, validators, clock))]
        for name, step in steps:
            print(f"{datetime.now(UTC):%H:%M:%S} {name} …", file=sys.stderr)
            step()
        check(chaos, stack_)
    return chaos


def heading(chaos: Chaos) -> str:
    """The demo's size keeps the section's first name; other sizes get their own section."""
    suffix = "" if chaos.validators == len(VALIDATORS) else f", n = {chaos.validators}"
    return f"## Consensus chaos{suffix}"


def accounts_text(accounts: list[int]) -> str:
    return "#" + ", #".join(map(str, accounts))


def report(chaos: Chaos, started: datetime) -> str:
    period = chaos.period
    lines = [
        heading(chaos), "",
        f"`benchmarks/consensus_chaos.py`, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores "
        f"shared with other work (load average {os.getloadavg()[0]:.1f} at the end). The demo's "
        f"network ({chaos.validators} validators as processes, f = {(chaos.validators - 1) // 3}"
        f", 2 oracles, 2 guardians, 4 feeds); faults on feed {FEED}'s consensus, in this order. "
        f"Baseline, same run, all up ({len(chaos.idle_periods_s)} rounds): {period:.2f} s "
        f"between landings (the schedule: a round due every {chaos.round_period_s:g} s).", "",
        "| fault | figure | value | against the baseline |", "|---|---|---:|---:|"]
    lines += byzantine_rows(chaos) + restart_rows(chaos) + revocation_rows(chaos)
    lines += ["", "Every feed's Transmitted events of the run: "
              + "; ".join(f"{name} {chaos.landed[name]} rounds, {len(rounds)} transmitted twice"
                          for name, rounds in chaos.twice.items()) + "."]
    lines += ["", *([f"- **Broken:** {item}." for item in chaos.broken]
                    or ["No safety property broken."])]
    return "\n".join(lines) + "\n"


def byzantine_rows(chaos: Chaos) -> list[str]:
    run = chaos.byzantine
    if run is None:
        return []
    due = run.seconds / chaos.round_period_s
    rounds = [number for number, _ in run.landed]
    named = sum(found == set(run.liars) for found in run.evidence.values())
    attacks = list(run.attacks.values())
    fault = f"f = {len(run.liars)} Byzantine ({accounts_text(run.liars)})"
    return [
        f"| {fault} | rounds landed / due in {run.seconds:.0f} s | {len(rounds)} / {due:.1f} | "
        f"{len(rounds) / due:.2f} |",
        f"| | rounds landed more than once | {len(rounds) - len(set(rounds))} | |",
        f"| | signers per landed round, min (quorum {quorum(chaos.validators)}; the liars "
        "sign the agreed report too) | "
        f"{min((signers for _, signers in run.landed), default=0)} | |",
        f"| | rounds equivocated as leader / double-voted / double-reported, all liars | "
        f"{sum(len(item.equivocated) for item in attacks)} / "
        f"{sum(len(item.double_voted) for item in attacks)} / "
        f"{sum(len(item.double_reported) for item in attacks)} | |",
        f"| | messages replayed / forged | {sum(item.replayed for item in attacks)} / "
        f"{sum(item.forged for item in attacks)} | |",
        f"| | honest validators whose log names every liar in double-signing evidence | "
        f"{named} of {len(run.evidence)} | |",
        *[f"| | `{reason}` drops per honest validator, min–max (logged) | "
          f"{min(drops[reason] for drops in run.drops.values())}–"
          f"{max(drops[reason] for drops in run.drops.values())} | |"
          for reason in ("flooding", "stale")],
        f"| | CPU per honest validator, min–max (core-seconds a second; all up: "
        f"{chaos.idle_cpu:.2f}) | {min(run.honest_cpu.values()):.2f}–"
        f"{max(run.honest_cpu.values()):.2f} | "
        f"{max(run.honest_cpu.values()) / chaos.idle_cpu:.2f} |",
        f"| | CPU of the liars (threads of the benchmark, on the same cores) | "
        f"{run.liars_cpu:.2f} | |"]


def restart_rows(chaos: Chaos) -> list[str]:
    rows = []
    for restart in chaos.restarts:
        resume = ("none" if restart.resume_s is None else f"{restart.resume_s:.2f}")
        ratio = ("" if restart.resume_s is None else f"{restart.resume_s / chaos.period:.2f}")
        rows += [f"| NATS restarted ({restart.how}) | stop → accepting again (s) | "
                 f"{restart.down_s:.2f} | |",
                 f"| | restart → next round on-chain (s) | {resume} | {ratio} |"]
    return rows


def revocation_rows(chaos: Chaos) -> list[str]:
    run = chaos.revocation
    if run is None:
        return []
    remaining = chaos.validators - 1
    first = ("none" if run.first_without_s is None else f"{run.first_without_s:.1f}")
    ratio = ("" if run.first_without_s is None else f"{run.first_without_s / chaos.period:.2f}")
    return [
        f"| #{run.account}'s license revoked | its process stopped itself after (s) | "
        f"{'no' if run.exit_s is None else f'{run.exit_s:.1f}'} | |",
        f"| | active validators on-chain after | {run.active_after} (quorum "
        f"{quorum(remaining)}) | |",
        f"| | revocation → first round on-chain without it (s, block time) | {first} | "
        f"{ratio} |",
        f"| | rounds landed after it, its signature in any | {len(run.landed)}, "
        f"{sum(run.address in signers for _, signers in run.landed)} | |",
        f"| | signers per landed round, min | "
        f"{min((len(signers) for _, signers in run.landed), default=0)} | |",
        f"| | validators dropping its messages as unlicensed | "
        f"{sum(run.dropped_by.values())} of {len(run.dropped_by)} | |",
        *[f"| | a transmit with its signature {how} | "
          f"{f'reverts: `{reason}`' if reason else '**passes**'} | |"
          for how, reason in run.reverts.items()]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validators", type=int, default=len(VALIDATORS),
                        choices=range(len(VALIDATORS), len(VALIDATORS) + len(EXTRA_VALIDATORS)
                                      + 1),
                        help="validators as processes (n = 7: f = 2 Byzantine at once)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's folder (the nodes' logs) and print its path")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()
    started = datetime.now(UTC)
    with demo_network("noderr-chaos-", args.keep) as running_stack:
        chaos = measure(running_stack, args.validators)
    text = report(chaos, started)
    print(text)
    if args.write:
        write_section(text)
    if chaos.broken:
        sys.exit("consensus chaos broke: " + "; ".join(chaos.broken))


if __name__ == "__main__":
    main()
