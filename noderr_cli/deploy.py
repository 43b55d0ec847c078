"""What `noderr deploy` does around `deploy_all`: connect, pick the signer, compile, save."""

from __future__ import annotations

from pathlib import Path

from noderr.deployment import Deployment
from noderr.settings import Settings
from onchain.deploy import Log, choose_deployer, compile_and_deploy, connect
from onchain.settings import DeploySettings


def run_deploy(rpc_url: str, output: Path | None, settings: Settings,
               log: Log) -> tuple[Path, Deployment]:
    w3 = connect(rpc_url)
    deploy_settings = DeploySettings()
    deployer = choose_deployer(w3, deploy_settings)
    log(f"Chain {w3.eth.chain_id} at {rpc_url}; deployer {deployer}")
    deployment = compile_and_deploy(w3, deployer, deploy_settings, log)
    path = output or settings.deployment_path(deployment.chain_id)
    deployment.save(path)
    return path, deployment
