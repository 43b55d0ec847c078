"""Every FastAPI dependency of the API, and the Annotated aliases routes declare with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from backend import authz
from backend.caller import Caller
from backend.context import Backend
from backend.errors import CredentialsRejected
from noderr.domain import ADMIN_ROLES, MINTER_ROLE, NodeType

SESSION_COOKIE = "noderr_session"


async def get_backend(request: Request) -> Backend:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread
    hop on every request (the license-gated path spent about a third of its CPU on it)."""
    return request.app.state.backend


BackendDep = Annotated[Backend, Depends(get_backend)]


def presented_token(request: Request) -> str | None:
    """The bearer token if an Authorization header is sent, else the session cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise CredentialsRejected("Authorization header must be 'Bearer <session token>'")
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)


async def current_caller(request: Request, backend: BackendDep) -> Caller:
    """The signed-in caller (401 without a live session)."""
    return await authz.resolve_caller(backend, presented_token(request))


SignedInCaller = Annotated[Caller, Depends(current_caller)]


def license_gate(node_type: NodeType) -> Callable[[Request], Awaitable[Caller]]:
    """Dependency: the caller holds an Active license of `node_type` now.

    It takes the request alone, no sub-dependencies: FastAPI re-inspects every dependency of
    the chain on each request (cache keys, scopes, generator checks), which a cProfile of the
    gated path showed as its largest cost after the database round trip."""

    async def dependency(request: Request) -> Caller:
        backend: Backend = request.app.state.backend
        caller = await authz.resolve_caller(backend, presented_token(request))
        return await authz.require_license(backend, caller, node_type)

    return dependency


def role_gate(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """Dependency: the caller holds one of `roles` on NodeLicense (from the mirror)."""

    async def dependency(caller: SignedInCaller, backend: BackendDep) -> Caller:
        return await authz.require_role(backend, caller, roles)

    return dependency


AdminCaller = Annotated[Caller, Depends(role_gate(*ADMIN_ROLES))]
"""A MINTER or REVOKER holder."""
MinterCaller = Annotated[Caller, Depends(role_gate(MINTER_ROLE))]
