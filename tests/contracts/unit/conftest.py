"""Fixtures of the NodeLicense unit tests (the deployment's are in tests/contracts/conftest.py)."""

import pytest

from tests.contracts.license_constants import VALIDATOR


@pytest.fixture
def token_id(mint, alice):
    """A live, Active Validator license held by alice."""
    return mint(alice, VALIDATOR)
