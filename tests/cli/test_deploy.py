"""`noderr deploy` against a real anvil: the deployment file and the on-chain wiring."""

import json

import pytest
from eth_account import Account
from typer.testing import CliRunner
from web3 import Web3

from noderr.deployment import CONTRACT_NAMES, Deployment
from noderr.domain import NodeType
from noderr.feeds import FEED_DECIMALS, FEED_MAX_ANSWER, FEED_MIN_ANSWER, REPLAYED_INSTRUMENTS
from noderr_cli.main import app
from onchain.deploy import LOCAL_GENESIS_VALIDATORS, genesis_application_id
from tests.cli.wiring import ANVIL_0, ANVIL_1, assert_governance_wiring, roles

runner = CliRunner()


def deploy(rpc_url, output, env=None):
    return runner.invoke(app, ["deploy", "--rpc-url", rpc_url, "--output", str(output)],
                         env=env or {})


def test_deploy__local_chain__writes_file_and_hands_admin_to_governance(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "31337.json")
    assert result.exit_code == 0, result.output

    deployment = Deployment.load(tmp_path / "31337.json")
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    assert_governance_wiring(w3, deployment, ANVIL_0)
    assert "NodeGovernor" in result.output
    assert deployment.contracts["NodeGovernor"].address in result.output
    license_ = roles(w3, deployment, "NodeLicense")
    for n, validator in enumerate(LOCAL_GENESIS_VALIDATORS, start=1):
        assert license_.token_of(validator, NodeType.VALIDATOR).call() == n
        assert license_.license_of(n).call()[3] == genesis_application_id(validator)
        assert f"genesis Validator license minted to {validator}" in result.output


def test_deploy__local_chain__one_feed_per_replayed_instrument_governed_by_timelock(
        anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "31337.json")
    assert result.exit_code == 0, result.output

    deployment = Deployment.load(tmp_path / "31337.json")
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    feeds = deployment.feeds()
    assert tuple(feeds) == REPLAYED_INSTRUMENTS
    for name, record in feeds.items():
        assert f"NodeFeed.{name}" in result.output
        assert record.address in result.output
        assert deployment.contracts[f"NodeFeed.{name}"] == record
        assert w3.eth.get_transaction_receipt(record.tx_hash)["blockNumber"] == record.block
        feed = w3.eth.contract(address=record.address, abi=record.abi).functions
        assert feed.governance().call() == deployment.contracts["NodeTimelock"].address
        assert feed.license().call() == deployment.contracts["NodeLicense"].address
        assert feed.decimals().call() == FEED_DECIMALS == 8
        assert (feed.min_answer().call(), feed.max_answer().call()) == (
            FEED_MIN_ANSWER, FEED_MAX_ANSWER)
        assert feed.latest_round().call() == 0
    descriptions = {name: w3.eth.contract(address=r.address, abi=r.abi).functions
                    .description().call() for name, r in feeds.items()}
    assert descriptions == {"SP500": "SP500 / USD", "NASDAQ": "NASDAQ / USD",
                            "GOOG": "GOOG / USD", "EURUSD": "EUR / USD"}


def test_deploy__feeds_configured__deploys_exactly_those(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "d.json", {"NODERR_FEEDS": "BTC, ETH_2"})
    assert result.exit_code == 0, result.output
    deployment = Deployment.load(tmp_path / "d.json")
    assert tuple(deployment.contracts) == (*CONTRACT_NAMES, "NodeFeed.BTC", "NodeFeed.ETH_2",
                                           "NodeGuard")
    feed = deployment.feeds()["ETH_2"]
    description = Web3(Web3.HTTPProvider(rpc_url)).eth.contract(
        address=feed.address, abi=feed.abi).functions.description().call()
    assert description == "ETH_2 / USD"


def test_deploy__feeds_empty__deploys_none(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "d.json", {"NODERR_FEEDS": ""})
    assert result.exit_code == 0, result.output
    deployment = Deployment.load(tmp_path / "d.json")
    assert tuple(deployment.contracts) == (*CONTRACT_NAMES, "NodeGuard")
    assert deployment.feeds() == {}
    assert "NodeFeed deployed" not in result.output


def test_deploy__bad_feed_name__refused_before_any_transaction(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    result = deploy(rpc_url, tmp_path / "d.json", {"NODERR_FEEDS": "SP500,btc-usd"})
    assert result.exit_code == 1
    assert "bad feed name 'btc-usd' in NODERR_FEEDS" in result.output
    assert Web3(Web3.HTTPProvider(rpc_url)).eth.block_number == 0
    assert not (tmp_path / "d.json").exists()


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
           "NODERR_MINTERS": ANVIL_1, "NODERR_REVOKERS": ANVIL_1, "NODERR_PAUSERS": ANVIL_1,
           "NODERR_GENESIS_VALIDATORS": ANVIL_1}
    result = deploy(rpc_url, tmp_path / "1337.json", env)
    assert result.exit_code == 0, result.output
    deployment = Deployment.load(tmp_path / "1337.json")
    assert deployment.chain_id == 1337
    assert deployment.deployer == address
    license_ = roles(Web3(Web3.HTTPProvider(rpc_url)), deployment, "NodeLicense")
    assert license_.is_active(ANVIL_1, NodeType.VALIDATOR).call()


def test_deploy__other_chain_without_genesis_validators__one_line_error(funded_keystore,
                                                                          tmp_path):
    """Governance with no validator could never pass anything: at least one is required."""
    rpc_url, _, keystore = funded_keystore
    env = {"NODERR_DEPLOYER_KEYSTORE": str(keystore), "NODERR_DEPLOYER_PASSWORD": "correct horse",
           "NODERR_MINTERS": ANVIL_1, "NODERR_REVOKERS": ANVIL_1, "NODERR_PAUSERS": ANVIL_1}
    before = Web3(Web3.HTTPProvider(rpc_url)).eth.block_number
    result = deploy(rpc_url, tmp_path / "d.json", env)
    assert result.exit_code == 1
    assert "no genesis validator: set NODERR_GENESIS_VALIDATORS" in result.output
    assert Web3(Web3.HTTPProvider(rpc_url)).eth.block_number == before
    assert not (tmp_path / "d.json").exists()


def test_deploy__keystore_wrong_password__clear_error(funded_keystore, tmp_path):
    rpc_url, _, keystore = funded_keystore
    env = {"NODERR_DEPLOYER_KEYSTORE": str(keystore), "NODERR_DEPLOYER_PASSWORD": "wrong",
           "NODERR_MINTERS": ANVIL_1, "NODERR_REVOKERS": ANVIL_1, "NODERR_PAUSERS": ANVIL_1}
    result = deploy(rpc_url, tmp_path / "d.json", env)
    assert result.exit_code == 1
    assert "cannot decrypt the deployer keystore" in result.output
