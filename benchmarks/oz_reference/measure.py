"""Queue and execute gas of OpenZeppelin Governor + TimelockController at 1, 2, 4 and 8 actions.

The reference column of docs/gas.md (benchmarks/gas.py's OZ_QUEUE_EXECUTE). It mirrors
benchmarks/gas.py's governance measurement: 7 one-vote licenses (ERC721Votes), 4 voters
(self-delegated) vote For, quorum 50%, timelock delay 2 days, one proposal per action
count, each action a `grantRole` to a fresh account on an AccessControl contract that the
timelock administers. Run in this folder after `npm install` (solc-js and OpenZeppelin
Contracts from the npm registry; `node compile.js` builds them):

    ../../.venv/bin/python measure.py

It prints {actions: (queue gas, execute gas)}.
"""

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak
from web3 import Web3

HERE = Path(__file__).resolve().parent
ANVIL = HERE.parent.parent / "node_modules" / ".bin" / "anvil"
ACTION_COUNTS = (1, 2, 4, 8)
TWO_DAYS = 2 * 24 * 3600
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
FOR = 1


class Chain:
    """A throwaway anvil and the unlocked accounts it funds."""

    def __init__(self, build: dict[str, Any]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen([str(ANVIL), "--port", str(port), "--silent"])
        self.w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        self.build = build
        for _ in range(100):
            if self.w3.is_connected():
                break
            time.sleep(0.1)
        self.accounts = self.w3.eth.accounts

    def deploy(self, name: str, *args: Any) -> Any:
        abi, bytecode = self.build[name]["abi"], self.build[name]["bytecode"]
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        receipt = self.send(factory.constructor(*args), self.accounts[0])
        return self.w3.eth.contract(address=receipt.contractAddress, abi=abi)

    def send(self, call: Any, sender: str) -> Any:
        # A fixed gas limit: estimating `execute` would run before the next block's timestamp.
        tx_hash = call.transact({"from": sender, "gas": 5_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt.status == 1
        return receipt

    def mine_to(self, block: int) -> None:
        if (blocks := block - self.w3.eth.block_number) > 0:
            self.w3.provider.make_request("anvil_mine", [hex(blocks)])


def measure(chain: Chain) -> dict[int, tuple[int, int]]:
    deployer, voters, others = chain.accounts[0], chain.accounts[4:8], chain.accounts[1:4]
    licenses = chain.deploy("OzLicense")
    for holder in (*others, *voters):
        chain.send(licenses.functions.mint(holder), deployer)
    for voter in voters:
        chain.send(licenses.functions.delegate(voter), voter)
    timelock = chain.deploy("TimelockController", TWO_DAYS, [], [], deployer)
    governor = chain.deploy("OzGovernor", licenses.address, timelock.address)
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        chain.send(timelock.functions.grantRole(keccak(text=role), governor.address), deployer)
    chain.send(timelock.functions.renounceRole(b"\x00" * 32, deployer), deployer)
    target = chain.deploy("OzTarget", timelock.address)

    gas = {}
    for count in ACTION_COUNTS:
        grantees = [chain.w3.eth.account.create().address for _ in range(count)]
        calls = (
            [target.address] * count,
            [0] * count,
            [target.encode_abi("grantRole", [PAUSER_ROLE, grantee]) for grantee in grantees],
        )
        description = f"Make {count} more pausers"
        chain.send(governor.functions.propose(*calls, description), voters[0])
        description_hash = keccak(text=description)
        proposal_id = governor.functions.hashProposal(*calls, description_hash).call()
        chain.mine_to(governor.functions.proposalSnapshot(proposal_id).call() + 1)
        for voter in voters:
            chain.send(governor.functions.castVote(proposal_id, FOR), voter)
        chain.mine_to(governor.functions.proposalDeadline(proposal_id).call() + 1)
        queued = chain.send(governor.functions.queue(*calls, description_hash), deployer)
        eta = governor.functions.proposalEta(proposal_id).call()
        chain.w3.provider.make_request("evm_setNextBlockTimestamp", [eta])
        executed = chain.send(governor.functions.execute(*calls, description_hash), deployer)
        assert all(target.functions.hasRole(PAUSER_ROLE, g).call() for g in grantees)
        gas[count] = (queued.gasUsed, executed.gasUsed)
    return gas


def main() -> None:
    compiled = subprocess.run(["node", "compile.js"], cwd=HERE, check=True, capture_output=True)
    chain = Chain(json.loads(compiled.stdout))
    try:
        print(measure(chain))
    finally:
        chain.process.terminate()
        chain.process.wait()


if __name__ == "__main__":
    main()
