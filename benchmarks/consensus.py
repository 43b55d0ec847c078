"""Consensus benchmark: what one round costs, from the last observation to the report's
transmit receipt, and how many messages it takes against PBFT's 2n² bound.

Run from the repository root (project virtualenv, anvil from node_modules):

    python benchmarks/consensus.py

1. Round latency, n = 4 and n = 7, on a throwaway anvil (deployed as benchmarks/feed_gas.py
   does: NodeLicense with n Active validators, one NodeFeed). Each round runs the validators'
   own code in one process: a Replica per validator (node/consensus/replica.py), every message
   signed and verified by the validators' wire codec (node/runtime/validator.py's
   consensus_codec: one encode per message sent, one decode and signature check per
   recipient), delivered first in, first out; each validator that decides signs the EIP-712
   report; with a quorum of signatures the report is transmitted and the receipt awaited
   (polled every RECEIPT_POLL_S). The n validators' work runs one after another in one
   process, so the figure is an upper bound: in the network each validator checks and signs
   in parallel. Clock: from start_round with every observation in hand (the last observation
   has arrived) to the receipt. Left out: the bus hop (NATS, about 0.1 ms a message on loopback,
   `make bench-bus`) and the staged-transmission delay (it only runs when the leader fails).
   Baseline, same run: the bare transmit of an already-signed report (send + receipt), so
   ratio = round / bare transmit is what agreement adds to putting a value on-chain.
   Reports/s sustained: 1 / the mean round, one feed, rounds back to back.
2. Messages per round, from the deterministic simulator (node/consensus/simulation.py; no
   drops, no partitions, delays of 1..5 ticks): a fault-free run, and one with a silent
   validator (it leads some rounds: those take a view change), each against PBFT's bound of
   2n² messages per round (pre-prepare n - 1, prepare (n - 1)², commit n(n - 1)).

With --write, the figures go in docs/benchmarks.md, section "Consensus". About half a minute.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent))  # siblings, as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from feed_gas import Chain
from report import write_section

from node.bus.envelope import checksum
from node.consensus.messages import OracleValue
from node.consensus.replica import Decide, Replica, Send
from node.consensus.simulation import Scenario, run
from node.consensus.wire import Codec
from node.runtime.keys import NodeKey
from node.runtime.validator import consensus_codec, quorum
from node.settings import ValidatorSettings
from noderr.deployment import FEED_CONTRACT
from noderr.feed_report import Report, sign_report, transmit_args
from noderr.ports import free_port
from onchain.anvil import start_anvil

SIZES = (4, 7)
ROUNDS = 40
SIMULATED_ROUNDS = 20
ORACLES = 7
ANSWER = 6_512_345_000_000
OBSERVED_AT = 1_700_000_000
SETTINGS = ValidatorSettings()
RECEIPT_POLL_S = 0.002


def unproven(_round: int, _observation: OracleValue) -> bool:
    """The observations here are made up, without the oracles' signed frames, so every one is
    taken: the network's check (node/runtime/observation_proofs.py, about 0.2 ms per
    observation per replica, measured) is left out of the round latency."""
    return True


class Validators:
    """n validators of one feed, each with its replica and wire codec."""

    def __init__(self, chain: Chain, feed, size: int) -> None:
        self.chain, self.feed = chain, feed
        self.chain_id = chain.w3.eth.chain_id
        keys = {checksum(key.address): key for key in chain.keys[:size]}
        self.members = tuple(sorted(keys))
        self.keys = {address: NodeKey(address, keys[address].private_key)
                     for address in self.members}
        self.codecs: dict[str, Codec] = {address: consensus_codec(key, self.chain_id)
                                         for address, key in self.keys.items()}
        self.replicas = {address: Replica(
            address, timeout_ticks=SETTINGS.validator_view_timeout_ticks,
            retransmit_ticks=SETTINGS.validator_retransmit_ticks,
            min_observations=SETTINGS.validator_min_observations,
            check_observation=unproven)
            for address in self.members}
        self.observations = [OracleValue(f"0x{index + 1:040x}", ANSWER + index * 1000)
                             for index in range(ORACLES)]

    def agree(self, round_number: int) -> tuple[Report, dict[str, bytes], int]:
        """Run the round to decisions: the report, the signatures of those that decided, and
        the messages delivered."""
        queue: deque[tuple[str, Send]] = deque()
        decided: dict[str, Decide] = {}
        for address, replica in self.replicas.items():
            self._enqueue(address, replica.start_round(round_number, self.members,
                                                       self.observations, 0), queue, decided)
        delivered = 0
        while queue:
            sender, send = queue.popleft()
            payload = self.codecs[sender].encode(send.message)
            for recipient in send.to or [m for m in self.members if m != sender]:
                delivered += 1
                message = self.codecs[recipient].decode(payload)
                self._enqueue(recipient, self.replicas[recipient].on_message(message, 0),
                              queue, decided)
        value = {decision.value for decision in decided.values()}
        assert len(value) == 1, f"round {round_number}: decisions {value}"
        report = Report(round_number, value.pop(), OBSERVED_AT + round_number)
        signatures = {address: sign_report(self.keys[address].private_key, self.chain_id,
                                           self.feed.address, report) for address in decided}
        return report, signatures, delivered

    @staticmethod
    def _enqueue(address: str, actions: list, queue: deque, decided: dict) -> None:
        for action in actions:
            if isinstance(action, Send):
                queue.append((address, action))
            elif isinstance(action, Decide):
                decided[address] = action

    def transmit(self, report: Report, signatures: dict[str, bytes]) -> None:
        enough = dict(sorted(signatures.items())[:quorum(len(self.members))])
        w3 = self.chain.w3
        tx_hash = self.feed.functions.transmit(
            *transmit_args(report, self.members, enough)).transact(
            {"from": self.chain.sender})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=RECEIPT_POLL_S)
        if receipt["status"] != 1:
            raise RuntimeError(f"round {report.round} not transmitted: {tx_hash.hex()}")


def measure_latency(chain: Chain, feed, size: int) -> dict[str, float]:
    """Per round (ms): agreement alone, agreement then transmit, and the bare transmit
    baseline, interleaved round by round so both see the same load."""
    validators = Validators(chain, feed, size)
    agreeing, rounds, bare, messages = [], [], [], []
    first = feed.functions.latest_round().call() + 1
    for round_number in range(first, first + 2 * ROUNDS, 2):
        begin = time.perf_counter()
        report, signatures, delivered = validators.agree(round_number)
        agreed = time.perf_counter()
        validators.transmit(report, signatures)
        rounds.append((time.perf_counter() - begin) * 1000)
        agreeing.append((agreed - begin) * 1000)
        messages.append(delivered)
        report = Report(round_number + 1, ANSWER, OBSERVED_AT + round_number + 1)
        signatures = {address: sign_report(key.private_key, validators.chain_id, feed.address,
                                           report) for address, key in validators.keys.items()}
        begin = time.perf_counter()
        validators.transmit(report, signatures)
        bare.append((time.perf_counter() - begin) * 1000)
    return {"agree_p50": percentile(agreeing, 50), "p50": percentile(rounds, 50),
            "p99": percentile(rounds, 99), "bare_p50": percentile(bare, 50),
            "bare_p99": percentile(bare, 99), "per_second": 1000 / statistics.mean(rounds),
            "messages": statistics.mean(messages)}


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def simulated_messages(size: int, faults: tuple[tuple[int, str], ...]) -> float:
    result = run(Scenario(seed=7, n=size, rounds=SIMULATED_ROUNDS, faults=faults,
                          drop_rate=0.0, duplicate_rate=0.0, partitions=False, heal_tick=0))
    return result.messages / SIMULATED_ROUNDS


def main() -> None:
    port = free_port()
    anvil = start_anvil(port)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        chain = Chain(w3)
        feed = chain.deploy(FEED_CONTRACT, chain.license.address, 8, "SP500 / USD",
                            chain.timelock, -(10**30), 10**30)
        latency = {}
        for size in SIZES:
            chain.admit_validators(size)
            latency[size] = measure_latency(chain, feed, size)
    finally:
        anvil.kill()
        anvil.wait()
    text = report(latency)
    print(text)
    if "--write" in sys.argv[1:]:
        write_section(text)


def report(latency: dict[int, dict[str, float]]) -> str:
    lines = ["## Consensus", "",
             f"`make bench-consensus` (benchmarks/consensus.py), "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores shared with other "
             f"work (load average {os.getloadavg()[0]:.1f}). Round latency: last observation "
             f"to transmit receipt, {ROUNDS} rounds, the validators' consensus code in one "
             "process (signed messages, EIP-712 report signatures, a real transmit on anvil; "
             "the NATS hop and the oracle-signature check of each observation, about 0.2 ms, "
             "left out; the validators' work one after another, so an upper bound); "
             "baseline: a bare transmit of an already-signed report, same run.", "",
             "| n | agree p50 ms | round p50 ms | round p99 ms | bare transmit p50 / p99 ms | "
             "round / bare (p50) | reports/s | messages |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, row in latency.items():
        lines.append(f"| {size} | {row['agree_p50']:.1f} | {row['p50']:.1f} | "
                     f"{row['p99']:.1f} | {row['bare_p50']:.1f} / {row['bare_p99']:.1f} | "
                     f"{row['p50'] / row['bare_p50']:.2f} | {row['per_second']:.1f} | "
                     f"{row['messages']:.0f} |")
    lines += ["", f"Messages per round against PBFT's 2n² (simulator, {SIMULATED_ROUNDS} "
              "rounds, delays of 1–5 ticks, no drops):", "",
              "| n | 2n² | fault-free | ratio | one silent validator | ratio |",
              "|---:|---:|---:|---:|---:|---:|"]
    for size in SIZES:
        bound = 2 * size * size
        clean = simulated_messages(size, ())
        silent = simulated_messages(size, ((0, "silent"),))
        lines.append(f"| {size} | {bound} | {clean:.1f} | {clean / bound:.2f} | "
                     f"{silent:.1f} | {silent / bound:.2f} |")
    lines += ["", "Transmit gas per signer: docs/gas.md (`make bench-feed-gas`)."]
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    main()
