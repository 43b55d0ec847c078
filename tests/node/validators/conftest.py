"""Four validators and two oracles as real `noderr node run` processes on a stack of their own
(anvil, Postgres, indexer, API, NATS: tests/node/runtime/conftest.py's `network`, a separate
instance for this folder), its deployment file narrowed to the SP500 feed before any node
starts.

Validators: anvil #9 (the genesis validator, token 1) and #5, #6, #7, admitted by governance
(the timelock impersonated); oracles: #1 and #2. `guarded_desks` adds two Guardian nodes (#3,
#8) for one module, and two Oracle-licensed desk keys: anvil #4 and a fresh key the guardians
deny-list (in a keystore: the ten anvil accounts are all taken)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ape
import pytest
from eth_account import Account
from web3.contract import Contract

from node.sources.replay import DATASETS
from noderr.domain import NodeType
from noderr.ports import free_port
from tests.node.runtime.conftest import Network, network  # noqa: F401
from tests.node.runtime.processes import NodeProcess, stop_all

FEED = "SP500"
VALIDATORS = (9, 5, 6, 7)
ORACLES = (1, 2)
GUARDIANS = (3, 8)
DESK_ACCOUNT = 4
VALIDATOR_ENV = {
    "NODERR_VALIDATOR_TICK_MS": "50",
    "NODERR_VALIDATOR_VIEW_TIMEOUT_TICKS": "20",
    "NODERR_VALIDATOR_ROUND_EVERY": "4",
    "NODERR_VALIDATOR_TRANSMIT_DELAY": "1.0",
}


@dataclass
class FeedNetwork:
    network: Network
    feed: Contract
    validators: dict[int, NodeProcess]
    oracles: dict[int, NodeProcess]
    metrics_ports: dict[int, int] = field(default_factory=dict)

    def start_validator(self, account: int) -> NodeProcess:
        self.metrics_ports[account] = free_port()
        node = self.network.start_node(NodeType.VALIDATOR, account, **VALIDATOR_ENV,
                                       NODERR_NODE_METRICS_PORT=str(self.metrics_ports[account]))
        self.validators[account] = node
        return node

    def transmitted(self, after_block: int = -1) -> list[dict]:
        """The Transmitted events mined after `after_block`."""
        events = self.feed.events.Transmitted().get_logs(from_block=max(after_block, 0))
        return [{**event["args"], "block": event["blockNumber"],
                 "tx_hash": event["transactionHash"].to_0x_hex()} for event in events
                if event["blockNumber"] > after_block]

    def wait_rounds(self, count: int, after_block: int = -1, timeout: float = 60) -> list[dict]:
        """At least `count` Transmitted events mined after `after_block`."""
        return self.network.wait_until(
            lambda: (events := self.transmitted(after_block)) and len(events) >= count and events,
            f"{count} rounds landed after block {after_block}", timeout)


def all_active(feed_network: FeedNetwork) -> None:
    """Reinstate any validator license suspended by an earlier test, and wait until the mirror
    lists every validator of the network active."""
    stack = feed_network.network
    contract = stack.ops.contract
    for account in feed_network.validators:
        address = stack.account(account)
        if not contract.functions.is_active(address, NodeType.VALIDATOR).call():
            token = contract.functions.token_of(address, NodeType.VALIDATOR).call()
            stack.ops.govern(contract.functions.reinstate(token))
    count = len(feed_network.validators)
    stack.wait_until(lambda: sum(
        member["node_type"] == NodeType.VALIDATOR
        for member in stack.api("/network/members")["members"]) == count,
        f"{count} active validators in the mirror")


def kill_the_leader(feed_network: FeedNetwork, rounds: int) -> tuple[int, list[dict], list[dict]]:
    """SIGKILL the transmitter of the last landed round; then `rounds` landed after the kill,
    and at least two opened after it (a round opens after its observed_at, so those cannot
    carry the dead validator's signature). (The killed account, the rounds, those opened
    after.)"""
    stack = feed_network.network
    last = feed_network.wait_rounds(1)[-1]
    leader = next(account for account in feed_network.validators
                  if stack.account(account) == last["transmitter"])
    feed_network.validators[leader].process.kill()
    feed_network.validators[leader].wait_exit()
    killed_at, killed_time = stack.w3.eth.block_number, time.time()
    events = feed_network.wait_rounds(rounds, after_block=killed_at)
    opened_after_kill = stack.wait_until(
        lambda: len(later := [event for event in feed_network.transmitted(killed_at)
                              if event["observed_at"] > killed_time]) >= 2 and later,
        "two rounds opened after the kill landed", timeout=60)
    return leader, events, opened_after_kill


def only_feed(network: Network) -> Contract:  # noqa: F811
    """The stack's SP500 feed (deployed by deploy_all), the deployment file narrowed to it so
    the validators run one feed's consensus, not four, on this 2-core machine."""
    deployment = network.deployment
    for name in [name for name in deployment.feeds() if name != FEED]:
        del deployment.contracts[f"NodeFeed.{name}"]
    deployment.save(network.services.deployment)
    record = deployment.contracts[f"NodeFeed.{FEED}"]
    return network.w3.eth.contract(address=record.address, abi=record.abi)


