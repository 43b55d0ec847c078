"""`noderr`: the one command line for everything a person runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from backend import cli as backend_cli
from backend.vault.cli import vault_app
from dashboard.cli import dashboard
from indexer.cli import db_app, index_app
from ml.cli import ml_app
from node.cli import bus, node_app
from node.trade_cli import trade_app
from noderr.console import fail
from noderr.settings import LOCAL_CHAIN_ID, get_settings
from noderr_cli.prune import prune

app = typer.Typer(help="Noderr: control plane for permissioned node networks.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(index_app, name="index")
db_app.command(name="prune")(prune)
app.add_typer(db_app, name="db")
app.add_typer(vault_app, name="vault")
app.add_typer(ml_app, name="ml")
app.add_typer(node_app, name="node")
app.add_typer(trade_app, name="trade")
app.command(name="bus")(bus)
app.command(name="api")(backend_cli.api)
app.command(name="typeform-backfill")(backend_cli.typeform_backfill)
app.command(name="dashboard")(dashboard)


@app.command()
def chain(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8545,
    chain_id: Annotated[int, typer.Option(help="Chain id.")] = LOCAL_CHAIN_ID,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    block_time: Annotated[
        float | None, typer.Option(help="Seconds per block (default: one per transaction).")
    ] = None,
) -> None:
    """Run a local chain (anvil) in the foreground."""
    from onchain.anvil import anvil_command

    try:
        command = anvil_command(port, chain_id, host=host, block_time=block_time)
    except RuntimeError as error:
        raise fail(str(error)) from None
    command.remove("--silent")
    typer.echo(f"anvil on http://{host}:{port}, chain id {chain_id}")
    os.execv(command[0], command)  # noqa: S606 - replaces this process with anvil


@app.command()
def deploy(
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC URL [env NODERR_RPC_URL].")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Deployment file [env NODERR_DEPLOYMENT].")
    ] = None,
) -> None:
    """Deploy NodeLicense, NodeTimelock, NodeGovernor and the feeds (NODERR_FEEDS); write the
    deployment file."""
    from vyper.exceptions import VyperException
    from web3.exceptions import Web3Exception

    from noderr_cli.deploy import run_deploy
    from onchain.deploy import DeployError

    settings = get_settings()
    try:
        path, deployment = run_deploy(rpc_url or settings.rpc_url, output, settings, typer.echo)
    except (DeployError, OSError, ValueError, Web3Exception, VyperException) as error:
        raise fail(str(error)) from None
    typer.echo(f"\nDeployment file: {path}")
    width = max(map(len, deployment.contracts))
    for name, contract in deployment.contracts.items():
        typer.echo(f"  {name:<{width}} {contract.address}  (block {contract.block})")


@app.command()
def demo(
    network: Annotated[bool, typer.Option(
        help="Also run the node network (4 validators, 2 oracles, 2 guardians).")] = True,
) -> None:
    """Start a local chain, deploy everything, print what is where; Ctrl-C stops it."""
    from noderr_cli.demo import run_demo

    try:
        run_demo(get_settings(), typer.echo, network)
    except (RuntimeError, OSError, ValueError) as error:
        raise fail(str(error)) from None
