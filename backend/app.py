"""The FastAPI application: `create_app(...)` wires settings, database and chain."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.caller_cache import CallerCache
from backend.chain import Chain
from backend.context import Backend
from backend.database import Database
from backend.minter import load_minter
from backend.settings import BackendSettings
from backend.siwe_auth import SiweConfig
from noderr.deployment import Deployment

log = logging.getLogger("noderr.backend")


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


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
                for item in error.errors()]
    return JSONResponse({"detail": "; ".join(problems) or "invalid request",
                         "errors": [{"loc": list(item["loc"]), "msg": item["msg"]}
                                    for item in error.errors()]}, status_code=422)


def freeze_startup_heap() -> None:
    """For a server process, once its app is built: move everything allocated until now
    (web3, eth-abi, pydantic and FastAPI internals: over a hundred thousand objects) out of
    the garbage collector's sight; a full collection otherwise walks them all, a pause of
    about 0.1 s that stalls every request in flight."""
    gc.collect()
    gc.freeze()


def create_app(settings: BackendSettings, deployment: Deployment, database_url: str,
               rpc_url: str) -> FastAPI:
    """The API for one deployment; the database and chain are opened on startup.

    Raises MinterError when the server-side minter is configured but cannot be used."""
    minter = load_minter(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = Backend(settings=settings, deployment=deployment,
                          db=Database(database_url),
                          chain=Chain(rpc_url, settings.head_cache_seconds),
                          siwe=SiweConfig.from_settings(settings, deployment.chain_id),
                          callers=CallerCache(database_url, deployment.chain_id),
                          minter=minter)
        app.state.backend = backend
        if settings.caller_cache:
            await backend.callers.start()
        yield
        await backend.callers.stop()
        await backend.db.close()
        await backend.chain.close()

    app = FastAPI(title="Noderr API", version="0.1.0", lifespan=lifespan,
                  description="SIWE sessions, license-gated endpoints, operator applications "
                              "and the public auditor API of a Noderr deployment.")
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    _include_routers(app)
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


def _include_routers(app: FastAPI) -> None:
    from backend import (
        application_routes,
        auditor,
        auth_routes,
        batch_routes,
        health,
        node_routes,
        typeform,
    )
    from backend.vault import routes as vault

    for module in (health, node_routes, auth_routes, batch_routes, application_routes, typeform,
                   auditor, vault):
        app.include_router(module.router)
