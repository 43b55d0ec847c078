"""`ape run deploy` (scripts/deploy.py) against a running anvil: the same deployment file
and wiring as `noderr deploy`, signed by the ape account it is given."""

import os
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from noderr.deployment import Deployment
from noderr.settings import REPO_ROOT
from tests.cli.wiring import ANVIL_0, ANVIL_1, assert_governance_wiring


def ape_run_deploy(rpc_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    ape = Path(sys.executable).with_name("ape")
    return subprocess.run(
        [str(ape), "run", "deploy", "--network", "ethereum:local:foundry", *args],
        cwd=REPO_ROOT, env={**os.environ, "APE_FOUNDRY_HOST": rpc_url, **env},
        capture_output=True, text=True, timeout=600)


def test_ape_run_deploy__account_and_settings__deploys_with_deploy_all(anvil_factory, tmp_path):
    rpc_url = anvil_factory()
    path = tmp_path / "31337.json"
    result = ape_run_deploy(rpc_url, "--account", "TEST::1", NODERR_DEPLOYMENT=str(path),
                            NODERR_MINTERS=ANVIL_0, NODERR_REVOKERS=ANVIL_0,
                            NODERR_PAUSERS=ANVIL_0)
    assert result.returncode == 0, result.stdout + result.stderr

    deployment = Deployment.load(path)
    assert_governance_wiring(Web3(Web3.HTTPProvider(rpc_url)), deployment, ANVIL_1,
                             operator=ANVIL_0)
    assert f"Deployment file: {path}" in result.stdout
    assert deployment.contracts["NodeGovernor"].address in result.stdout


def test_ape_run_deploy__other_chain_without_account__refuses(anvil_factory, tmp_path):
    result = ape_run_deploy(anvil_factory(chain_id=1337),
                            NODERR_DEPLOYMENT=str(tmp_path / "d.json"))
    assert result.returncode != 0
    assert "pass --account ALIAS" in result.stdout + result.stderr
    assert not (tmp_path / "d.json").exists()
