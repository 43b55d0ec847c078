"""Acting on the test chain as anvil #0 (NodeLicense admin, minter, revoker) and indexing."""

from __future__ import annotations

from eth_utils import keccak
from web3 import Web3

from noderr.deployment import Deployment
from tests.backend.helpers import ADMIN
from tests.indexer.helpers import index_once


class LicenseOps:
    def __init__(self, w3: Web3, deployment: Deployment, rpc_url: str, database_url: str):
        record = deployment.contracts["NodeLicense"]
        self.w3, self.deployment = w3, deployment
        self.rpc_url, self.database_url = rpc_url, database_url
        self.contract = w3.eth.contract(address=record.address, abi=record.abi)

    def send(self, function, sender: str = ADMIN) -> dict:
        receipt = self.w3.eth.wait_for_transaction_receipt(function.transact({"from": sender}))
        assert receipt["status"] == 1
        return receipt

    def mint(self, to: str, node_type: int, salt: str = "") -> int:
        app_id = keccak(text=f"{to}{node_type}{salt}")
        self.send(self.contract.functions.mint(to, node_type, app_id))
        return self.contract.functions.token_of(to, node_type).call()

    def suspend(self, token_id: int) -> None:
        self.send(self.contract.functions.suspend(token_id, "missed heartbeats"))

    def revoke(self, token_id: int) -> None:
        self.send(self.contract.functions.revoke(token_id, "terms violated"))

    def reassign(self, token_id: int, to: str) -> None:
        self.send(self.contract.functions.reassign(token_id, to, "lost key"))

    def revoke_role(self, role: str, account: str) -> None:
        role_id = getattr(self.contract.functions, role)().call()
        self.send(self.contract.functions.revokeRole(role_id, account))

    def mine(self, blocks: int) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def index(self) -> int:
        return index_once(self.rpc_url, self.database_url, self.deployment)