def start_feed_network(network: Network, validators: tuple[int, ...],  # noqa: F811
                       oracles: tuple[int, ...]) -> FeedNetwork:
    """The SP500 feed's network on `network`: a Validator license for each of `validators`
    but the first (the genesis validator, anvil #9), an Oracle license for each of `oracles`,
    and a node each, once every node is activated."""
    feed = only_feed(network)
    for account in validators[1:]:
        network.ops.mint(network.account(account), NodeType.VALIDATOR, salt=os.urandom(4).hex())
    for account in oracles:
        network.ops.mint(network.account(account), NodeType.ORACLE, salt=os.urandom(4).hex())
    feeds = FeedNetwork(network, feed, {}, {})
    for account in validators:
        feeds.start_validator(account)
    for account in oracles:
        feeds.oracles[account] = network.start_node(NodeType.ORACLE, account)
    for node in (*feeds.validators.values(), *feeds.oracles.values()):
        node.wait_for("node activated", timeout=90)
    return feeds


@ape.fixture(scope="package", chain_isolation=False)
def feed_network(network: Network) -> Iterator[FeedNetwork]:  # noqa: F811
    yield start_feed_network(network, VALIDATORS, ORACLES)


@pytest.fixture(scope="session")
def replay_range() -> tuple[int, int]:
    """The lowest low and the highest high of the replayed data, scaled by 10**8."""
    bars = DATASETS[FEED]()
    return int(bars["Low"].min() * 10**8), int(bars["High"].max() * 10**8)


@dataclass
class GuardedDesks:
    """Two Guardian nodes deny-listing `denied_keystore`'s key; both desk keys hold Oracle
    licenses the guardians counted from their start."""
    guardians: dict[int, NodeProcess]
    desk_account: int
    denied_address: str
    denied_keystore: Path
    denied_password_file: Path


@pytest.fixture(scope="module")
def guarded_desks(feed_network: FeedNetwork,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardedDesks]:
    """Module-scoped: the guardians stop before the next module, whose timings are the
    validators' own."""
    stack = feed_network.network
    denied = Account.create()
    folder, password = tmp_path_factory.mktemp("denied-desk"), os.urandom(8).hex()
    keystore, password_file = folder / "key.json", folder / "key.pass"
    keystore.write_text(json.dumps(
        Account.encrypt(denied.key, password, kdf="scrypt", iterations=2**12)))
    password_file.write_text(password)
    for address in (stack.account(DESK_ACCOUNT), denied.address):
        stack.ops.mint(address, NodeType.ORACLE, salt=os.urandom(4).hex())
    for account in GUARDIANS:
        stack.ops.mint(stack.account(account), NodeType.GUARDIAN, salt=os.urandom(4).hex())
    guardians = {account: stack.start_node(NodeType.GUARDIAN, account,
                                            NODERR_GUARDIAN_DENYLIST=denied.address)
                 for account in GUARDIANS}
    try:
        for node in guardians.values():
            node.wait_for("node activated", timeout=60)
        yield GuardedDesks(guardians, DESK_ACCOUNT, denied.address, keystore, password_file)
    finally:
        stop_all(list(guardians.values()))
