"""Gas of NodeGuard.halt by number of guardian signatures, and its slope per signer, beside
NodeFeed.transmit measured in the same run.

Run from the repository root (project virtualenv, anvil from node_modules):

    python benchmarks/guard_gas.py

It starts a throwaway anvil, deploys NodeLicense/NodeTimelock/NodeGovernor with `deploy_all`
(as `noderr deploy` does; on the local chain the deployer holds MINTER_ROLE and mints the
Guardian licenses), deploys a NodeGuard and a NodeFeed, and measures at n = 3, 5 and 7 Active
licenses of each kind:
- `halt` signed by every guardian (n signatures) and by a bare majority (floor(n/2)+1, the
  default quorum, what an emergency halt carries);
- the baseline, `NodeFeed.transmit` signed by every validator (steady state, its validator
  list from the cache): the same ecrecover per signature, but membership read once per
  membership change (NodeLicense's `validator_set_nonce`) where halt makes a live `is_active`
  call per signer, so the gap of the slopes is what that cache would save NodeGuard.

Methodology: steady state. At each size one halt and resume run first; the measured halt
then writes the halt flag (zero to non-zero, as every halt after a resume does) and raises a
non-zero nonce. The governance `resume` after it is measured too. Slope = (gas at 7 signers -
gas at 3) / 4.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from noderr.deployment import CONTRACT_NAMES, FEED_CONTRACT
from noderr.domain import NodeType
from noderr.feed_report import Report, sign_report, transmit_args
from noderr.halt_report import GUARD_CONTRACT, Halt, halt_args, sign_halt
from noderr.ports import free_port
from onchain.anvil import start_anvil
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings

SIZES = (3, 5, 7)
REASON = "99% historical VaR 4.1% above the 3.5% limit"
ANSWER = 6_512_345_000_000
OBSERVED_AT = 1_700_000_000


@dataclass(frozen=True)
class Key:
    private_key: bytes
    address: str


def key(label: str) -> Key:
    private_key = keccak(text=label)
    return Key(private_key, Account.from_key(private_key).address)


class Chain:
    """A fresh stack on anvil, driven with web3 from anvil's first dev account."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.sender = w3.eth.accounts[0]
        self.artifacts = compiled((*CONTRACT_NAMES, GUARD_CONTRACT, FEED_CONTRACT))
        self.guardians = [key(f"guard-gas-guardian-{n}") for n in range(max(SIZES))]
        self.validators = [key(f"guard-gas-validator-{n}") for n in range(max(SIZES))]
        settings = DeploySettings(genesis_validators=[self.validators[0].address])
        deployment = deploy_all(w3, self.sender, settings, self.artifacts)
        record = deployment.contracts["NodeLicense"]
        self.license = w3.eth.contract(address=record.address, abi=record.abi)
        self.timelock = deployment.contracts["NodeTimelock"].address
        w3.provider.make_request("anvil_impersonateAccount", [self.timelock])
        w3.provider.make_request("anvil_setBalance", [self.timelock, hex(10**18)])
        self.members = {NodeType.GUARDIAN: 0, NodeType.VALIDATOR: 1}

    def send(self, function, sender: str | None = None) -> dict:
        tx_hash = function.transact({"from": sender or self.sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction reverted: {tx_hash.hex()}")
        return receipt

    def deploy(self, name: str, *args):
        artifact = self.artifacts[name]
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.send(factory.constructor(*args))
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)

    def admit(self, node_type: NodeType, count: int) -> None:
        """Mint licenses up to `count` in all: guardians by the minter (the deployer here),
        validators as an executed proposal would (the timelock)."""
        keys = self.guardians if node_type == NodeType.GUARDIAN else self.validators
        sender = self.timelock if node_type == NodeType.VALIDATOR else self.sender
        for member in keys[self.members[node_type]:count]:
            self.send(self.license.functions.mint(member.address, int(node_type),
                                                  keccak(text=f"guard-gas:{member.address}")),
                      sender=sender)
        self.members[node_type] = max(self.members[node_type], count)


def halt_gas(chain: Chain, guard, signers: list[Key]) -> tuple[int, int]:
    """`gasUsed` of a steady-state halt and of the resume after it: one halt and resume
    first, then the measured pair."""
    deadline = chain.w3.eth.get_block("latest")["timestamp"] + 3600
    gas = (0, 0)
    for _ in range(2):
        halt = Halt(REASON, deadline, guard.functions.halt_nonce().call())
        signatures = {member.address: sign_halt(member.private_key, chain.w3.eth.chain_id,
                                                guard.address, halt) for member in signers}
        halted = chain.send(guard.functions.halt(*halt_args(halt, signatures)))["gasUsed"]
        resumed = chain.send(guard.functions.resume(), sender=chain.timelock)["gasUsed"]
        gas = (halted, resumed)
    return gas


def transmit_gas(chain: Chain, feed, signers: list[Key], round_id: int) -> int:
    """`gasUsed` of a steady-state transmit: one warm-up round, then the measured one."""
    gas = 0
    for current in (round_id, round_id + 1):
        report = Report(current, ANSWER, OBSERVED_AT)
        signatures = {member.address: sign_report(member.private_key, chain.w3.eth.chain_id,
                                                  feed.address, report) for member in signers}
        gas = chain.send(feed.functions.transmit(*transmit_args(report, signatures,
                                                                signatures)))["gasUsed"]
    return gas


@dataclass(frozen=True)
class Sample:
    halt_all: int
    halt_quorum: int
    resume: int
    transmit_all: int


def measure(chain: Chain) -> dict[int, Sample]:
    guard = chain.deploy(GUARD_CONTRACT, chain.license.address, chain.timelock)
    feed = chain.deploy(FEED_CONTRACT, chain.license.address, 8, "BTC / USD", chain.timelock,
                        -(10**30), 10**30)
    results = {}
    for index, size in enumerate(SIZES):
        chain.admit(NodeType.GUARDIAN, size)
        chain.admit(NodeType.VALIDATOR, size)
        quorum = guard.functions.quorum().call()
        halt_all, resume = halt_gas(chain, guard, chain.guardians[:size])
        halt_quorum, _ = halt_gas(chain, guard, chain.guardians[:quorum])
        results[size] = Sample(halt_all, halt_quorum, resume,
                               transmit_gas(chain, feed, chain.validators[:size], 10 * index + 1))
    return results


def slope(gas: dict[int, int]) -> float:
    return (gas[SIZES[-1]] - gas[SIZES[0]]) / (SIZES[-1] - SIZES[0])


def report(results: dict[int, Sample]) -> None:
    print(f"{'n':>3} {'halt, n signers':>16} {'halt, quorum':>13} {'resume':>7} "
          f"{'transmit, n signers':>20} {'ratio':>6}")
    for size, sample in results.items():
        quorum = size // 2 + 1
        print(f"{size:>3} {sample.halt_all:>16,} {sample.halt_quorum:>9,} ({quorum}) "
              f"{sample.resume:>7,} {sample.transmit_all:>20,} "
              f"{sample.halt_all / sample.transmit_all:>6.2f}")
    halt_slope = slope({size: sample.halt_all for size, sample in results.items()})
    transmit_slope = slope({size: sample.transmit_all for size, sample in results.items()})
    print("\nslope per signer (gas)")
    print(f"  NodeGuard.halt (ecrecover + live Guardian license check)   {halt_slope:>8,.0f}")
    print(f"  NodeFeed.transmit, baseline (ecrecover + cached list)      {transmit_slope:>8,.0f}")
    print(f"\nNodeGuard slope / NodeFeed slope: {halt_slope / transmit_slope:.2f}")


def main() -> None:
    port = free_port()
    anvil = start_anvil(port)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        report(measure(Chain(w3)))
    finally:
        anvil.terminate()
        anvil.wait()


if __name__ == "__main__":
    main()
