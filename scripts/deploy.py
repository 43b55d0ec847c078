"""`ape run deploy`: NodeLicense, NodeTimelock and NodeGovernor deployed and wired by
`deploy_all`, exactly as `noderr deploy` does, from an ape account; writes the deployment file.

    ape run deploy --network ethereum:local:foundry        # ape's own anvil, gone afterwards
    APE_FOUNDRY_HOST=http://127.0.0.1:8545 ape run deploy --network ethereum:local:foundry
    ape run deploy --network ethereum:sepolia:node --account deployer

Role holders and governance timing come from the `NODERR_*` variables `noderr deploy` reads
(README, Configuration). On chain 31337 the first test account deploys unless `--account`
names another; on any other chain `--account` is required. Transactions are signed by the ape
account (it may prompt for its passphrase), never by the node.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.middleware import Web3Middleware

from noderr.settings import LOCAL_CHAIN_ID, get_settings
from onchain.deploy import DeployError, compile_and_deploy
from onchain.settings import DeploySettings


def signed_by(account, ecosystem) -> type[Web3Middleware]:
    """A web3 middleware that turns `account`'s eth_sendTransaction into a transaction the
    ape account prepares and signs, sent raw."""

    class ApeAccountSigner(Web3Middleware):
        def request_processor(self, method, params):
            if method != "eth_sendTransaction":
                return method, params
            fields = dict(params[0])
            if to_checksum_address(fields.pop("from")) != account.address:
                return method, params
            transaction = ecosystem.create_transaction(sender=account.address, **fields)
            signed = account.sign_transaction(account.prepare_transaction(transaction))
            if signed is None:
                raise DeployError(f"{account.alias or account.address} refused to sign")
            return "eth_sendRawTransaction", [HexBytes(signed.serialize_transaction()).to_0x_hex()]

    return ApeAccountSigner


def deployer_account(account, chain_id: int):
    """`--account`, else the first test account on the local chain."""
    if account is not None:
        return account
    if chain_id != LOCAL_CHAIN_ID:
        raise click.UsageError(f"chain {chain_id} is not the local chain: pass --account ALIAS")
    from ape import accounts

    return accounts.test_accounts[0]


@click.command(cls=ConnectedProviderCommand)
@account_option(prompt=False)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Deployment file [env NODERR_DEPLOYMENT, else deployments/<chain_id>.json].")
def cli(provider, account, output: Path | None) -> None:
    """Deploy the contracts with `deploy_all` and write the deployment file."""
    from vyper.exceptions import VyperException
    from web3.exceptions import Web3Exception

    w3 = provider.web3
    deployer = deployer_account(account, provider.chain_id)
    w3.middleware_onion.inject(signed_by(deployer, provider.network.ecosystem), layer=0)
    click.echo(f"Chain {provider.chain_id} ({provider.network.choice}); deployer "
               f"{deployer.address}")
    try:
        deployment = compile_and_deploy(w3, deployer.address, DeploySettings(), click.echo)
        path = output or get_settings().deployment_path(deployment.chain_id)
        deployment.save(path)
    except (DeployError, OSError, ValueError, Web3Exception, VyperException) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"\nDeployment file: {path}")
    width = max(map(len, deployment.contracts))
    for name, contract in deployment.contracts.items():
        click.echo(f"  {name:<{width}} {contract.address}  (block {contract.block})")
