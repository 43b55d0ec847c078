"""Gas of NodeFeed.transmit by number of signers, and its slope per signer, beside OCR2's and
Chronicle Scribe's.

Run from the repository root (project virtualenv, anvil from node_modules):

    python benchmarks/feed_gas.py [--write]

`--write` replaces the "NodeFeed transmit" section of docs/gas.md (`make bench-feed-gas`).

It starts a throwaway anvil, deploys NodeLicense/NodeTimelock/NodeGovernor with `deploy_all`
(as `noderr deploy` does), admits validators as governance would (the timelock, impersonated),
deploys a NodeFeed, and measures `transmit` with every validator signing at n = 4, 7 and 10
Active validators. In the same run it measures the baseline contracts/test/SignerSetFeed.vy:
the same transmit (EIP-712 digest, EIP-2098 compact signatures, round storage, event) with
OCR2's membership check: the signatures alone, each signer looked up in a mapping fixed at
deployment, distinct by ascending order. The difference of the two slopes is the price of
following the live license registry (the validator list in calldata, its hash) instead of a
fixed signer set.

Methodology: the feed transmits one round with the genesis validator alone first, so its
storage and validator-set cache are written once before any figure. Each size then transmits
twice: the first transmit after the membership change verifies the list against NodeLicense
and caches it (a cache miss, reported apart), the second is the steady state every later
round of that membership pays. Each measured round writes a new round slot (zero to
non-zero), as every production round does. Slope = (gas at 10 signers - gas at 4) / 6; at
n = 10 the transmit is also measured with 7 signers (the quorum) and with 10, which gives the
slope of a signature alone, the list held fixed.

Published figures it prints beside the measured ones:
- Chainlink OCR2 (smartcontractkit/libocr, contract2/OCR2Aggregator.sol `transmit`): per
  signature, `ecrecover` (3,000 gas) and r and s in calldata (64 non-zero bytes at 16 gas,
  EIP-2028; v is packed in one shared word): about 4,024 gas; the issue's "about 3k ecrecover
  plus calldata". The contract also reads `s_signers[signer]` per signature, a cold SLOAD
  (2,100, EIP-2929) that this figure leaves out.
- Chronicle Scribe `poke` (aggregated Schnorr): 81,025 gas at 5 signers, 159,488 at 20, as
  the issue quotes Chronicle's published benchmark: slope (159,488 - 81,025) / 15.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from report import GAS_MD, write_section

from noderr.deployment import CONTRACT_NAMES, FEED_CONTRACT
from noderr.domain import NodeType
from noderr.feed_report import Report, sign_report, transmit_args
from noderr.ports import free_port
from onchain.anvil import start_anvil
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings

SIZES = (4, 7, 10)
BASELINE = "test/SignerSetFeed"
OCR2_ECRECOVER = 3_000
OCR2_CALLDATA = 64 * 16
OCR2_SLOPE = OCR2_ECRECOVER + OCR2_CALLDATA
OCR2_SIGNER_SLOAD = 2_100
SCRIBE_POKE = {5: 81_025, 20: 159_488}
SCRIBE_SLOPE = (SCRIBE_POKE[20] - SCRIBE_POKE[5]) / 15
ANSWER = 6_512_345_000_000
OBSERVED_AT = 1_700_000_000


@dataclass(frozen=True)
class Key:
    private_key: bytes
    address: str


def validator_key(n: int) -> Key:
    private_key = keccak(text=f"feed-gas-validator-{n}")
    return Key(private_key, Account.from_key(private_key).address)


class Chain:
    """A fresh stack on anvil, driven with web3 from anvil's first dev account."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.sender = w3.eth.accounts[0]
        self.artifacts = compiled((*CONTRACT_NAMES, FEED_CONTRACT, BASELINE))
        self.keys = [validator_key(n) for n in range(max(SIZES))]
        settings = DeploySettings(genesis_validators=[key.address for key in self.keys[:1]],
                                  feeds=[])
        deployment = deploy_all(w3, self.sender, settings, self.artifacts)
        self.license = self._at(deployment.contracts["NodeLicense"])
        self.timelock = deployment.contracts["NodeTimelock"].address
        w3.provider.make_request("anvil_impersonateAccount", [self.timelock])
        w3.provider.make_request("anvil_setBalance", [self.timelock, hex(10**18)])
        self.admitted = 1

    def _at(self, record):
        return self.w3.eth.contract(address=record.address, abi=record.abi)

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

    def admit_validators(self, count: int) -> None:
        """Mint Validator licenses as an executed proposal would, up to `count` in all."""
        for key in self.keys[self.admitted:count]:
            self.send(self.license.functions.mint(key.address, int(NodeType.VALIDATOR),
                                                  keccak(text=f"feed-gas:{key.address}")),
                      sender=self.timelock)
        self.admitted = max(self.admitted, count)


