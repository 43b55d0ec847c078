"""`noderr api` and `noderr typeform-backfill`: registered in noderr_cli/main.py; imports are
lazy so that `noderr --help` stays fast."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from noderr.console import fail

GRACEFUL_SHUTDOWN_S = 3
"""On SIGTERM, requests get this long to finish: a node's license long-poll (up to 30 s) would
otherwise hold the shutdown, and the node re-asks a restarted API at once."""


def api(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC URL [env NODERR_RPC_URL].")] = None,
    deployment: Annotated[
        Path | None, typer.Option(help="Deployment file [env NODERR_DEPLOYMENT].")] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes sharing the port; about one per core.")] = 1,
) -> None:
    """Serve the API (SIWE, gated endpoints, applications, auditor); docs at /docs."""
    import uvicorn
    from pydantic import ValidationError

    from backend.api.app import create_app, freeze_startup_heap
    from backend.minter import MinterError
    from backend.session_key import SessionKeyError
    from backend.settings import BackendSettings
    from indexer.settings import check_lag_settings
    from noderr.service_context import load_service_context

    try:
        settings, mirror = BackendSettings(), check_lag_settings()
    except (ValidationError, ValueError) as error:
        raise fail(f"bad NODERR_* setting: {error}".splitlines()[0]) from None
    context = load_service_context(rpc_url, deployment)
    try:  # built here even for workers: a bad configuration stops us before any fork
        settings.check_for_chain(context.deployment.chain_id)
        app = create_app(settings, context.deployment, context.database_url, context.rpc_url,
                         mirror.max_lag_blocks)
    except (MinterError, SessionKeyError, ValueError) as error:
        raise fail(str(error)) from None
    typer.echo(f"Noderr API on http://{host}:{port} (docs /docs), chain "
               f"{context.deployment.chain_id}, {workers} worker(s)")
    if workers == 1:
        freeze_startup_heap()
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        return
    os.environ.update({"NODERR_RPC_URL": context.rpc_url,
                       "NODERR_DEPLOYMENT": str(context.deployment_path),
                       "NODERR_DATABASE_URL": context.database_url})
    with tempfile.TemporaryDirectory(prefix="noderr-api-metrics-") as metrics_folder:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_folder)  # GET /metrics sums
        uvicorn.run("backend.api.app:app_from_environment", factory=True, workers=workers,
                    host=host, port=port, log_level="info", access_log=False,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)


def typeform_backfill(
    since: Annotated[datetime | None, typer.Option(help="Responses submitted since (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Responses submitted until (UTC).")] = None,
) -> None:
    """Create applications for Typeform responses whose webhook never arrived."""
    from backend.database import Database
    from backend.settings import BackendSettings
    from backend.typeform.intake import backfill
    from backend.typeform.parsing import TypeformError
    from noderr.db import DatabaseError, database_url

    try:
        db_url = database_url()
    except DatabaseError as error:
        raise fail(str(error)) from None

    async def run():
        async with Database(db_url, size=2) as db:
            return await backfill(BackendSettings(), db, since, until)

    try:
        result = asyncio.run(run())
    except TypeformError as error:
        raise fail(str(error)) from None
    typer.echo(f"created {result.created}, already stored {result.already}, "
               f"invalid {len(result.invalid)}")
    for line in result.invalid:
        typer.echo(f"  invalid: {line}")
