"""Gas benchmark of the Noderr contracts against snekmate's plain ERC-721 `safe_mint`.

Run from the repository root (with the project's virtual environment, anvil and
vvm binaries on PATH / VVM_BINARY_PATH, see README):

    python benchmarks/gas.py

It starts a throwaway anvil through ape's foundry provider, deploys and wires
the contracts with `deploy_all` (as `noderr deploy` does), measures each
operation's `gasUsed` in one run, prints a table with each operation's ratio to
the baseline, and writes docs/gas.md (its preamble and its own sections; other
benchmarks' sections, such as benchmarks/feed_gas.py's, stay).

Adding rows: write a function `measure_<thing>(bench: Bench) -> list[Row]` and
append it to `MEASUREMENTS`. `bench` carries the deployed contracts and named
accounts (`bench.governance` sends as the timelock, NodeLicense's admin, as an
executed proposal would); `bench.fresh_account()` gives a never-used, funded address.

Methodology: every measured transaction is a steady-state one, as in
production: the contracts already hold tokens (the first-ever mint pays extra
for zero-to-non-zero counters), and every recipient is a fresh address (its
balance slot goes from zero to non-zero, the expensive and common case).
Each transaction is mined in its own block, so every NodeLicense status change
writes a new checkpoint slot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from report import GAS_MD, write_preamble, write_section

from noderr.deployment import CONTRACT_NAMES
from noderr.domain import MINTER_ROLE, PAUSER_ROLE, NodeType, role_id
from onchain.ballot import ballot_message
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings

ROOT = Path(__file__).resolve().parent.parent
GAS_DOC = GAS_MD
ORACLE, GUARDIAN, VALIDATOR = (int(node_type) for node_type in NodeType)
# A realistic metadata URI for the baseline: a CIDv1 IPFS directory plus file name.
BASELINE_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/1.json"

# Test accounts holding the genesis Validator licenses: the voters of the governance rows.
GENESIS_VALIDATORS = range(4, 8)

# Goal: a license mint costs at most this multiple of the baseline safe_mint.
MINT_GOAL = 1.3

# Action counts of the measured multi-action proposals (up to NodeGovernor's MAX_ACTIONS).
BATCH_SIZES = (2, 4, 8)

# OpenZeppelin Contracts 5.7.0 Governor (Settings, CountingSimple, Votes with ERC721Votes,
# QuorumFraction 50%, TimelockControl) + TimelockController, solc 0.8.30, optimizer 200
# runs: queue and execute gas by action count, in this benchmark's steady state (7 licenses,
# 4 voters For, one grantRole per action on an AccessControl contract, fresh grantees),
# measured once on anvil by benchmarks/oz_reference (it needs npm's solc and
# @openzeppelin/contracts, which the project does not install).
OZ_QUEUE_EXECUTE = {1: (148_736, 122_341), 2: (158_714, 156_852), 4: (178_664, 225_867),
                    8: (218_612, 363_944)}

MULTI_ACTION_NOTE = (
    "Queue and execute grow linearly with the number of actions, as OpenZeppelin's do. "
    "Until NodeTimelock bounded its `schedule_batch`/`execute_batch` by 8 calls "
    "(NodeGovernor's `MAX_ACTIONS`), any proposal of two or more actions cost about 1.6M gas "
    "more (2 actions: queue 1,670,378, execute 1,689,483; 8 actions: 1,721,126 and "
    "1,884,703): snekmate's batch functions take `DynArray[Bytes[1_024], 255]` arguments, "
    "Vyper sizes memory by an array's bound rather than its length, and memory expansion "
    "is quadratic. OZ columns: OpenZeppelin Contracts 5.7.0 Governor + TimelockController, "
    "measured once in the same steady state by `benchmarks/oz_reference/measure.py` "
    "(no published per-action figure was found to cite). Each action's own call (here a "
    "`grantRole` that writes a new role slot) is most of the execute increment."
)


@dataclass
class Row:
    """One measured operation."""

    operation: str
    gas: int
    note: str = ""
    actions: int = 0  # a governance queue/execute row: the proposal's action count


@dataclass
class Bench:
    """What a measurement function gets: the deployed contracts and accounts."""

    deployer: Any  # deployed everything, holds no role
    governance: Any  # the timelock as a sender: NodeLicense's admin
    minter: Any
    revoker: Any
    pauser: Any
    license: Any
    governor: Any
    plain: Any
    _fresh: list[Any] = field(default_factory=list)
    _next_app: int = 0

    def fresh_account(self) -> Any:
        """A funded account that has never received a token."""
        return self._fresh.pop()

    def application_id(self) -> bytes:
        """A never-used application id."""
        self._next_app += 1
        return keccak(text=f"benchmark-application-{self._next_app}")


def measure_baseline(bench: Bench) -> list[Row]:
    """snekmate plain ERC-721 safe_mint with an IPFS URI (the baseline row)."""
    # Warm-up: the first-ever mint also pays for zero-to-non-zero counters.
    bench.plain.safe_mint(bench.fresh_account(), BASELINE_URI, sender=bench.deployer)
    tx = bench.plain.safe_mint(bench.fresh_account(), BASELINE_URI, sender=bench.deployer)
    return [Row("erc721 safe_mint (snekmate, IPFS URI)", tx.gas_used, "baseline")]


def measure_license(bench: Bench) -> list[Row]:
    """NodeLicense lifecycle: mint, suspend, reinstate, revoke, reassign.

    Validator licenses are minted, suspended and reinstated by governance (the timelock,
    as an executed proposal's call): these rows are the license's own cost, the governor's
    and timelock's overhead is in the execute rows below.
    """
    lic, minter, revoker, governance = bench.license, bench.minter, bench.revoker, bench.governance
    # Warm-up: one more license of each type, so every per-type record is non-zero.
    for node_type in (ORACLE, GUARDIAN, VALIDATOR):
        sender = governance if node_type == VALIDATOR else minter
        lic.mint(bench.fresh_account(), node_type, bench.application_id(), sender=sender)

    rows = []
    holder = bench.fresh_account()
    tx = lic.mint(holder, ORACLE, bench.application_id(), sender=minter)
    rows.append(Row("NodeLicense mint (Oracle)", tx.gas_used, "fresh holder"))
    oracle_id = tx.return_value

    # A holder's second license scans its first one (the one-per-type check).
    tx = lic.mint(holder, VALIDATOR, bench.application_id(), sender=governance)
    rows.append(Row("NodeLicense mint (Validator)", tx.gas_used,
                    "by the timelock; holder already has an Oracle"))
    validator_id = tx.return_value

    tx = lic.mint(bench.fresh_account(), VALIDATOR, bench.application_id(), sender=governance)
    rows.append(Row("NodeLicense mint (Validator)", tx.gas_used, "by the timelock; fresh holder"))

    tx = lic.suspend(validator_id, "benchmark: missed heartbeats", sender=governance)
    vote_note = "Validator, by the timelock: checkpoints its holder's vote"
    rows.append(Row("NodeLicense suspend", tx.gas_used, vote_note))
    tx = lic.reinstate(validator_id, sender=governance)
    rows.append(Row("NodeLicense reinstate", tx.gas_used, vote_note))
    tx = lic.reassign(
        validator_id, bench.fresh_account(), "benchmark: lost key", sender=bench.governance
    )
    rows.append(Row("NodeLicense reassign", tx.gas_used,
                    "Validator, by the admin (the timelock), to a fresh address: 2 votes"))
    tx = lic.revoke(oracle_id, "benchmark: terms breached", sender=revoker)
    rows.append(Row("NodeLicense revoke", tx.gas_used, "an Oracle: burns"))
    return rows


def measure_governance(bench: Bench) -> list[Row]:
    """NodeGovernor lifecycle through NodeTimelock: propose, vote, queue, execute.

    The proposal is the one-action `license.grantRole(MINTER_ROLE, new)` of the
    end-to-end test.
    """
    from ape import accounts, chain

    lic, deployer, governor = bench.license, bench.deployer, bench.governor
    voters = [accounts.test_accounts[i] for i in GENESIS_VALIDATORS]

    new_minter = bench.fresh_account()
    targets = [lic.address]
    values = [0]
    calldatas = [lic.grantRole.encode_input(role_id(MINTER_ROLE), new_minter)]
    description = "Make a second minter"
    description_hash = keccak(text=description)

    rows = []
    tx = governor.propose(targets, values, calldatas, description, sender=voters[0])
    rows.append(Row("NodeGovernor propose", tx.gas_used, "1 action (grantRole), short description"))
    proposal_id = tx.return_value
    chain.mine(governor.proposal_snapshot(proposal_id) + 1 - chain.blocks.head.number)

    tx = governor.cast_vote(proposal_id, 1, sender=voters[0])
    rows.append(Row("NodeGovernor cast_vote", tx.gas_used, "first vote: For tally 0 → 1"))
    tx = governor.cast_vote(proposal_id, 1, sender=voters[1])
    rows.append(Row("NodeGovernor cast_vote", tx.gas_used, "For tally already non-zero"))

    signer = voters[2]
    ballot = ballot_message(chain.chain_id, governor.address, proposal_id, 1, signer.address,
                            governor.nonces(signer))
    signature = signer.sign_message(ballot).encode_rsv()
    tx = governor.cast_vote_by_sig(proposal_id, 1, signer, signature, sender=voters[3])
    rows.append(
        Row("NodeGovernor cast_vote_by_sig", tx.gas_used, "ECDSA, relayed; voter's first nonce")
    )

    # The genesis validators and the licenses minted above: 7 active Validators, quorum 4.
    governor.cast_vote(proposal_id, 1, sender=voters[3])

    chain.mine(governor.proposal_deadline(proposal_id) + 1 - chain.blocks.head.number)
    tx = governor.queue(targets, values, calldatas, description_hash, sender=deployer)
    rows.append(Row("NodeGovernor queue", tx.gas_used, "1 action: timelock `schedule`", 1))
    chain.pending_timestamp = governor.proposal_eta(proposal_id)
    tx = governor.execute(targets, values, calldatas, description_hash, sender=deployer)
    rows.append(Row("NodeGovernor execute", tx.gas_used, "1 action: grantRole via timelock", 1))

    # Several actions go through the timelock's `schedule_batch`/`execute_batch`:
    # the same call for fresh accounts, so the rows differ only in the action count.
    for count in BATCH_SIZES:
        targets = [lic.address] * count
        values = [0] * count
        calldatas = [lic.grantRole.encode_input(role_id(PAUSER_ROLE), bench.fresh_account())
                     for _ in range(count)]
        description = f"Make {count} more pausers"
        description_hash = keccak(text=description)
        proposal_id = governor.propose(
            targets, values, calldatas, description, sender=voters[0]
        ).return_value
        chain.mine(governor.proposal_snapshot(proposal_id) + 1 - chain.blocks.head.number)
        for voter in voters:
            governor.cast_vote(proposal_id, 1, sender=voter)
        chain.mine(governor.proposal_deadline(proposal_id) + 1 - chain.blocks.head.number)
        tx = governor.queue(targets, values, calldatas, description_hash, sender=deployer)
        rows.append(
            Row("NodeGovernor queue", tx.gas_used, f"{count} actions: `schedule_batch`", count)
        )
        chain.pending_timestamp = governor.proposal_eta(proposal_id)
        tx = governor.execute(targets, values, calldatas, description_hash, sender=deployer)
        rows.append(
            Row("NodeGovernor execute", tx.gas_used, f"{count} actions: `execute_batch`", count)
        )
    return rows


# Measurement functions, run in order; each returns rows for the table.
MEASUREMENTS: list[Callable[[Bench], list[Row]]] = [
    measure_baseline,
    measure_license,
    measure_governance,
]


def render(rows: list[Row], baseline: Row) -> str:
    """A Markdown table of `rows` with each row's ratio to `baseline`."""
    lines = [
        "| Operation | Gas | vs. safe_mint | Note |",
        "|---|---:|---:|---|",
    ]
    for row in rows:
        ratio = row.gas / baseline.gas
        lines.append(f"| {row.operation} | {row.gas:,} | {ratio:.2f}× | {row.note} |")
    return "\n".join(lines)


def render_actions(rows: list[Row]) -> str:
    """queue/execute gas by action count beside OpenZeppelin's, and the gas per extra action."""
    ours = {(row.operation.split()[-1], row.actions): row.gas for row in rows if row.actions}
    theirs = {
        (operation, n): gas
        for n, pair in OZ_QUEUE_EXECUTE.items()
        for operation, gas in zip(("queue", "execute"), pair, strict=True)
    }
    columns = [(ours, "queue"), (theirs, "queue"), (ours, "execute"), (theirs, "execute")]
    lines = [
        "| Actions | NodeGovernor queue | OZ queue | NodeGovernor execute | OZ execute |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n in (1, *BATCH_SIZES):
        lines.append(f"| {n} | " + " | ".join(f"{gas[op, n]:,}" for gas, op in columns) + " |")
    low, high = BATCH_SIZES[0], BATCH_SIZES[-1]
    steps = [(gas[op, high] - gas[op, low]) / (high - low) for gas, op in columns]
    lines.append(
        f"| per extra action ({low} → {high}) | " + " | ".join(f"{s:,.0f}" for s in steps) + " |"
    )
    return "\n".join(lines)


def mint_verdict(rows: list[Row], baseline: Row) -> tuple[bool, str]:
    """Whether every NodeLicense mint row meets the goal, and a sentence saying so."""
    worst = max(
        (r for r in rows if r.operation.startswith("NodeLicense mint")), key=lambda r: r.gas
    )
    ratio = worst.gas / baseline.gas
    ok = ratio <= MINT_GOAL
    verdict = "meets" if ok else "MISSES"
    return ok, (
        f"Most expensive license mint: {worst.gas:,} gas = {ratio:.2f}× safe_mint "
        f"({baseline.gas:,} gas); goal ≤ {MINT_GOAL}× — {verdict} the goal."
    )


def run() -> tuple[list[Row], Row]:
    """Deploy on a throwaway anvil and run every measurement."""
    from ape import accounts, networks, project
    from ape.logging import logger

    logger.set_level("WARNING")
    with networks.ethereum.local.use_provider("foundry") as provider:
        test_accounts = accounts.test_accounts
        deployer, minter, revoker, pauser = (test_accounts[i] for i in range(4))
        settings = DeploySettings(
            minters=[minter.address], revokers=[revoker.address], pausers=[pauser.address],
            genesis_validators=[test_accounts[i].address for i in GENESIS_VALIDATORS],
            feeds=[])
        deployment = deploy_all(provider.web3, deployer.address, settings,
                                compiled(CONTRACT_NAMES))
        lic, timelock, governor = (project.get_contract(name).at(record.address)
                                   for name, record in deployment.contracts.items())
        governance = accounts[timelock.address]  # impersonated, as an executed proposal
        governance.balance += 10**18
        plain = deployer.deploy(project.PlainERC721, "Plain", "PLN", "", "Plain", "1")
        # Recipients: fresh addresses (an ERC-721 recipient need not sign anything).
        fresh = [test_accounts.generate_test_account() for _ in range(64)]
        bench = Bench(deployer, governance, minter, revoker, pauser, lic, governor, plain, fresh)
        rows = [row for measure in MEASUREMENTS for row in measure(bench)]
    return rows, rows[0]


def main() -> int:
    rows, baseline = run()
    table = render(rows, baseline)
    ok, verdict = mint_verdict(rows, baseline)
    print(table)
    print()
    print(verdict)
    GAS_DOC.parent.mkdir(parents=True, exist_ok=True)
    write_preamble(
        "# Gas\n\n"
        "Measured by `python benchmarks/gas.py` (anvil, one transaction per block, "
        "steady state: contracts already hold tokens, recipients are fresh addresses). "
        "The baseline is snekmate's plain ERC-721 `safe_mint` with the IPFS URI "
        f"`{BASELINE_URI}`, measured in the same run.\n\n"
        f"{table}\n\n{verdict}\n", GAS_DOC)
    write_section(
        f"## Multi-action proposals\n\n{MULTI_ACTION_NOTE}\n\n{render_actions(rows)}\n",
        GAS_DOC)
    print(f"\nwrote {GAS_DOC.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
