"""`noderr deploy` against a real anvil: the deployment file and the on-chain wiring."""

import json

import pytest
from eth_account import Account
from typer.testing import CliRunner
from web3 import Web3

from noderr.deployment import CONTRACT_NAMES, Deployment
from noderr_cli.main import app

runner = CliRunner()
ANVIL_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def deploy(rpc_url, output, env=None):
    return runner.invoke(app, ["deploy", "--rpc-url", rpc_url, "--output", str(output)],
                         env=env or {})


def roles(w3, deployment, name):
    contract = w3.eth.contract(address=deployment.contracts[name].address,
                               abi=deployment.contracts[name].abi)
    return contract.functions


def test_deploy__local_chain__writes_file_and_hands_admin_to_governance(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "31337.json")
    assert result.exit_code == 0, result.output

    deployment = Deployment.load(tmp_path / "31337.json")
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    assert deployment.chain_id == 31337
    assert deployment.deployer == ANVIL_0
    assert tuple(deployment.contracts) == CONTRACT_NAMES
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
    assert not license_.hasRole(admin, ANVIL_0).call()
    assert not timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE().call(), ANVIL_0).call()
    assert timelock.hasRole(timelock.PROPOSER_ROLE().call(), governor_address).call()
    assert not timelock.hasRole(timelock.PROPOSER_ROLE().call(), ANVIL_0).call()
    for role in ("MINTER_ROLE", "REVOKER_ROLE", "PAUSER_ROLE"):
        assert license_.hasRole(getattr(license_, role)().call(), ANVIL_0).call()
    assert "NodeGovernor" in result.output and governor_address in result.output


def test_deploy__role_holders_from_configuration__deployer_gets_none(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    env = {"NODERR_MINTERS": ANVIL_1, "NODERR_REVOKERS": f"{ANVIL_1}, {ANVIL_0}",
           "NODERR_PAUSERS": ANVIL_1}
    result = deploy(rpc_url, tmp_path / "d.json", env)
    assert result.exit_code == 0, result.output

    deployment = Deployment.load(tmp_path / "d.json")
    license_ = roles(Web3(Web3.HTTPProvider(rpc_url)), deployment, "NodeLicense")
    minter, revoker = license_.MINTER_ROLE().call(), license_.REVOKER_ROLE().call()
    assert license_.hasRole(minter, ANVIL_1).call()
    assert not license_.hasRole(minter, ANVIL_0).call()
    assert license_.hasRole(revoker, ANVIL_0).call()


def test_deploy__no_chain__names_the_url(tmp_path):
    result = deploy("http://127.0.0.1:9", tmp_path / "d.json")
    assert result.exit_code == 1
    assert "no chain answers at http://127.0.0.1:9" in result.output
    assert not (tmp_path / "d.json").exists()


def test_deploy__bad_role_address__reverts_nothing_and_says_which(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "d.json", {"NODERR_MINTERS": "0xnot-an-address"})
    assert result.exit_code == 1
    assert "bad role holder address" in result.output
    assert Web3(Web3.HTTPProvider(rpc_url)).eth.block_number == 0


def test_deploy__other_chain_without_keystore__refuses(anvil_factory, tmp_path):
    rpc_url = anvil_factory(chain_id=1337)
    result = deploy(rpc_url, tmp_path / "d.json")
    assert result.exit_code == 1
    assert "set NODERR_DEPLOYER_KEYSTORE" in result.output


@pytest.fixture
def funded_keystore(anvil_factory, tmp_path):
    rpc_url = anvil_factory(chain_id=1337)
    account = Account.create()
    path = tmp_path / "deployer.json"
    path.write_text(json.dumps(Account.encrypt(account.key, "correct horse")))
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
        {"from": ANVIL_0, "to": account.address, "value": 10**18}))
    return rpc_url, account.address, path


def test_deploy__keystore_on_other_chain__signs_locally(funded_keystore, tmp_path):
    rpc_url, address, keystore = funded_keystore
    env = {"NODERR_DEPLOYER_KEYSTORE": str(keystore), "NODERR_DEPLOYER_PASSWORD": "correct horse",
           "NODERR_MINTERS": ANVIL_1, "NODERR_REVOKERS": ANVIL_1, "NODERR_PAUSERS": ANVIL_1}
    result = deploy(rpc_url, tmp_path / "1337.json", env)
    assert result.exit_code == 0, result.output
    deployment = Deployment.load(tmp_path / "1337.json")
    assert deployment.chain_id == 1337
    assert deployment.deployer == address


def test_deploy__keystore_wrong_password__clear_error(funded_keystore, tmp_path):
    rpc_url, _, keystore = funded_keystore
    env = {"NODERR_DEPLOYER_KEYSTORE": str(keystore), "NODERR_DEPLOYER_PASSWORD": "wrong",
           "NODERR_MINTERS": ANVIL_1, "NODERR_REVOKERS": ANVIL_1, "NODERR_PAUSERS": ANVIL_1}
    result = deploy(rpc_url, tmp_path / "d.json", env)
    assert result.exit_code == 1
    assert "cannot decrypt the deployer keystore" in result.output
