"""`noderr node …` (run a node, list the function catalogue) and `noderr bus` (the NATS server).

Exit statuses of `noderr node run`: 0 stopped by a signal, 1 could not start (the line says
why), 3 no active license of the node's type, 4 the license was revoked or reassigned."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from node.settings import NodeSettings, get_node_settings
from noderr.catalogue import CATALOGUE
from noderr.console import fail
from noderr.domain import NodeType
from noderr.jsonrpc import JsonRpcError, call

if TYPE_CHECKING:
    from node.runtime.keys import NodeKey

node_app = typer.Typer(help="Run a node of the network; list the node functions.",
                       no_args_is_help=True)


class TypeChoice(StrEnum):
    oracle = "oracle"
    guardian = "guardian"
    validator = "validator"


@node_app.command("run")
def run(
    node_type: Annotated[TypeChoice, typer.Option("--type", help="The node's license type.")],
    keystore: Annotated[
        Path | None, typer.Option(help="Encrypted JSON keystore of the node's key.")] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="File holding the keystore's password.")] = None,
    account: Annotated[
        int | None, typer.Option(help="anvil development account N (chain 31337 only).")] = None,
) -> None:
    """Sign in, prove the license, then run the functions of the node's type until stopped."""
    from node.runtime.node import NodeConfig, run_node

    settings = get_node_settings()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    key, chain_id = key_and_chain(settings, keystore, password_file, account,
                                  "give the node's key as")
    config = NodeConfig(NodeType[node_type.name.upper()], key, chain_id, settings,
                        version("noderr"))
    status = asyncio.run(run_node(config, _say))
    raise typer.Exit(code=int(status))


def _say(line: str) -> None:
    typer.echo(line)
    sys.stdout.flush()


def key_and_chain(settings: NodeSettings, keystore: Path | None, password_file: Path | None,
                  account: int | None, asking: str) -> tuple[NodeKey, int]:
    """The key given exactly one way (keystore + password file, or an anvil account on the
    local chain) and the chain's id; one `error:` line (starting with `asking` when the key is
    not given exactly one way) otherwise."""
    from node.runtime.keys import KeyLoadError, anvil_account, from_keystore

    by_account = account is not None and keystore is None and password_file is None
    by_keystore = account is None and keystore is not None and password_file is not None
    if not (by_account or by_keystore):
        raise fail(f"{asking} --keystore FILE --password-file FILE (or, on the local chain "
                   "only, --account N)")
    chain_id = _chain_id(settings)
    try:
        key = (anvil_account(account, chain_id) if by_account  # type: ignore[arg-type]
               else from_keystore(keystore, password_file))  # type: ignore[arg-type]
    except KeyLoadError as error:
        raise fail(str(error)) from None
    return key, chain_id


def _chain_id(settings: NodeSettings) -> int:
    try:
        return int(call(settings.rpc_url, "eth_chainId"), 16)
    except (JsonRpcError, TypeError, ValueError) as error:
        raise fail(f"cannot read the chain id from {settings.rpc_url}: {error}") from None


@node_app.command("functions")
def functions(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """The 55 node functions: name, node type, category, description."""
    rows = [{"name": spec.name, "node_type": spec.node_type.label, "category": spec.category,
             "description": spec.description} for spec in CATALOGUE]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        typer.echo(f"{row['node_type']:<9}  {row['name']:<{width}}  {row['category']:<31}  "
                   f"{row['description']}")


def bus(
    url: Annotated[str | None, typer.Option(help="nats:// URL to serve [env NODERR_BUS_URL].")]
    = None,
) -> None:
    """Run the node network's message bus (NATS with JetStream) in the foreground."""
    from node.bus.server import run_server
    from node.bus.settings import get_bus_settings

    settings = get_bus_settings()
    try:
        status = run_server(url or settings.bus_url, settings.store_dir())
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    raise typer.Exit(code=status)
