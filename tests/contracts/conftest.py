"""Shared fixtures of the contract tests: named accounts, a deployed NodeLicense, factories.

Every test runs inside ape's per-test chain isolation, so the session-scoped
deployment below is reverted to its pristine state between tests.
"""

import itertools
from dataclasses import dataclass

import ape.exceptions
import pytest
from eth_account import Account
from eth_utils import keccak

from noderr.eip712 import split_signature
from noderr.feed_report import sign_report as sign
from noderr.feed_report import transmit_args
from noderr.halt_report import Halt, sign_halt
from tests.contracts.governance_setup import deploy_governance
from tests.contracts.license_constants import (
    ACTIVE,
    GUARDIAN,
    MINTER_ROLE,
    PAUSER_ROLE,
    REVOKER_ROLE,
    VALIDATOR,
    application_id,
)


@pytest.fixture(scope="session")
def deployer(accounts):
    """Deploys the contracts; holds DEFAULT_ADMIN_ROLE."""
    return accounts[0]


@pytest.fixture(scope="session")
def admin(deployer):
    """Alias of `deployer` for readability in admin-only tests."""
    return deployer


@pytest.fixture(scope="session")
def minter(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def revoker(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def pauser(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def dave(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def mallory(accounts):
    """An account without any role."""
    return accounts[8]


@pytest.fixture(scope="session")
def license(project, deployer, minter, revoker, pauser):
    """NodeLicense deployed by `deployer`, with MINTER/REVOKER/PAUSER granted."""
    contract = deployer.deploy(project.NodeLicense)
    contract.grantRole(MINTER_ROLE, minter, sender=deployer)
    contract.grantRole(REVOKER_ROLE, revoker, sender=deployer)
    contract.grantRole(PAUSER_ROLE, pauser, sender=deployer)
    return contract


@pytest.fixture(scope="session")
def application_ids():
    """An endless supply of fresh application ids (unique per session)."""
    return (application_id(n) for n in itertools.count(1))


@pytest.fixture
def mint(license, admin, minter, application_ids):
    """Factory: mint(owner, node_type=VALIDATOR, app_id=None) -> token id, minted as the
    contract allows: a Validator license by the admin (governance), others by the minter."""

    def _mint(owner, node_type=VALIDATOR, app_id=None):
        sender = admin if node_type == VALIDATOR else minter
        tx = license.mint(owner, node_type, app_id or next(application_ids), sender=sender)
        return tx.return_value

    return _mint


# ---------------------------------------------------------------------------
# NodeFeed: validators as signing keys, the governed stack, a feed next to it
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A validator's key: it signs reports off-chain and never sends a transaction."""

    private_key: bytes
    address: str


FEED_DECIMALS = 8
FEED_DESCRIPTION = "BTC / USD"
FEED_MIN_ANSWER = -(10**18)
FEED_MAX_ANSWER = 10**18


def signing_key(label: str) -> SigningKey:
    private_key = keccak(text=label)
    return SigningKey(private_key, Account.from_key(private_key).address)


@pytest.fixture(scope="session")
def validator_keys():
    """Four genesis validators' keys, ascending by address."""
    keys = [signing_key(f"feed-validator-{n}") for n in range(4)]
    return sorted(keys, key=lambda key: int(key.address, 16))


@pytest.fixture(scope="session")
def outsider_key():
    """A key that holds no license."""
    return signing_key("feed-outsider")


@pytest.fixture(scope="module")
def feed_stack(project, deployer, minter, revoker, pauser, validator_keys):
    """NodeLicense, NodeTimelock and NodeGovernor as `noderr deploy` wires them, the four
    validator keys holding the genesis Validator licenses."""
    return deploy_governance(project, deployer, minter, revoker, pauser, validator_keys)


@pytest.fixture(scope="module")
def feed_governance(accounts, feed_stack):
    """The timelock as a sender: stands for 'a proposal executed through governance'."""
    account = accounts[feed_stack.timelock.address]
    account.balance += 10**18
    return account


@pytest.fixture(scope="module")
def feed(project, deployer, feed_stack, feed_governance):
    """A NodeFeed reading the stack's NodeLicense, its bounds set by the timelock."""
    return deployer.deploy(project.NodeFeed, feed_stack.license, FEED_DECIMALS,
                           FEED_DESCRIPTION, feed_governance, FEED_MIN_ANSWER, FEED_MAX_ANSWER)


def active_validators(license_contract) -> list[str]:
    """The holders of an Active Validator license now, read from the registry's enumeration
    as a transmitter would."""
    holders = []
    for index in range(license_contract.totalSupply()):
        token_id = license_contract.tokenByIndex(index)
        node_type, status, *_ = license_contract.license_of(token_id)
        if node_type == VALIDATOR and status == ACTIVE:
            holders.append(license_contract.ownerOf(token_id))
    return holders


@pytest.fixture
def sign_report(chain, feed, feed_stack):
    """Factory: sign_report(keys, report, chain_id=this chain, feed=this feed,
    validators=the live Active set) -> the `transmit` arguments, each key signing for its
    own entry of the list."""

    def _sign(keys, report, chain_id=None, feed_address=None, validators=None):
        chain_id = chain.chain_id if chain_id is None else chain_id
        feed_address = feed_address or feed.address
        listed = active_validators(feed_stack.license) if validators is None else validators
        signatures = {key.address: sign(key.private_key, chain_id, feed_address, report)
                      for key in keys}
        return transmit_args(report, listed, signatures)

    return _sign


@pytest.fixture
def no_revert_tracebacks(monkeypatch):
    """Don't map reverted transactions back to Vyper source lines (seconds per revert);
    the tests assert the revert reason itself."""
    monkeypatch.setattr(ape.exceptions, "_get_ape_traceback_from_tx", lambda txn: None)


# ---------------------------------------------------------------------------
# NodeGuard: guardians as signing keys, a guard beside the governed stack
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def guardian_keys():
    """Five guardians' keys, ascending by address (n = 5: a majority is 3)."""
    keys = [signing_key(f"guard-guardian-{n}") for n in range(5)]
    return sorted(keys, key=lambda key: int(key.address, 16))


@pytest.fixture(scope="session", autouse=True)
def session_fixtures_first(deployer, admin, minter, revoker, pauser, alice, bob, carol, dave,
                           mallory, application_ids, validator_keys, outsider_key,
                           guardian_keys):
    """Every session fixture of this folder, set up before any module's: ape snapshots the
    chain per fixture scope, and a session fixture first asked for in the middle of a module
    makes it rebase to the session snapshot, which dropped the module's NodeFeed (the full
    suite failed test_node_feed.py that way; the folder alone passed)."""


@pytest.fixture(scope="module")
def guard(project, deployer, minter, feed_stack, feed_governance, guardian_keys,
          application_ids):
    """A NodeGuard reading the stack's NodeLicense, resumed by the timelock, the five
    guardian keys holding Active Guardian licenses minted by the minter."""
    for key in guardian_keys:
        feed_stack.license.mint(key.address, GUARDIAN, next(application_ids), sender=minter)
    return deployer.deploy(project.NodeGuard, feed_stack.license, feed_governance)


@pytest.fixture
def sign_halt_args(chain, guard):
    """Factory: sign_halt_args(keys, halt, chain_id=this chain, guard_address=this guard) ->
    the `halt` arguments, signatures ordered by signer as given (not sorted)."""

    def _sign(keys, halt: Halt, chain_id=None, guard_address=None):
        chain_id = chain.chain_id if chain_id is None else chain_id
        guard_address = guard_address or guard.address
        signatures = [split_signature(sign_halt(key.private_key, chain_id, guard_address, halt))
                      for key in keys]
        return halt.reason, halt.deadline, signatures

    return _sign
