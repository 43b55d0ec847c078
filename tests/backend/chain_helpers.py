"""Acting on the test chain as anvil #0 (minter, revoker, pauser, deployer of test
contracts), as governance (the timelock, NodeLicense's only admin, which alone mints,
suspends and revokes Validator licenses) and indexing."""

from __future__ import annotations

from eth_utils import keccak
from web3 import Web3

from noderr.deployment import ContractDeployment, Deployment
from noderr.domain import NodeType, role_id
from onchain.compile import Artifact
from tests.backend.helpers import ADMIN
from tests.indexer.helpers import index_once


def deploy_contract(w3: Web3, artifact: Artifact, *args: object) -> ContractDeployment:
    """A test contract deployed by anvil #0."""
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(*args).transact({"from": ADMIN}))
    return ContractDeployment(address=receipt["contractAddress"], abi=artifact.abi,
                              block=receipt["blockNumber"],
                              tx_hash=receipt["transactionHash"].to_0x_hex())


class LicenseOps:
    def __init__(self, w3: Web3, deployment: Deployment, rpc_url: str, database_url: str):
        record = deployment.contracts["NodeLicense"]
        self.w3, self.deployment = w3, deployment
        self.rpc_url, self.database_url = rpc_url, database_url
        self.contract = w3.eth.contract(address=record.address, abi=record.abi)
        self.timelock = deployment.contracts["NodeTimelock"].address

    def send(self, function, sender: str = ADMIN) -> dict:
        receipt = self.w3.eth.wait_for_transaction_receipt(function.transact({"from": sender}))
        assert receipt["status"] == 1
        return receipt

    def govern(self, function) -> dict:
        """Send an admin-only call from the timelock, as an executed proposal would (anvil
        impersonates the timelock and funds its gas)."""
        request = self.w3.provider.make_request
        request("anvil_impersonateAccount", [self.timelock])
        request("anvil_setBalance", [self.timelock, hex(10**18)])
        try:
            return self.send(function, sender=self.timelock)
        finally:
            request("anvil_stopImpersonatingAccount", [self.timelock])

    def operate(self, function, node_type: int) -> dict:
        """Send a license call as the contract allows: a Validator license's from governance,
        any other from anvil #0 (MINTER, REVOKER)."""
        if node_type == NodeType.VALIDATOR:
            return self.govern(function)
        return self.send(function)

    def node_type(self, token_id: int) -> int:
        return self.contract.functions.license_of(token_id).call()[0]

    def mint(self, to: str, node_type: int, salt: str = "") -> int:
        app_id = keccak(text=f"{to}{node_type}{salt}")
        self.operate(self.contract.functions.mint(to, node_type, app_id), node_type)
        return self.contract.functions.token_of(to, node_type).call()

    def suspend(self, token_id: int) -> None:
        self.operate(self.contract.functions.suspend(token_id, "missed heartbeats"),
                     self.node_type(token_id))

    def revoke(self, token_id: int) -> None:
        self.operate(self.contract.functions.revoke(token_id, "terms violated"),
                     self.node_type(token_id))

    def reassign(self, token_id: int, to: str) -> None:
        self.govern(self.contract.functions.reassign(token_id, to, "lost key"))

    def grant_role(self, role: str, account: str) -> None:
        self.govern(self.contract.functions.grantRole(role_id(role), account))

    def revoke_role(self, role: str, account: str) -> None:
        self.govern(self.contract.functions.revokeRole(role_id(role), account))

    def mine(self, blocks: int) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def index(self) -> int:
        return index_once(self.rpc_url, self.database_url, self.deployment)