def signed_round(chain: Chain, feed, signers: list[Key], round_id: int) -> tuple:
    """NodeFeed's `transmit` arguments of round `round_id`: every admitted validator listed,
    `signers` signing."""
    report = Report(round_id, ANSWER, OBSERVED_AT)
    signatures = {key.address: sign_report(key.private_key, chain.w3.eth.chain_id,
                                           feed.address, report) for key in signers}
    return transmit_args(report, [key.address for key in chain.keys[:chain.admitted]],
                         signatures)


def feed_gas(chain: Chain, feed, signers: list[Key], round_id: int) -> int:
    return chain.send(feed.functions.transmit(*signed_round(chain, feed, signers,
                                                            round_id)))["gasUsed"]


def baseline_gas(chain: Chain, baseline, signers: list[Key]) -> int:
    """`gasUsed` of the baseline's steady-state transmit: one warm-up round, then the
    measured one. Its arguments: the report and the signatures in ascending signer order."""
    gas = 0
    for round_id in (1, 2):
        report, _, _, signatures = signed_round(chain, baseline, signers, round_id)
        gas = chain.send(baseline.functions.transmit(report, signatures))["gasUsed"]
    return gas


@dataclass(frozen=True)
class Results:
    steady: dict[int, int]
    """NodeFeed, every one of n validators signing, the list from the cache."""
    first: dict[int, int]
    """NodeFeed, the first transmit after the membership changed to n: the list verified."""
    baseline: dict[int, int]
    quorum_at_largest: int
    """NodeFeed at the largest n, a quorum signing (the list from the cache)."""


