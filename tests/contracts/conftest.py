"""Shared fixtures of the contract tests: named accounts, a deployed NodeLicense, factories.

Every test runs inside ape's per-test chain isolation, so the session-scoped
deployment below is reverted to its pristine state between tests.
"""

import itertools

import pytest

from tests.contracts.license_constants import (
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
