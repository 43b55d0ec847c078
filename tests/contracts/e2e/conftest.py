"""Fixtures of the end-to-end flows: validators and governance wired exactly as in production."""

import ape.exceptions
import pytest

from tests.contracts.governance_setup import deploy_governance
from tests.contracts.license_constants import VALIDATOR, application_id


@pytest.fixture(autouse=True)
def _skip_vyper_source_tracebacks(monkeypatch):
    """Reverts are asserted by reason; skip ape's slow Vyper source traceback of each one."""
    monkeypatch.setattr(ape.exceptions, "_get_ape_traceback_from_tx", lambda txn: None)


@pytest.fixture(scope="module")
def deployed(project, deployer, minter, revoker, pauser):
    """NodeLicense, NodeTimelock and NodeGovernor, wired as `noderr deploy` wires them."""
    return deploy_governance(project, deployer, minter, revoker, pauser)


@pytest.fixture(scope="module")
def license(deployed):
    return deployed.license


@pytest.fixture(scope="module")
def validators(license, minter, alice, bob, carol, dave):
    """Four Active Validator licenses: {account: token_id}."""
    return {
        account: license.mint(
            account, VALIDATOR, application_id(1000 + n), sender=minter
        ).return_value
        for n, account in enumerate((alice, bob, carol, dave))
    }


@pytest.fixture(scope="module")
def governance(deployed, validators):
    """The deployed governance, four validators holding their votes."""
    return deployed



@pytest.fixture(scope="session")
def new_minter(accounts):
    """The account governance will make a minter (funded, holds nothing)."""
    return accounts[9]