def measure(chain: Chain) -> Results:
    feed = chain.deploy(FEED_CONTRACT, chain.license.address, 8, "BTC / USD", chain.timelock,
                        -(10**30), 10**30)
    feed_gas(chain, feed, chain.keys[:1], 1)
    steady, first, baseline = {}, {}, {}
    round_id = 1
    for size in SIZES:
        chain.admit_validators(size)
        signers = chain.keys[:size]
        first[size] = feed_gas(chain, feed, signers, round_id := round_id + 1)
        steady[size] = feed_gas(chain, feed, signers, round_id := round_id + 1)
        baseline[size] = baseline_gas(
            chain, chain.deploy(BASELINE, [key.address for key in signers]), signers)
    largest = SIZES[-1]
    quorum = chain.keys[:largest * 2 // 3 + 1]
    return Results(steady, first, baseline, feed_gas(chain, feed, quorum, round_id + 1))


def slope(gas: dict[int, int]) -> float:
    return (gas[SIZES[-1]] - gas[SIZES[0]]) / (SIZES[-1] - SIZES[0])


def signature_slope(results: Results) -> float:
    """Per signature at the largest n, quorum to all: the list and its checks held fixed."""
    largest = SIZES[-1]
    return (results.steady[largest] - results.quorum_at_largest) / (largest - (largest * 2 // 3
                                                                               + 1))


def verdict(feed_slope: float) -> str:
    with_sload = OCR2_SLOPE + OCR2_SIGNER_SLOAD
    if feed_slope <= OCR2_SLOPE:
        return f"**Met**: at or below OCR2's published {OCR2_SLOPE:,}"
    if feed_slope <= with_sload:
        return (f"**Met against OCR2 as deployed, not against its published floor**: above the "
                f"{OCR2_SLOPE:,} of ecrecover and r, s calldata alone "
                f"({feed_slope / OCR2_SLOPE:.2f}×), below the {with_sload:,} OCR2 pays with "
                f"its own signer SLOAD ({feed_slope / with_sload:.2f}×)")
    return (f"**Not met**: {feed_slope / OCR2_SLOPE:.2f}× OCR2's published {OCR2_SLOPE:,}, "
            f"{feed_slope / with_sload:.2f}× its {with_sload:,} with the signer SLOAD")


def report(results: Results) -> None:
    print(f"{'signers':>8} {'NodeFeed':>10} {'first after change':>19} {'OCR2-style':>11} "
          f"{'ratio':>6}")
    for size in SIZES:
        print(f"{size:>8} {results.steady[size]:>10,} {results.first[size]:>19,} "
              f"{results.baseline[size]:>11,} "
              f"{results.steady[size] / results.baseline[size]:>6.2f}")
    feed_slope, baseline_slope = slope(results.steady), slope(results.baseline)
    print("\nslope per signer (gas)")
    print(f"  NodeFeed (ecrecover + cached validator list)   {feed_slope:>8,.0f}")
    print(f"  NodeFeed at n = {SIZES[-1]}, one more signature        "
          f"{signature_slope(results):>8,.0f}")
    print(f"  NodeFeed, first transmit after a change        {slope(results.first):>8,.0f}")
    print(f"  OCR2-style baseline, measured (signer mapping) {baseline_slope:>8,.0f}")
    print(f"  OCR2 published: ecrecover + r,s calldata       {OCR2_SLOPE:>8,}"
          f"   (+ {OCR2_SIGNER_SLOAD:,} for its own s_signers SLOAD = "
          f"{OCR2_SLOPE + OCR2_SIGNER_SLOAD:,})")
    print(f"  Chronicle Scribe poke (Schnorr, published)     {SCRIBE_SLOPE:>8,.0f}")
    print(f"\nNodeFeed slope / OCR2 published slope: {feed_slope / OCR2_SLOPE:.2f} "
          f"(with OCR2's SLOAD: {feed_slope / (OCR2_SLOPE + OCR2_SIGNER_SLOAD):.2f}); "
          f"/ measured baseline: {feed_slope / baseline_slope:.2f}")


def section(results: Results) -> str:
    """docs/gas.md's "NodeFeed transmit" section of this run's figures."""
    steady, first, baseline = results.steady, results.first, results.baseline
    feed_slope, baseline_slope = slope(steady), slope(baseline)
    largest, quorum = SIZES[-1], SIZES[-1] * 2 // 3 + 1
    rows = "\n".join(f"| {size} | {steady[size]:,} | {baseline[size]:,} | "
                     f"{steady[size] / baseline[size]:.2f}× | {first[size]:,} |"
                     for size in SIZES)
    return f"""## NodeFeed transmit

Measured by `python benchmarks/feed_gas.py --write` (anvil; every one of n Active validators
signs; each measured round writes a new round slot as every production round does). A transmit
carries the whole Active validator list (ascending), a bitmap of its signers and their EIP-2098
compact signatures (r, vs: 64 bytes). The feed checks the list against NodeLicense (strictly
ascending, each `is_active`, as many as `active_count`) only when it is not the list it last
verified under NodeLicense's `validator_set_nonce`, which moves on every change of the Active
Validator set; otherwise it reads that nonce (one call) and its cached hash (one slot).
Steady state: the second transmit of a membership. First after a change: the transmit that
re-verifies the list, once per membership change. Baseline: contracts/test/SignerSetFeed.vy,
the same transmit (digest, compact signatures, round storage, event) with OCR2's membership
check (the signatures alone; each recovered signer looked up in a mapping fixed at
deployment, distinct by ascending order), measured in the same run.

| Signers (n) | NodeFeed transmit, steady | OCR2-style baseline (measured) | NodeFeed / baseline \
| NodeFeed, first transmit after a change |
|---:|---:|---:|---:|---:|
{rows}

| Slope per signer | Gas |
|---|---:|
| NodeFeed, {SIZES[0]} → {largest} (ecrecover, compact signature, list entry, cached list) \
| {feed_slope:,.0f} |
| NodeFeed at n = {largest}, {quorum} → {largest} signers (the list held fixed) \
| {signature_slope(results):,.0f} |
| NodeFeed, first transmit after a change, {SIZES[0]} → {largest} (adds `is_active` per entry) \
| {slope(first):,.0f} |
| OCR2-style baseline, measured: ecrecover + signer mapping | {baseline_slope:,.0f} |
| Chainlink OCR2, published: `ecrecover` {OCR2_ECRECOVER:,} + r, s calldata {OCR2_CALLDATA:,} \
| {OCR2_SLOPE:,} ({OCR2_SLOPE + OCR2_SIGNER_SLOAD:,} with its own `s_signers` SLOAD) |
| Chronicle Scribe `poke`, published: 81,025 at 5 signers, 159,488 at 20 | {SCRIBE_SLOPE:,.0f} |

Goal (the issue): a per-signer slope at or below OCR2's, the license check included. \
{verdict(feed_slope)}. NodeFeed's {feed_slope:,.0f} gas per signer is \
{feed_slope / baseline_slope:.2f}× the measured OCR2-style baseline's {baseline_slope:,.0f}.

Where it goes, per signer: the ecrecover precompile (3,000 and the call), the 64 bytes of the
compact signature (about 1,024 at 16 gas a non-zero byte), the signer's list entry (a 32-byte
word in calldata, hashed with the list) and the `signers` entry of the `Transmitted` event
(32 bytes of log data, 256 gas), which the baseline pays as well. OCR2's published 4,024 is
the ecrecover and the calldata alone, a floor that leaves nothing for the call, the loop or
the event: NodeFeed's signature alone, the list held fixed, costs \
{signature_slope(results):,.0f}. What NodeFeed no longer pays is a read of NodeLicense per
signer (`is_active`: an external call reading three cold slots; 12,927 gas per signer when
every transmit made it). That read is now paid once per membership change, by
the first transmit after it (the last column); a change is a governance proposal, so it is
rare beside rounds. The price of the cache: every transmit carries the whole Active list, not
only its signers, and the first transmit after each change re-verifies it.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="replace the NodeFeed transmit section of docs/gas.md")
    write = parser.parse_args().write
    port = free_port()
    anvil = start_anvil(port)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        results = measure(Chain(w3))
    finally:
        anvil.terminate()
        anvil.wait()
    report(results)
    if write:
        write_section(section(results), GAS_MD)
        print(f"\nwrote {GAS_MD.relative_to(GAS_MD.parent.parent)}")


if __name__ == "__main__":
    main()
