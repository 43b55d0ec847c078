"""Running the indexer in-process and comparing databases."""

from __future__ import annotations

import random
from typing import Any

import psycopg
from eth_utils import keccak
from web3.exceptions import ContractLogicError, Web3RPCError

from indexer.follow import Indexer
from indexer.settings import IndexerSettings
from noderr.deployment import Deployment
from noderr.domain import NodeType
from tests.fixtures_chain import Stack

# Wall-clock columns (updated_at) are left out: they differ between any two runs.
COMPARED = {
    "chain_events": "SELECT * FROM chain_events ORDER BY block_number, log_index",
    "licenses": "SELECT * FROM licenses ORDER BY token_id",
    "role_members": "SELECT * FROM role_members ORDER BY contract_address, role, account",
    "proposals": "SELECT * FROM proposals ORDER BY proposal_id",
    "votes": "SELECT * FROM votes ORDER BY block_number, log_index",
    "indexer_checkpoints": "SELECT chain_id, block_number, block_hash FROM indexer_checkpoints",
}


def index_once(rpc_url: str, database_url: str, deployment: Deployment, **settings: Any) -> int:
    """`noderr index --once` in-process; returns the block it reached."""
    with psycopg.connect(database_url) as conn:
        indexer = Indexer(rpc_url, conn, deployment, IndexerSettings(**settings))
        try:
            indexer.run(once=True)
        finally:
            indexer.close()
        return indexer.checkpoint.block_number


def dump(database_url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(database_url) as conn:
        return {table: conn.execute(query).fetchall() for table, query in COMPARED.items()}


def checksums(database_url: str) -> dict[str, str]:
    """md5 of each compared table's rows, as text, in a fixed order."""
    with psycopg.connect(database_url) as conn:
        return {table: conn.execute(
            f"SELECT md5(coalesce(string_agg(t::text, '|'), '')) FROM ({query}) t").fetchone()[0]
            for table, query in COMPARED.items()}


def rows(database_url: str, query: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchall()


def app_id(rng: random.Random) -> bytes:
    return keccak(rng.randbytes(16))


class Workload:
    """Random license operations and governance steps, all from anvil's unlocked accounts."""

    def __init__(self, stack: Stack, seed: int) -> None:
        self.stack, self.rng = stack, random.Random(seed)
        self.license = stack.contract("NodeLicense")
        self.governor = stack.contract("NodeGovernor")
        self.admin = stack.accounts[0]
        self.holders = stack.accounts[1:8]
        self.timelock = stack.deployment.contracts["NodeTimelock"].address
        stack.w3.provider.make_request("anvil_impersonateAccount", [self.timelock])
        stack.w3.provider.make_request("anvil_setBalance", [self.timelock, hex(10**20)])

    def send(self, function: Any, sender: str | None = None) -> bool:
        """Send a transaction; False when the contract refuses it (the workload goes on)."""
        try:
            tx = function.transact({"from": sender or self.admin})
        except (ContractLogicError, Web3RPCError):
            return False
        return self.stack.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def live_tokens(self) -> list[int]:
        total = self.license.functions.totalSupply().call()
        return [self.license.functions.tokenByIndex(i).call() for i in range(total)]

    def license_step(self) -> None:
        tokens = self.live_tokens()
        action = self.rng.choice(["mint"] * 4 + ["suspend", "reinstate", "revoke", "reassign"])
        if action == "mint" or not tokens:
            self.mint(self.rng.choice(self.holders), self.rng.randint(1, 3))
            return
        token = self.rng.choice(tokens)
        f = self.license.functions
        operator = self.operator(f.license_of(token).call()[0])
        if action == "suspend":
            self.send(f.suspend(token, f"suspended {self.rng.random():.4f}"), operator)
        elif action == "reinstate":
            self.send(f.reinstate(token), operator)
        elif action == "revoke":
            self.send(f.revoke(token, "revoked\twith\\odd\ncharacters \u00e9"), operator)
        else:
            self.send(f.reassign(token, self.rng.choice(self.holders), "reassigned"))

    def operator(self, node_type: int) -> str:
        """Who changes a license of `node_type`: governance (the timelock, impersonated) for
        a Validator license, anvil #0 (MINTER, REVOKER) for the others."""
        return self.timelock if node_type == NodeType.VALIDATOR else self.admin

    def mint(self, owner: str, node_type: int) -> bool:
        return self.send(self.license.functions.mint(owner, node_type, app_id(self.rng)),
                         self.operator(node_type))

    def governance_round(self, cancel: bool = False) -> None:
        """Propose, vote with every validator, then queue+execute, or cancel while pending."""
        validators = [a for a in self.holders
                      if self.license.functions.is_active(a, 3).call()]
        if not validators:
            return
        g = self.governor.functions
        calldata = self.license.encode_abi("set_supply_cap", [1, self.rng.randint(50, 500)])
        description = f"cap {self.rng.random()}"
        proposal = ([self.license.address], [0], [calldata], description)
        proposer = validators[0]
        if not self.send(g.propose(*proposal), proposer):
            return
        pid = g.hash_proposal(*proposal[:3], keccak(text=description)).call()
        if cancel:
            self.send(g.cancel(*proposal[:3], keccak(text=description)), proposer)
            return
        self.stack.mine(2)
        for voter in validators:
            self.send(g.cast_vote_with_reason(pid, self.rng.choice([0, 1, 1, 2]), "why not"),
                      voter)
        self.stack.mine(8)
        if self.send(g.queue(*proposal[:3], keccak(text=description))):
            self.send(g.execute(*proposal[:3], keccak(text=description)))
