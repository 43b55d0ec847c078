"""Deploying NodeLicense, NodeTimelock and NodeGovernor, wiring their roles, and deploying
one NodeFeed per configured feed: the one deploy path of `noderr deploy`, `ape run deploy`,
the demo, the tests and the benchmarks.

After `deploy_all` the timelock is NodeLicense's only admin, the governor is the
timelock's only proposer, canceller and executor, the genesis validators hold Active
Validator licenses (minted by the deployer while it was still admin: afterwards only a
passed proposal admits a validator), and the deployer keeps no admin power anywhere:
every later change of roles or of voting power goes through a governance vote. Each feed
reads its membership from NodeLicense and has the timelock as governance (its bounds).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from noderr.deployment import (
    CONTRACT_NAMES,
    FEED_CONTRACT,
    ContractDeployment,
    Deployment,
    feed_contract_name,
)
from noderr.domain import DEFAULT_ADMIN_ROLE, OPERATIONAL_ROLES, NodeType, role_id
from noderr.feeds import (
    FEED_DECIMALS,
    FEED_MAX_ANSWER,
    FEED_MIN_ANSWER,
    FEED_NAME,
    REPLAYED_INSTRUMENTS,
    feed_description,
)
from noderr.halt_report import GUARD_CONTRACT
from noderr.settings import LOCAL_CHAIN_ID
from onchain.compile import Artifact, compiled
from onchain.settings import DeploySettings

Log = Callable[[str], None]
DEPLOYED_CONTRACTS = (*CONTRACT_NAMES, FEED_CONTRACT, GUARD_CONTRACT)
"""Every contract `deploy_all` may deploy: the artifacts `compile_and_deploy` compiles."""
TIMELOCK_ROLES = ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE")
"""The timelock roles the governor alone holds."""
LOCAL_GENESIS_VALIDATORS = (
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
)
"""Anvil accounts #4-#7: the validators of a chain-31337 deployment that names none."""


class DeployError(RuntimeError):
    """The deployment cannot go on; the message says why."""


@dataclass(frozen=True)
class Deployed:
    contract: Contract
    record: ContractDeployment


