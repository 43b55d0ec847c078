"""What `noderr deploy` does around `deploy_all`: connect, pick the signer, compile, save."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

from eth_account import Account
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from noderr.contracts import compile_contract
from noderr.deploy import DeployError, Log, deploy_all
from noderr.deployment import CONTRACT_NAMES, Deployment
from noderr.settings import LOCAL_CHAIN_ID, DeploySettings, Settings


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


def run_deploy(rpc_url: str, output: Path | None, settings: Settings,
               log: Log) -> tuple[Path, Deployment]:
    w3 = connect(rpc_url)
    deploy_settings = DeploySettings()
    deployer = choose_deployer(w3, deploy_settings)
    log(f"Chain {w3.eth.chain_id} at {rpc_url}; deployer {deployer}")
    artifacts = {}
    for name in CONTRACT_NAMES:
        log(f"Compiling {name}.vy")
        artifacts[name] = compile_contract(name)
    deployment = deploy_all(w3, deployer, deploy_settings, artifacts, log)
    path = output or settings.deployment_path(deployment.chain_id)
    deployment.save(path)
    return path, deployment
