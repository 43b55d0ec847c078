"""The FastAPI application: `create_app(...)` wires settings, database and chain (and writes
the function catalogue at start), the one place every route is registered, the request-body
limit and the NUL-free text guard."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api import errors, openapi, rate_limits
from backend.api.csrf import CsrfGuard
from backend.api.metrics import RequestMetrics
from backend.api.routes import (
    applications,
    auditor,
    auth,
    batch,
    health,
    metrics,
    network,
    nodes,
    rounds,
    trading,
    typeform,
    vault,
)
from backend.api.text_guard import TextGuard
from backend.api.vault_access import AnonymousGate
from backend.caller_cache import CallerCache
from backend.chain_client import ChainClient
from backend.context import Backend
from backend.database import Database
from backend.message_retention import RetentionSettings
from backend.minter import load_minter
from backend.network import seed_catalogue
from backend.periodic_prune import PeriodicPrune
from backend.session_key import load_or_create
from backend.settings import BackendSettings
from backend.siwe_auth import SiweConfig
from backend.stop_signals import set_on_stop_signals
from indexer.settings import IndexerSettings
from noderr.deployment import Deployment

ROUTERS = (health.router, vault.router, metrics.router, nodes.router, auth.router,
           batch.router, applications.router, typeform.router, auditor.router, network.router,
           rounds.router, trading.router)
"""Every route of the API, in matching order. FastAPI tries routes one by one: the vault's
routes (no other path starts with /vault/) come second, so a vault read no longer walks the
thirty routes before them. With the vault last, route matching was 23% of a read's time in a
cProfile of `make bench-vault`'s reads; second, 11%."""


class BodyLimit:
    """413 for a request body over `limit` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            return await self._reject(send, declared)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await self._reject(send, b"streamed")

    async def _reject(self, send: Send, declared: bytes) -> None:
        reason = (f"request body over {self.limit} bytes" if declared.isdigit()
                  or declared == b"streamed" else "bad Content-Length header")
        status = 413 if declared.isdigit() or declared == b"streamed" else 400
        response = JSONResponse({"detail": reason}, status_code=status)
        await response({"type": "http"}, _empty_receive, send)


class BodyTooLarge(Exception):
    pass


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


CATALOGUE_WAIT_SECONDS = 15.0
"""How long start-up waits for the function catalogue to be written before it serves anyway
(the writing goes on in the background while the database does not answer)."""


def freeze_startup_heap() -> None:
    """For a server process, once its app is built: move everything allocated until now
    (web3, eth-abi, pydantic and FastAPI internals: over a hundred thousand objects) out of
    the garbage collector's sight; a full collection otherwise walks them all, a pause of
    about 0.1 s that stalls every request in flight."""
    gc.collect()
    gc.freeze()


def create_app(settings: BackendSettings, deployment: Deployment, database_url: str,
               rpc_url: str, max_lag_blocks: int | None = None) -> FastAPI:
    """The API for one deployment; the database and chain are opened on startup, and the
    consensus messages pruned in the background (NODERR_CONSENSUS_PRUNE_EVERY_S). The lag
    limit is NODERR_MAX_LAG_BLOCKS unless given.

    Raises MinterError when the server-side minter is configured but cannot be used, and
    SessionKeyError when the session key file cannot be read."""
    minter = load_minter(settings)
    session_key = load_or_create(settings.session_key_path())
    lag_limit = IndexerSettings().max_lag_blocks if max_lag_blocks is None else max_lag_blocks
    retention = RetentionSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = Backend(settings=settings, deployment=deployment,
                          db=Database(database_url, settings.db_pool_size),
                          chain=ChainClient(rpc_url, settings.head_cache_seconds),
                          siwe=SiweConfig.from_settings(settings, deployment.chain_id),
                          callers=CallerCache(database_url, deployment.chain_id),
                          max_lag_blocks=lag_limit, session_key=session_key,
                          minter=minter)
        app.state.backend = backend
        await backend.db.open()
        catalogue = asyncio.create_task(seed_catalogue(backend.db), name="function-catalogue")
        await asyncio.wait({catalogue}, timeout=CATALOGUE_WAIT_SECONDS)
        if catalogue.done():
            catalogue.result()  # a failure other than the database's is a bug: stop here
        if settings.caller_cache:
            await backend.callers.start()
        pruning = PeriodicPrune(database_url, retention.consensus_prune_every_s,
                                retention.consensus_retention_days)
        pruning.start()
        restore_signals = set_on_stop_signals(backend.stopping)
        yield
        restore_signals()
        await pruning.stop()
        catalogue.cancel()
        await asyncio.gather(catalogue, return_exceptions=True)
        await backend.callers.stop()
        await backend.db.close()
        await backend.chain.close()

    app = FastAPI(title="Noderr API", version="0.1.0", lifespan=lifespan,
                  description="SIWE sessions, license-gated endpoints, operator applications "
                              "and the public auditor API of a Noderr deployment.")
    errors.install(app)
    rate_limits.install(app, settings)
    # The last added runs first: the request metrics, the body limit, then NUL-free text,
    # then the cheap refusals.
    app.add_middleware(CsrfGuard, origins=settings.siwe_domains)
    app.add_middleware(AnonymousGate)
    app.add_middleware(TextGuard)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestMetrics)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app)
    return app


def app_from_environment() -> FastAPI:
    """The app of one `noderr api --workers N` worker process, from the NODERR_* variables
    the parent process resolved and checked before starting the workers."""
    from noderr.db import database_url
    from noderr.settings import get_settings

    settings = get_settings()
    if settings.deployment is None:
        raise RuntimeError("NODERR_DEPLOYMENT is not set: start workers with `noderr api`")
    app = create_app(BackendSettings(), Deployment.load(settings.deployment),
                     database_url(settings), settings.rpc_url)
    freeze_startup_heap()
    return app
