"""Deployment state, constants, ERC-165 and the exported surface of NodeLicense."""

import pytest

from tests.contracts.license_constants import (
    ACTIVE,
    DEFAULT_ADMIN_ROLE,
    GUARDIAN,
    MINTER_ROLE,
    ORACLE,
    PAUSER_ROLE,
    REVOKER_ROLE,
    SUSPENDED,
    VALIDATOR,
)

ERC165 = "0x01ffc9a7"
ERC721 = "0x80ac58cd"
ERC721_METADATA = "0x5b5e139f"
ERC721_ENUMERABLE = "0x780e9d63"
ERC5192 = "0xb45a3c0e"
IACCESS_CONTROL = "0x7965db0b"
ERC4494 = "0x5604e225"
ERC4494_SNEKMATE = "0x589c5ce2"
ERC4906 = "0x49064906"


def test_deploy__name_symbol_and_empty_supply(license):
    assert license.name() == "Noderr Node License"
    assert license.symbol() == "NODE"
    assert license.totalSupply() == 0
    assert license.paused() is False


def test_deploy__deployer_holds_only_default_admin_role(license, deployer, minter):
    assert license.hasRole(DEFAULT_ADMIN_ROLE, deployer)
    for role in (MINTER_ROLE, REVOKER_ROLE, PAUSER_ROLE):
        assert not license.hasRole(role, deployer)
        assert license.getRoleAdmin(role) == DEFAULT_ADMIN_ROLE
    # the `license` fixture granted the operational roles
    assert license.hasRole(MINTER_ROLE, minter)


def test_deploy__fresh_contract_grants_no_other_role(project, accounts):
    fresh = accounts[9].deploy(project.NodeLicense)
    tx = fresh.txn_hash
    receipt = fresh.chain_manager.get_receipt(tx)
    granted = receipt.decode_logs(fresh.RoleGranted)
    assert [(g.role, g.account, g.sender) for g in granted] == [
        (DEFAULT_ADMIN_ROLE, accounts[9].address, accounts[9].address)
    ]


def test_constants(license):
    assert license.DEFAULT_ADMIN_ROLE() == DEFAULT_ADMIN_ROLE
    assert license.MINTER_ROLE() == MINTER_ROLE
    assert license.REVOKER_ROLE() == REVOKER_ROLE
    assert license.PAUSER_ROLE() == PAUSER_ROLE
    assert (license.ORACLE(), license.GUARDIAN(), license.VALIDATOR()) == (
        ORACLE,
        GUARDIAN,
        VALIDATOR,
    )
    assert (license.ACTIVE(), license.SUSPENDED()) == (ACTIVE, SUSPENDED)


@pytest.mark.parametrize(
    "interface_id",
    [ERC165, ERC721, ERC721_METADATA, ERC721_ENUMERABLE, ERC5192, IACCESS_CONTROL],
)
def test_supports_interface__supported(license, interface_id):
    assert license.supportsInterface(interface_id) is True


@pytest.mark.parametrize(
    "interface_id", [ERC4494, ERC4494_SNEKMATE, ERC4906, "0xffffffff", "0x00000000"]
)
def test_supports_interface__unsupported(license, interface_id):
    assert license.supportsInterface(interface_id) is False


def test_abi__snekmate_minter_and_owner_functions_not_exported(license):
    names = {item.name for item in license.contract_type.abi if item.type == "function"}
    hidden = {
        "safe_mint",
        "set_minter",
        "is_minter",
        "burn",
        "owner",
        "transfer_ownership",
        "renounce_ownership",
        "nonces",
        "DOMAIN_SEPARATOR",
        "eip712Domain",
        "set_role_admin",
    }
    assert names.isdisjoint(hidden)
    assert {
        "mint",
        "suspend",
        "reinstate",
        "revoke",
        "reassign",
        "set_supply_cap",
        "pause",
        "unpause",
        "license_of",
        "token_of",
        "is_active",
        "active_count",
        "active_count_at",
        "supply_of",
        "supply_cap",
        "token_of_application",
        "tokenURI",
        "locked",
    } <= names
