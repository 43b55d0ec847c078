"""What every deployment must look like on-chain, whichever command made it."""

from noderr.deployment import CONTRACT_NAMES, feed_contract_name
from noderr.feeds import REPLAYED_INSTRUMENTS
from noderr.halt_report import GUARD_CONTRACT

ANVIL_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # also ape's TEST::1 (same mnemonic)


def roles(w3, deployment, name):
    contract = w3.eth.contract(address=deployment.contracts[name].address,
                               abi=deployment.contracts[name].abi)
    return contract.functions


def assert_governance_wiring(w3, deployment, deployer, operator=None, feeds=REPLAYED_INSTRUMENTS):
    """The file matches the chain; governance holds every admin power, `deployer` none;
    `operator` (default: the deployer) holds MINTER, REVOKER and PAUSER; `feeds` follow the
    core contracts, then the guard, governed by the timelock and not halted."""
    assert deployment.chain_id == 31337
    assert deployment.deployer == deployer
    assert tuple(deployment.contracts) == (CONTRACT_NAMES + tuple(map(feed_contract_name, feeds))
                                           + (GUARD_CONTRACT,))
    for contract in deployment.contracts.values():
        assert w3.eth.get_code(contract.address) != b""
        receipt = w3.eth.get_transaction_receipt(contract.tx_hash)
        assert receipt["blockNumber"] == contract.block
        assert any(item.get("type") == "event" for item in contract.abi)

    license_ = roles(w3, deployment, "NodeLicense")
    timelock = roles(w3, deployment, "NodeTimelock")
    timelock_address = deployment.contracts["NodeTimelock"].address
    governor_address = deployment.contracts["NodeGovernor"].address
    admin = license_.DEFAULT_ADMIN_ROLE().call()
    assert license_.hasRole(admin, timelock_address).call()
    assert not license_.hasRole(admin, deployer).call()
    assert not timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE().call(), deployer).call()
    assert timelock.hasRole(timelock.PROPOSER_ROLE().call(), governor_address).call()
    assert not timelock.hasRole(timelock.PROPOSER_ROLE().call(), deployer).call()
    for role in ("MINTER_ROLE", "REVOKER_ROLE", "PAUSER_ROLE"):
        assert license_.hasRole(getattr(license_, role)().call(), operator or deployer).call()
    guard = roles(w3, deployment, GUARD_CONTRACT)
    assert (guard.governance().call(), guard.license().call(), guard.is_halted().call()) == (
        timelock_address, deployment.contracts["NodeLicense"].address, False)