class _Sender:
    """Sends each transaction from one account and waits for a successful receipt."""

    def __init__(self, w3: Web3, address: str, log: Log) -> None:
        self.w3, self.address, self.log = w3, address, log

    def deploy(self, artifact: Artifact, *args: Any) -> Deployed:
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._wait(factory.constructor(*args).transact({"from": self.address}),
                             f"deploy {artifact.name}")
        address = receipt["contractAddress"]
        self.log(f"{artifact.name} deployed at {address} (block {receipt['blockNumber']})")
        record = ContractDeployment(address=address, abi=artifact.abi,
                                    block=receipt["blockNumber"],
                                    tx_hash=receipt["transactionHash"].to_0x_hex())
        return Deployed(self.w3.eth.contract(address=address, abi=artifact.abi), record)

    def call(self, function: Any, what: str) -> None:
        self._wait(function.transact({"from": self.address}), what)
        self.log(what)

    def _wait(self, tx_hash: bytes, what: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise DeployError(f"transaction reverted: {what} ({tx_hash.to_0x_hex()})")
        return receipt


def role_holders(settings: DeploySettings, chain_id: int, deployer: str) -> dict[str, list[str]]:
    """MINTER/REVOKER/PAUSER holders; on the local chain the deployer holds any left unset."""
    configured = dict(zip(OPERATIONAL_ROLES, (settings.minters, settings.revokers,
                                              settings.pausers), strict=True))
    holders = {}
    for role, accounts in configured.items():
        if not accounts and chain_id == LOCAL_CHAIN_ID:
            accounts = [deployer]
        if not accounts:
            variable = "NODERR_" + role.removesuffix("_ROLE") + "S"
            raise DeployError(f"no {role} holder: set {variable} (comma-separated)")
        try:
            holders[role] = [to_checksum_address(account) for account in accounts]
        except ValueError as error:
            raise DeployError(f"bad role holder address: {error}") from None
    return holders


def genesis_validators(settings: DeploySettings, chain_id: int) -> list[str]:
    """The validators minted at deployment; the local chain defaults to anvil #4-#7.

    Governance with no validator could never pass a proposal, so at least one is required.
    """
    accounts = settings.genesis_validators
    if not accounts and chain_id == LOCAL_CHAIN_ID:
        accounts = list(LOCAL_GENESIS_VALIDATORS)
    if not accounts:
        raise DeployError("no genesis validator: set NODERR_GENESIS_VALIDATORS (comma-separated)")
    try:
        checksummed = [to_checksum_address(account) for account in accounts]
    except ValueError as error:
        raise DeployError(f"bad genesis validator address: {error}") from None
    if len(set(checksummed)) != len(checksummed):
        raise DeployError("NODERR_GENESIS_VALIDATORS names an address twice")
    return checksummed


def feed_names(settings: DeploySettings, chain_id: int) -> list[str]:
    """The feeds to deploy; unset means the replayed instruments locally, none elsewhere."""
    feeds = settings.feeds
    if feeds is None:
        feeds = list(REPLAYED_INSTRUMENTS) if chain_id == LOCAL_CHAIN_ID else []
    for feed in feeds:
        if not FEED_NAME.fullmatch(feed):
            raise DeployError(f"bad feed name {feed!r} in NODERR_FEEDS: a feed name is 1 to 16 "
                              "of A-Z, 0-9 and _")
    if len(set(feeds)) != len(feeds):
        raise DeployError("NODERR_FEEDS names a feed twice")
    return feeds


def genesis_application_id(validator: str) -> bytes:
    """The application id of a genesis Validator license: keccak256("genesis:" + address)."""
    return keccak(text=f"genesis:{to_checksum_address(validator)}")


def deploy_all(w3: Web3, deployer: str, settings: DeploySettings,
               artifacts: Mapping[str, Artifact], log: Log = lambda _: None) -> Deployment:
    """Deploy the three core contracts, the feeds and the guard from `deployer` (an account
    `w3` can send from), wire them, and check the wiring on-chain. `artifacts` holds
    NodeFeed's when any feed is configured; NodeGuard (the emergency halt, governed by the
    timelock) is deployed when its artifact is given, as `noderr deploy`, `ape run deploy`,
    the demo and the service test stacks do (DEPLOYED_CONTRACTS); contract-only tests and
    gas benchmarks that measure the core leave it out."""
    chain_id = w3.eth.chain_id
    deployer = to_checksum_address(deployer)
    holders = role_holders(settings, chain_id, deployer)
    validators = genesis_validators(settings, chain_id)
    feeds = feed_names(settings, chain_id)
    if feeds and FEED_CONTRACT not in artifacts:
        raise DeployError(f"feeds {', '.join(feeds)} configured but no {FEED_CONTRACT} "
                          "artifact given")
    sender = _Sender(w3, deployer, log)

    license_ = sender.deploy(artifacts["NodeLicense"])
    timelock = sender.deploy(artifacts["NodeTimelock"], settings.timelock_delay, [], [], deployer)
    governor = sender.deploy(
        artifacts["NodeGovernor"], license_.record.address, timelock.record.address,
        settings.voting_delay, settings.voting_period, settings.proposal_threshold,
        settings.quorum_percent, settings.grace_period,
    )
    _wire_timelock(sender, timelock.contract, governor.record.address)
    _mint_genesis(sender, license_.contract, validators)
    _wire_license(sender, license_.contract, timelock.record.address, holders)
    _renounce_admin(sender, timelock.contract, "NodeTimelock")
    feed_records = {
        feed_contract_name(feed): sender.deploy(
            artifacts[FEED_CONTRACT], license_.record.address, FEED_DECIMALS,
            feed_description(feed), timelock.record.address, FEED_MIN_ANSWER, FEED_MAX_ANSWER,
        ).record
        for feed in feeds
    }
    if GUARD_CONTRACT in artifacts:
        feed_records[GUARD_CONTRACT] = sender.deploy(
            artifacts[GUARD_CONTRACT], license_.record.address, timelock.record.address).record

    deployment = Deployment(chain_id=chain_id, deployer=deployer, contracts={
        **{name: item.record
           for name, item in zip(CONTRACT_NAMES, (license_, timelock, governor), strict=True)},
        **feed_records,
    })
    verify_wiring(w3, deployment, holders, validators)
    verify_feeds(w3, deployment)
    verify_guard(w3, deployment)
    return deployment


def compile_and_deploy(w3: Web3, deployer: str, settings: DeploySettings,
                       log: Log = lambda _: None) -> Deployment:
    """`deploy_all` of the sources as they are now: compiled, or taken from the artifact cache
    when no source and not the compiler changed since (its key hashes them all)."""
    return deploy_all(w3, deployer, settings, compiled(DEPLOYED_CONTRACTS, log), log)


def _wire_timelock(sender: _Sender, timelock: Contract, governor: str) -> None:
    for role in TIMELOCK_ROLES:
        sender.call(timelock.functions.grantRole(role_id(role), governor),
                    f"NodeTimelock: {role} granted to the governor")


def _mint_genesis(sender: _Sender, license_: Contract, validators: list[str]) -> None:
    for validator in validators:
        sender.call(license_.functions.mint(validator, NodeType.VALIDATOR,
                                            genesis_application_id(validator)),
                    f"NodeLicense: genesis Validator license minted to {validator}")


def _wire_license(sender: _Sender, license_: Contract, timelock: str,
                  holders: Mapping[str, list[str]]) -> None:
    for role, accounts in holders.items():
        for account in accounts:
            sender.call(license_.functions.grantRole(role_id(role), account),
                        f"NodeLicense: {role} granted to {account}")
    sender.call(license_.functions.grantRole(role_id(DEFAULT_ADMIN_ROLE), timelock),
                f"NodeLicense: {DEFAULT_ADMIN_ROLE} granted to the timelock")
    _renounce_admin(sender, license_, "NodeLicense")


def _renounce_admin(sender: _Sender, contract: Contract, name: str) -> None:
    sender.call(contract.functions.renounceRole(role_id(DEFAULT_ADMIN_ROLE), sender.address),
                f"{name}: the deployer renounced {DEFAULT_ADMIN_ROLE}")


def verify_wiring(w3: Web3, deployment: Deployment, holders: Mapping[str, list[str]],
                  validators: list[str]) -> None:
    """Read the roles and the genesis validators' licenses back from the chain; raise if
    any differs from the plan."""
    contracts = {name: w3.eth.contract(address=c.address, abi=c.abi).functions
                 for name, c in deployment.contracts.items() if name in CONTRACT_NAMES}
    license_, timelock = contracts["NodeLicense"], contracts["NodeTimelock"]
    timelock_address = deployment.contracts["NodeTimelock"].address
    governor_address = deployment.contracts["NodeGovernor"].address
    expected = [
        (license_, DEFAULT_ADMIN_ROLE, timelock_address, True),
        (license_, DEFAULT_ADMIN_ROLE, deployment.deployer, False),
        (timelock, DEFAULT_ADMIN_ROLE, deployment.deployer, False),
        (timelock, "PROPOSER_ROLE", governor_address, True),
        (timelock, "EXECUTOR_ROLE", governor_address, True),
    ] + [(license_, role, account, True)
         for role, accounts in holders.items() for account in accounts]
    for functions, role, account, should_hold in expected:
        if functions.hasRole(role_id(role), account).call() != should_hold:
            raise DeployError(f"after deploy, {account} {'lacks' if should_hold else 'holds'} "
                              f"{role}: the wiring is wrong, do not use this deployment")
    for validator in validators:
        if not license_.is_active(validator, NodeType.VALIDATOR).call():
            raise DeployError(f"after deploy, genesis validator {validator} holds no Active "
                              "Validator license: do not use this deployment")


def verify_feeds(w3: Web3, deployment: Deployment) -> None:
    """Read each feed's registry, governance, decimals, description and bounds back from the
    chain; raise if any differs from the plan."""
    license_address = deployment.contracts["NodeLicense"].address
    timelock_address = deployment.contracts["NodeTimelock"].address
    for feed, record in deployment.feeds().items():
        functions = w3.eth.contract(address=record.address, abi=record.abi).functions
        read = (functions.license().call(), functions.governance().call(),
                functions.decimals().call(), functions.description().call(),
                functions.min_answer().call(), functions.max_answer().call())
        planned = (license_address, timelock_address, FEED_DECIMALS, feed_description(feed),
                   FEED_MIN_ANSWER, FEED_MAX_ANSWER)
        if read != planned:
            raise DeployError(f"after deploy, {feed_contract_name(feed)} reads {read}, "
                              f"planned {planned}: do not use this deployment")


def verify_guard(w3: Web3, deployment: Deployment) -> None:
    """The guard, if deployed, reads the license registry and the timelock as governance and
    starts not halted with the default majority quorum."""
    record = deployment.contracts.get(GUARD_CONTRACT)
    if record is None:
        return
    functions = w3.eth.contract(address=record.address, abi=record.abi).functions
    read = (functions.license().call(), functions.governance().call(),
            functions.is_halted().call(), functions.quorum_numerator().call(),
            functions.quorum_denominator().call())
    planned = (deployment.contracts["NodeLicense"].address,
               deployment.contracts["NodeTimelock"].address, False, 1, 2)
    if read != planned:
        raise DeployError(f"after deploy, {GUARD_CONTRACT} reads {read}, planned {planned}: "
                          "do not use this deployment")


def connect(rpc_url: str) -> Web3:
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
    if not w3.is_connected():
        raise DeployError(f"no chain answers at {rpc_url} (start one with `noderr chain`)")
    return w3


def choose_deployer(w3: Web3, settings: DeploySettings) -> str:
    """The keystore account if one is configured, else anvil's first dev account locally."""
    if settings.deployer_keystore:
        keystore = json.loads(settings.deployer_keystore.read_text())
        password = os.environ.get("NODERR_DEPLOYER_PASSWORD") or getpass.getpass(
            f"Password for {settings.deployer_keystore}: ")
        try:
            account = Account.from_key(Account.decrypt(keystore, password))
        except ValueError:
            raise DeployError("cannot decrypt the deployer keystore: wrong password?") from None
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
        return account.address
    if w3.eth.chain_id != LOCAL_CHAIN_ID:
        raise DeployError(f"chain {w3.eth.chain_id} is not the local chain: "
                          "set NODERR_DEPLOYER_KEYSTORE to an encrypted keystore file")
    return w3.eth.accounts[0]
