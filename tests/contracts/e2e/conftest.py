"""Fixtures of the end-to-end flows: validators and governance wired exactly as in production."""

import ape.exceptions
import pytest

from tests.contracts.governance_setup import deploy_governance
from tests.contracts.license_constants import VALIDATOR


@pytest.fixture(autouse=True)
def _skip_vyper_source_tracebacks(monkeypatch):
    """Reverts are asserted by reason; skip ape's slow Vyper source traceback of each one."""
    monkeypatch.setattr(ape.exceptions, "_get_ape_traceback_from_tx", lambda txn: None)


@pytest.fixture(scope="module")
def deployed(project, deployer, minter, revoker, pauser, alice, bob, carol, dave):
    """NodeLicense, NodeTimelock and NodeGovernor, wired as `noderr deploy` wires them, with
    alice, bob, carol and dave the genesis validators."""
    return deploy_governance(project, deployer, minter, revoker, pauser,
                             (alice, bob, carol, dave))


@pytest.fixture(scope="module")
def license(deployed):
    return deployed.license


@pytest.fixture(scope="module")
def validators(license, alice, bob, carol, dave):
    """The four genesis Validator licenses: {account: token_id}."""
    return {account: license.token_of(account, VALIDATOR) for account in (alice, bob, carol, dave)}


@pytest.fixture(scope="module")
def governance(deployed, validators):
    """The deployed governance, four validators holding their votes."""
    return deployed



@pytest.fixture(scope="session")
def new_minter(accounts):
    """The account governance will make a minter (funded, holds nothing)."""
    return accounts[9]
